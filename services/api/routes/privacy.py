"""Erasure of a data subject's personal data (crypto-shredding), admin only.

The answer (``201``) is the erasure's command answer: its id (the aggregate of the
``PersonalDataErased`` event, derived from the subject), version 1, and the position of
the event. A subject is erased once: a second request is a 409.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from domain.privacy.service import ErasureService
from services.api.bootstrap import Runtime
from services.api.deps import Admin, CaughtUp, CommandCtx, RuntimeDep
from services.api.models.common import CommandAnswer, answer
from services.api.models.privacy import CustomerErase, PersonalDataErase
from services.api.problems import ProblemError

router = APIRouter(tags=["privacy"])


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
