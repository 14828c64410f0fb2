"""Customer, peer and manager feedback."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field

from domain.feedback import commands as c
from services.api.deps import (
    CommandCtx,
    Cursor,
    Fresh,
    Limit,
    Operator,
    Reader,
    RuntimeDep,
    check_list_scope,
    check_team,
)
from services.api.queries import one, page
from services.api.schemas import CommandAnswer, Name, StrictBody, Text, answer

router = APIRouter(tags=["feedback"])
ANSWERS: dict[int | str, dict[str, Any]] = {201: {"model": CommandAnswer}}
Kind = Literal["customer", "peer", "manager"]


class FeedbackCreate(StrictBody):
    kind: Kind
    team_id: UUID
    text: Text
    subject_member_id: UUID | None = None
    channel: Name | None = None
    score: Annotated[int, Field(ge=0, le=10, strict=True)] | None = None
    feedback_id: UUID | None = None


class TriageBody(StrictBody):
    priority: Literal["low", "medium", "high", "urgent"]
    owner_id: UUID


class ResolveBody(StrictBody):
    resolution: Text


@router.post("/v1/feedback", status_code=201, responses=ANSWERS)
def give_feedback(body: FeedbackCreate, grant: Operator, ctx: CommandCtx,
                  rt: RuntimeDep) -> Any:
    """Record customer feedback, or peer/manager feedback about a member."""
    check_team(grant, body.team_id)
    return answer(rt.feedback.give(c.GiveFeedback(
        body.kind, body.team_id, body.text, body.subject_member_id, body.channel, body.score,
        body.feedback_id,
    ), ctx))


@router.post("/v1/feedback/{feedback_id}/triage", response_model=CommandAnswer)
def triage(feedback_id: UUID, body: TriageBody, grant: Operator, ctx: CommandCtx,
           rt: RuntimeDep) -> Any:
    """Give feedback a priority and an owner."""
    return answer(rt.feedback.triage(
        c.TriageFeedback(feedback_id, body.priority, body.owner_id), ctx))


@router.post("/v1/feedback/{feedback_id}/resolve", response_model=CommandAnswer)
def resolve(feedback_id: UUID, body: ResolveBody, grant: Operator, ctx: CommandCtx,
            rt: RuntimeDep) -> Any:
    """Resolve triaged feedback."""
    return answer(rt.feedback.resolve(c.ResolveFeedback(feedback_id, body.resolution), ctx))


@router.get("/v1/feedback")
def list_feedback(
    grant: Reader, rt: RuntimeDep, _: Fresh, team_id: UUID | None = None,
    kind: Annotated[Kind | None, Query()] = None, limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """Feedback items, oldest first."""
    check_list_scope(grant, team_id)
    filters = {"team_id": str(team_id) if team_id else None, "kind": kind}
    return page(rt, "feedback", filters, limit=limit, cursor=cursor, order_by="received_at")


@router.get("/v1/feedback/{feedback_id}")
def get_feedback(feedback_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """One feedback item."""
    item = one(rt, "feedback", str(feedback_id), "feedback")
    check_team(grant, item["team_id"])
    return item
