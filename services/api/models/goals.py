"""SMART goals: the bodies of their commands, and the goal documents."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from domain.goals.aggregate import Outcome, Status
from services.api.models.common import (
    CommandBody,
    IsoDate,
    JsonNumber,
    Name,
    Number,
    OptionalText,
    ReadDocument,
    Reason,
)

# -- requests -------------------------------------------------------------------------


class GoalSet(CommandBody):
    team_id: UUID
    owner_id: UUID
    title: Name
    metric: Name
    baseline: Number
    target: Number
    unit: Annotated[str, Field(min_length=1, max_length=50)]
    deadline: IsoDate
    goal_id: UUID | None = None


class GoalCheckIn(CommandBody):
    value: Number
    note: OptionalText = ""


class GoalTargetRevise(CommandBody):
    target: Number
    reason: Reason


class GoalClose(CommandBody):
    outcome: Outcome
    note: OptionalText = ""


# -- answers --------------------------------------------------------------------------


class CheckInPublic(ReadDocument):
    value: JsonNumber
    note: str
    at: str
    actor: str
    event_id: str


class TargetRevisionPublic(ReadDocument):
    old_target: JsonNumber
    new_target: JsonNumber
    reason: str
    at: str
    actor: str
    event_id: str


class GoalPublic(ReadDocument):
    """A goal with its progress, check-ins and target revisions (the old targets kept)."""

    id: str
    team_id: str
    owner_id: str
    title: str
    metric: str
    baseline: JsonNumber
    target: JsonNumber
    unit: str
    deadline: str
    status: Status
    current_value: JsonNumber | None
    progress_pct: JsonNumber | None
    check_ins: list[CheckInPublic]
    target_revisions: list[TargetRevisionPublic]
    set_at: str
    closed_at: str | None
    closing_note: str | None
    version: int
    event_ids: list[str]


class GoalsPublic(BaseModel):
    items: list[GoalPublic]
    next_cursor: str | None
