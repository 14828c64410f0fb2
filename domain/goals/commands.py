"""What can be asked of a goal: imperative, validated at the edge, checked by the aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class SetGoal:
    team_id: UUID
    owner_id: UUID
    title: str
    metric: str
    baseline: float
    target: float
    unit: str
    deadline: str
    goal_id: UUID | None = None


@dataclass(frozen=True)
class CheckIn:
    goal_id: UUID
    value: float
    note: str = ""


@dataclass(frozen=True)
class ReviseTarget:
    goal_id: UUID
    target: float
    reason: str


@dataclass(frozen=True)
class CloseGoal:
    goal_id: UUID
    outcome: str
    note: str = ""
