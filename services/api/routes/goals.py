"""SMART goals: set, check in, revise, close."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field

from domain.goals import commands as c
from services.api.deps import (
    CommandCtx,
    Cursor,
    Fresh,
    Limit,
    Manager,
    Operator,
    Reader,
    RuntimeDep,
    check_list_scope,
    check_team,
)
from services.api.queries import one, page
from services.api.schemas import (
    CommandAnswer,
    IsoDate,
    Name,
    OptionalText,
    Reason,
    ShortText,
    StrictBody,
    answer,
)

router = APIRouter(tags=["goals"])
ANSWERS: dict[int | str, dict[str, Any]] = {201: {"model": CommandAnswer}}
Number = Annotated[float, Field(allow_inf_nan=False, strict=True)]  # ints, never booleans


class GoalCreate(StrictBody):
    team_id: UUID
    owner_id: UUID
    title: Name
    metric: Name
    baseline: Number
    target: Number
    unit: Annotated[str, Field(min_length=1, max_length=50)]
    deadline: IsoDate
    goal_id: UUID | None = None


class CheckInBody(StrictBody):
    value: Number
    note: OptionalText = ""


class TargetBody(StrictBody):
    target: Number
    reason: Reason


class CloseBody(StrictBody):
    outcome: Literal["achieved", "missed", "abandoned"]
    note: OptionalText = ""


@router.post("/v1/goals", status_code=201, responses=ANSWERS)
def set_goal(body: GoalCreate, grant: Manager, ctx: CommandCtx, rt: RuntimeDep) -> Any:
    """Set a SMART goal for a team."""
    check_team(grant, body.team_id)
    return answer(rt.goals.set_goal(c.SetGoal(
        body.team_id, body.owner_id, body.title, body.metric, body.baseline, body.target,
        body.unit, body.deadline, body.goal_id,
    ), ctx))


@router.post("/v1/goals/{goal_id}/check-ins", response_model=CommandAnswer)
def check_in(goal_id: UUID, body: CheckInBody, grant: Operator, ctx: CommandCtx,
             rt: RuntimeDep) -> Any:
    """Record progress on an open goal."""
    return answer(rt.goals.check_in(c.CheckIn(goal_id, body.value, body.note), ctx))


@router.post("/v1/goals/{goal_id}/target", response_model=CommandAnswer)
def revise_target(goal_id: UUID, body: TargetBody, grant: Manager, ctx: CommandCtx,
                  rt: RuntimeDep) -> Any:
    """Revise a goal's target (a reason is required; the old target is kept)."""
    return answer(rt.goals.revise_target(c.ReviseTarget(goal_id, body.target, body.reason), ctx))


@router.post("/v1/goals/{goal_id}/close", response_model=CommandAnswer)
def close_goal(goal_id: UUID, body: CloseBody, grant: Manager, ctx: CommandCtx,
               rt: RuntimeDep) -> Any:
    """Close a goal as achieved, missed or abandoned."""
    return answer(rt.goals.close(c.CloseGoal(goal_id, body.outcome, body.note), ctx))


@router.get("/v1/goals")
def list_goals(
    grant: Reader, rt: RuntimeDep, _: Fresh, team_id: UUID | None = None,
    status: Annotated[ShortText | None, Query()] = None, limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Goals with progress, filtered by team and status."""
    check_list_scope(grant, team_id)
    filters = {"team_id": str(team_id) if team_id else None, "status": status}
    return page(rt, "goals", filters, limit=limit, cursor=cursor, order_by="set_at")


@router.get("/v1/goals/{goal_id}")
def get_goal(goal_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """One goal with its progress, check-ins and target revisions."""
    goal = one(rt, "goals", str(goal_id), "goal")
    check_team(grant, goal["team_id"])
    return goal
