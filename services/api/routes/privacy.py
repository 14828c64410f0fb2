"""Erasure of a data subject's personal data (crypto-shredding), admin only; and the
opening of sealed values for services that read them on the Kafka topics.

The answer (``201``) is the erasure's command answer: its id (the aggregate of the
``PersonalDataErased`` event, derived from the subject), version 1, and the position of
the event. A subject is erased once: a second request is a 409.
"""

from __future__ import annotations

import logging
from uuid import UUID

from fastapi import APIRouter, Response

from domain.privacy.service import ErasureService
from domain.teams.directory import MemberDirectory
from infra.event_store import key_store
from infra.personal.disclosure import UnopenableValueError, disclose
from services.api.bootstrap import Runtime
from services.api.deps import Admin, CaughtUp, CommandCtx, PersonalDataReader, RuntimeDep
from services.api.models.common import CommandAnswer, answer
from services.api.models.privacy import (
    CustomerErase,
    PersonalDataErase,
    PersonalDataReveal,
    PersonalDataRevealed,
)
from services.api.problems import ProblemError

router = APIRouter(tags=["privacy"])
log = logging.getLogger("opsledger.personal_data")


def _erasures(rt: Runtime) -> ErasureService:
    if rt.erasures is None:  # pragma: no cover - every served ledger has a key store
        raise ProblemError(409, "this ledger keeps no personal data keys: nothing to erase")
    return rt.erasures


@router.post("/v1/members/{member_id}/erase", status_code=201)
def erase_member(member_id: UUID, body: PersonalDataErase, _: Admin, ctx: CommandCtx,
                 rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Erase a member's personal data (name, email): their key is deleted, so every
    answer, export, replay and rebuild shows ``"[erased]"`` for those fields from now
    on. The rest of the history stays and the chain still verifies. ``404``: no such
    member; ``409``: already erased, or under a legal hold (``hold_id``, ``hold_reason``)
    on the member or on a team they are or were on."""
    return answer(_erasures(rt).erase_member(member_id, body.reason, ctx), response)


@router.post("/v1/customers/erase", status_code=201)
def erase_customer(body: CustomerErase, _: Admin, ctx: CommandCtx, rt: RuntimeDep,
                   response: Response, __: CaughtUp) -> CommandAnswer:
    """Erase the personal data of the customer known by ``email`` (who they are, and the
    words of their feedback). An admin of every team only. ``404``: no feedback named
    that address (nothing else is said about it); ``409``: already erased, or under a
    legal hold (``hold_id``) on the customer or on a team that received their feedback
    (read from the feedback read models, so the command waits until they are up to
    date)."""
    return answer(_erasures(rt).erase_customer(body.email, body.reason, ctx), response)


@router.post("/v1/personal-data/reveal")
def reveal_personal_data(body: PersonalDataReveal, grant: PersonalDataReader,
                         rt: RuntimeDep, response: Response) -> PersonalDataRevealed:
    """Open sealed personal values (``pii:v1:...``) taken from the Kafka topics, for a
    service subscribed to them: roles admin, personal-data-reader. Up to 500 values; the
    answer keeps their order: the plaintext, ``"[erased]"``, or ``null`` for a value
    this token may not open (team scope: a member of another team; a customer, unless
    the token is for every team). ``422``: a value that is not one whole sealed value,
    or that does not open with its subject's key. Nothing is recorded in the ledger;
    each call is logged (principal and counts, never a value)."""
    keys = key_store(rt.ledger)
    if keys is None:  # pragma: no cover - every served ledger has a key store
        raise ProblemError(409, "this ledger keeps no personal data keys: nothing is sealed")
    directory = MemberDirectory.of(rt.ledger)

    def team_of(member_id: str) -> str | None:
        member = directory.member(member_id)
        return None if member is None else member.team_id

    try:
        disclosed = disclose(grant, body.values, keys, team_of)
    except UnopenableValueError as e:
        raise ProblemError(422, str(e)) from None
    log.info("personal data revealed for %s: %d opened, %d erased, %d refused",
             grant.principal, disclosed.opened, disclosed.erased, disclosed.refused)
    response.headers["Cache-Control"] = "no-store"
    return PersonalDataRevealed(values=disclosed.values)
