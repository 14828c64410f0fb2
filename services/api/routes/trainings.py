"""Trainings: define (required for roles; it assigns itself), assign to a member (due by
a date), complete (with a link to the evidence); the trainings and the team's matrix."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from domain.envelope import iso_time
from domain.people import commands as c
from projections.people_standing import matrix
from services.api.acting_for import require_self_or_manager
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
from services.api.models.common import CommandAnswer, answer
from services.api.models.people import (
    TrainingAssign,
    TrainingComplete,
    TrainingDefine,
    TrainingMatrixPublic,
    TrainingsPublic,
)
from services.api.queries import page

router = APIRouter(tags=["people"])


@router.post("/v1/trainings", status_code=201)
def define(body: TrainingDefine, grant: Manager, ctx: CommandCtx, rt: RuntimeDep,
           response: Response) -> CommandAnswer:
    """Define a training of a team; it assigns itself to the team's members in the roles
    it is required for (due in 30 days), and to every member who takes one later."""
    check_team(grant, body.team_id)
    return answer(rt.people.define_training(c.DefineTraining(
        body.team_id, body.title, body.required_for_roles, body.valid_for_days,
        body.training_id), ctx), response)


@router.post("/v1/members/{member_id}/trainings", status_code=201)
def assign(member_id: UUID, body: TrainingAssign, grant: Manager, ctx: CommandCtx,
           rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Assign a training of the member's team, due by a date. Answers the training's id
    and version (``If-Match`` is the training's)."""
    return answer(rt.people.assign_training(c.AssignTraining(
        member_id, body.training_id, body.due), ctx), response)


@router.post("/v1/members/{member_id}/trainings/{training_id}/complete")
def complete(member_id: UUID, training_id: UUID, body: TrainingComplete, grant: Operator,
             ctx: CommandCtx, rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Record that the member completed an assigned training, with its evidence. A
    member records only their own; a lead or an admin anyone's."""
    require_self_or_manager(grant, member_id, rt, "a completed training")
    return answer(rt.people.complete_training(c.CompleteTraining(
        member_id, training_id, body.completed_at, body.evidence), ctx), response)


# Declared before any /v1/trainings/{...} route could take "matrix" for an id.
@router.get("/v1/trainings/matrix")
def training_matrix(team_id: UUID, grant: Reader, rt: RuntimeDep,
                    _: Fresh) -> TrainingMatrixPublic:
    """Every active member of the team x every training of the team: assigned, due,
    done, expired (and overdue), as of now."""
    check_team(grant, team_id)
    now = datetime.now(UTC)
    team = str(team_id)
    trainings = rt.store.iter_find("trainings", {"team_id": team}, order_by="defined_at")
    members = rt.store.iter_find("members", {"team_id": team})
    return TrainingMatrixPublic.model_validate({
        "team_id": team, "as_of": iso_time(now),
        "members": matrix(trainings, members, team, now)})


@router.get("/v1/trainings", response_model=TrainingsPublic,
            response_model_exclude_unset=True)
def list_trainings(grant: Reader, rt: RuntimeDep, _: Fresh, team_id: UUID | None = None,
                   limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    """The trainings with every assignment, oldest first."""
    check_list_scope(grant, team_id)
    return page(rt, "trainings", {"team_id": str(team_id) if team_id else None},
                limit=limit, cursor=cursor, order_by="defined_at")
