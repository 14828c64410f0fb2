"""What can be asked of risks and contingency plans: imperative, validated at the edge,
checked by the aggregates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class IdentifyRisk:
    team_id: UUID
    title: str
    category: str
    likelihood: int
    impact: int
    owner_id: UUID
    review_by: str
    risk_id: UUID | None = None


@dataclass(frozen=True)
class AssessRisk:
    risk_id: UUID
    likelihood: int
    impact: int
    residual_likelihood: int
    residual_impact: int
    note: str = ""
    review_by: str | None = None


@dataclass(frozen=True)
class TreatRisk:
    risk_id: UUID
    treatment: str
    plan: str
    reason: str


@dataclass(frozen=True)
class AcceptRisk:
    risk_id: UUID
    approver_id: UUID
    reason: str


@dataclass(frozen=True)
class CloseRisk:
    risk_id: UUID
    reason: str


@dataclass(frozen=True)
class DraftPlan:
    team_id: UUID
    title: str
    risk_ids: Sequence[UUID]
    steps: Sequence[Mapping[str, Any]]
    owner_id: UUID
    plan_id: UUID | None = None


@dataclass(frozen=True)
class RevisePlan:
    plan_id: UUID
    steps: Sequence[Mapping[str, Any]]
    reason: str


@dataclass(frozen=True)
class ExercisePlan:
    plan_id: UUID
    held_at: datetime
    participants: Sequence[UUID]
    outcome: str
    lessons: str = ""


@dataclass(frozen=True)
class LinkIncident:
    """Link an incident to the risk that foresaw it and/or the plan used for it."""

    incident_id: UUID
    risk_id: UUID | None = None
    plan_id: UUID | None = None
    plan_followed: bool | None = None
