"""Legal holds: while one is active, the personal data it covers may not be erased
(an erasure is a 409 naming the hold). Placing and releasing are for admins (a
team-scoped admin: its own teams and their members; customers take every team);
admins and auditors read them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from domain.ledger import CommandResult
from domain.privacy.hold import LegalHold
from domain.privacy.holds import HoldTarget, LegalHoldService
from infra.auth import Grant
from projections.views.legal_holds import scope_of
from services.api.bootstrap import Runtime
from services.api.deps import (
    Admin,
    CommandCtx,
    Cursor,
    Fresh,
    Limit,
    RuntimeDep,
    allow,
    may_see_record,
    team_scope,
)
from services.api.models.common import answer
from services.api.models.privacy import (
    LegalHoldAnswer,
    LegalHoldPlace,
    LegalHoldPublic,
    LegalHoldRelease,
    LegalHoldsPublic,
    MemberHoldSubject,
    TeamHoldPlace,
)
from services.api.problems import ProblemError
from services.api.queries import one, page

router = APIRouter(tags=["privacy"])

HoldReader = Annotated[Grant, Depends(allow("admin", "auditor"))]


def _holds(rt: Runtime) -> LegalHoldService:
    if rt.holds is None:  # pragma: no cover - every served ledger has a key store
        raise ProblemError(409, "this ledger keeps no personal data keys: nothing to hold")
    return rt.holds


def _answer(rt: Runtime, result: CommandResult, response: Response) -> dict[str, Any]:
    """The command's answer with the hold as the write side now has it."""
    command = answer(result, response).model_dump()
    hold = rt.ledger.load(LegalHold, result.id)
    return {**command, "hold_id": str(hold.id),
            "scope": scope_of({"scope": hold.scope, "team_id": hold.team_id,
                               "subject_id": hold.subject_id}),
            "team_id": hold.team_id, "reason": hold.reason, "placed_by": hold.placed_by,
            "placed_at": hold.placed_at, "active": hold.active,
            "released_by": hold.released_by, "released_at": hold.released_at,
            "release_reason": hold.release_reason}


@router.post("/v1/legal-holds", status_code=201, response_model=LegalHoldAnswer)
def place_hold(body: LegalHoldPlace, _: Admin, ctx: CommandCtx, rt: RuntimeDep,
               response: Response) -> dict[str, Any]:
    """Place a legal hold on a team or a data subject: erasing what it covers is a 409
    naming the hold until it is released. ``404``: no such team, member or customer
    (the same wording for any address); ``403``: not of the token's teams (a customer
    takes a token of every team); ``409``: the customer was erased already."""
    if isinstance(body, TeamHoldPlace):
        target = HoldTarget(team_id=body.team_id)
    elif isinstance(body.subject, MemberHoldSubject):
        target = HoldTarget(subject_kind="member", member_id=body.subject.member_id)
    else:
        target = HoldTarget(subject_kind="customer", email=body.subject.email)
    return _answer(rt, _holds(rt).place(target, body.reason, ctx), response)


@router.post("/v1/legal-holds/{hold_id}/release", response_model=LegalHoldAnswer)
def release_hold(hold_id: UUID, body: LegalHoldRelease, _: Admin, ctx: CommandCtx,
                 rt: RuntimeDep, response: Response) -> dict[str, Any]:
    """Release a hold: what it covered may be erased again (unless another hold covers
    it). ``404``: unknown; ``409``: released already."""
    return _answer(rt, _holds(rt).release(hold_id, body.reason, ctx), response)


@router.get("/v1/legal-holds", response_model=LegalHoldsPublic,
            response_model_exclude_unset=True)
def list_holds(
    grant: HoldReader, rt: RuntimeDep, _: Fresh,
    active: Annotated[bool | None, Query(description="only active (true) or released "
                                                      "(false) holds")] = None,
    team_id: UUID | None = None, limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """The legal holds, oldest first (a team-scoped token: those of its teams; holds on
    customers are of no team, so only a token of every team sees them)."""
    filters: dict[str, Any] = {**team_scope(grant, team_id), "active": active}
    return page(rt, "legal_holds", filters, limit=limit, cursor=cursor, order_by="placed_at")


@router.get("/v1/legal-holds/{hold_id}", response_model=LegalHoldPublic,
            response_model_exclude_unset=True)
def get_hold(hold_id: UUID, grant: HoldReader, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """One legal hold (another team's, or a customer's for a team-scoped token: 404, as
    an unknown one)."""
    hold = one(rt, "legal_holds", str(hold_id), "legal hold")
    if not may_see_record(grant, hold.get("team_id")):
        raise ProblemError(404, f"legal hold {hold_id} not found")
    return hold
