"""SMART goals: set, check in, revise, close."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from domain.goals import commands as c
from services.api.deps import (
    CommandCtx,
    Cursor,
    Limit,
    Manager,
    Operator,
    RuntimeDep,
    check_list_scope,
    check_team,
)
from services.api.models.common import CommandAnswer, ShortText, answer
from services.api.models.goals import (
    GoalCheckIn,
    GoalClose,
    GoalPublic,
    GoalSet,
    GoalsPublic,
    GoalTargetRevise,
)
from services.api.queries import in_thread, json_answer, one, page, read
from services.api.reading import FreshRead

router = APIRouter(tags=["goals"])


@router.post("/v1/goals", status_code=201)
async def set_goal(body: GoalSet, grant: Manager, ctx: CommandCtx, rt: RuntimeDep,
                   response: Response) -> CommandAnswer:
    """Set a SMART goal for a team."""
    check_team(grant, body.team_id)
    command = c.SetGoal(
        body.team_id, body.owner_id, body.title, body.metric, body.baseline, body.target,
        body.unit, body.deadline, body.goal_id,
    )
    return answer(await in_thread(rt.goals.set_goal, command, ctx), response)


@router.post("/v1/goals/{goal_id}/check-ins")
async def check_in(goal_id: UUID, body: GoalCheckIn, grant: Operator, ctx: CommandCtx,
                   rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Record progress on an open goal."""
    command = c.CheckIn(goal_id, body.value, body.note)
    return answer(await in_thread(rt.goals.check_in, command, ctx), response)


@router.post("/v1/goals/{goal_id}/target")
async def revise_target(goal_id: UUID, body: GoalTargetRevise, grant: Manager, ctx: CommandCtx,
                        rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Revise a goal's target (a reason is required; the old target is kept)."""
    command = c.ReviseTarget(goal_id, body.target, body.reason)
    return answer(await in_thread(rt.goals.revise_target, command, ctx), response)


@router.post("/v1/goals/{goal_id}/close")
async def close_goal(goal_id: UUID, body: GoalClose, grant: Manager, ctx: CommandCtx,
                     rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Close a goal as achieved, missed or abandoned."""
    command = c.CloseGoal(goal_id, body.outcome, body.note)
    return answer(await in_thread(rt.goals.close, command, ctx), response)


@router.get("/v1/goals", response_model=GoalsPublic, response_model_exclude_unset=True)
async def list_goals(
    reader: FreshRead, team_id: UUID | None = None,
    status: Annotated[ShortText | None, Query()] = None, limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Goals with progress, filtered by team and status."""
    grant, rt = reader.grant, reader.runtime
    check_list_scope(grant, team_id)
    filters = {"team_id": str(team_id) if team_id else None, "status": status}
    return json_answer(await read(rt, lambda: page(
        rt, "goals", filters, limit=limit, cursor=cursor, order_by="set_at")))


@router.get("/v1/goals/{goal_id}", response_model=GoalPublic, response_model_exclude_unset=True)
async def get_goal(goal_id: UUID, reader: FreshRead) -> Response:
    """One goal with its progress, check-ins and target revisions."""
    grant, rt = reader.grant, reader.runtime
    goal = await read(rt, one, rt, "goals", str(goal_id), "goal")
    check_team(grant, goal["team_id"])
    return json_answer(goal)
