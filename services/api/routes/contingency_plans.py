"""Contingency plans: draft (steps with the role responsible), revise (a new version,
the old ones kept), exercise (a drill), and the plans with every version and drill."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from domain.risks import commands as c
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
from services.api.models.common import CommandAnswer, answer
from services.api.models.risks import PlanDraft, PlanExercise, PlanPublic, PlanRevise, PlansPublic
from services.api.queries import one, page

router = APIRouter(tags=["risks"])


@router.post("/v1/contingency-plans", status_code=201)
def draft(body: PlanDraft, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
          response: Response) -> CommandAnswer:
    """Draft a contingency plan for risks of one team: who does what when they happen."""
    check_team(grant, body.team_id)
    return answer(rt.risks.draft_plan(c.DraftPlan(
        body.team_id, body.title, body.risk_ids, [s.model_dump() for s in body.steps],
        body.owner_id, body.plan_id), ctx), response)


@router.post("/v1/contingency-plans/{plan_id}/revise")
def revise(plan_id: UUID, body: PlanRevise, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
           response: Response) -> CommandAnswer:
    """New steps: the next version of the plan (every earlier version is kept)."""
    return answer(rt.risks.revise_plan(c.RevisePlan(
        plan_id, [s.model_dump() for s in body.steps], body.reason), ctx), response)


@router.post("/v1/contingency-plans/{plan_id}/exercise")
def exercise(plan_id: UUID, body: PlanExercise, grant: Operator, ctx: CommandCtx,
             rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Record a drill of the plan's current version: when it was held, who took part,
    how it went and what was learnt."""
    return answer(rt.risks.exercise_plan(c.ExercisePlan(
        plan_id, body.held_at, body.participants, body.outcome, body.lessons), ctx), response)


@router.get("/v1/contingency-plans", response_model=PlansPublic,
            response_model_exclude_unset=True)
def list_plans(grant: Reader, rt: RuntimeDep, _: Fresh, team_id: UUID | None = None,
               limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    """Contingency plans with every version and drill, oldest first."""
    check_list_scope(grant, team_id)
    return page(rt, "contingency_plans", {"team_id": str(team_id) if team_id else None},
                limit=limit, cursor=cursor, order_by="drafted_at")


@router.get("/v1/contingency-plans/{plan_id}", response_model=PlanPublic,
            response_model_exclude_unset=True)
def get_plan(plan_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """One contingency plan with every version and drill, and the incidents it was for."""
    plan = one(rt, "contingency_plans", str(plan_id), "contingency plan")
    check_team(grant, plan["team_id"])
    return plan
