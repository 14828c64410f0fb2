"""Customer, peer and manager feedback."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from domain.feedback import commands as c
from domain.feedback.aggregate import Kind
from services.api.deps import (
    CommandCtx,
    Cursor,
    Limit,
    Operator,
    RuntimeDep,
    check_list_scope,
    check_team,
)
from services.api.models.common import CommandAnswer, answer
from services.api.models.feedback import (
    FeedbackGive,
    FeedbackItemsPublic,
    FeedbackPublic,
    FeedbackResolve,
    FeedbackTriage,
)
from services.api.queries import in_thread, json_answer, one, page, read
from services.api.reading import FreshRead

router = APIRouter(tags=["feedback"])


@router.post("/v1/feedback", status_code=201)
async def give_feedback(body: FeedbackGive, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
                        response: Response) -> CommandAnswer:
    """Record customer feedback, or peer/manager feedback about a member."""
    check_team(grant, body.team_id)
    command = c.GiveFeedback(
        body.kind, body.team_id, body.text, body.subject_member_id, body.channel, body.score,
        body.feedback_id,
        None if body.customer is None else {"name": body.customer.name,
                                            "email": body.customer.email},
    )
    return answer(await in_thread(rt.feedback.give, command, ctx), response)


@router.post("/v1/feedback/{feedback_id}/triage")
async def triage(feedback_id: UUID, body: FeedbackTriage, grant: Operator, ctx: CommandCtx,
                 rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Give feedback a priority and an owner."""
    command = c.TriageFeedback(feedback_id, body.priority, body.owner_id)
    return answer(await in_thread(rt.feedback.triage, command, ctx), response)


@router.post("/v1/feedback/{feedback_id}/resolve")
async def resolve(feedback_id: UUID, body: FeedbackResolve, grant: Operator, ctx: CommandCtx,
                  rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Resolve triaged feedback."""
    command = c.ResolveFeedback(feedback_id, body.resolution)
    return answer(await in_thread(rt.feedback.resolve, command, ctx), response)


@router.get("/v1/feedback", response_model=FeedbackItemsPublic,
            response_model_exclude_unset=True)
async def list_feedback(
    reader: FreshRead, team_id: UUID | None = None,
    kind: Annotated[Kind | None, Query()] = None, limit: Limit = 50, cursor: Cursor = None,
) -> Response:
    """Feedback items, oldest first."""
    grant, rt = reader.grant, reader.runtime
    check_list_scope(grant, team_id)
    filters = {"team_id": str(team_id) if team_id else None, "kind": kind}
    return json_answer(await read(rt, lambda: page(
        rt, "feedback", filters, limit=limit, cursor=cursor, order_by="received_at")))


@router.get("/v1/feedback/{feedback_id}", response_model=FeedbackPublic,
            response_model_exclude_unset=True)
async def get_feedback(feedback_id: UUID, reader: FreshRead) -> Response:
    """One feedback item."""
    grant, rt = reader.grant, reader.runtime
    item = await read(rt, one, rt, "feedback", str(feedback_id), "feedback")
    check_team(grant, item["team_id"])
    return json_answer(item)
