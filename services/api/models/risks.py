"""Risks and contingency plans: the bodies of their commands (and of an incident's
links to them), and the register, heat map and plan documents."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.risks.aggregate import Category, Status, Treatment
from domain.risks.plan import MAX_PARTICIPANTS, MAX_STEPS
from services.api.models.common import (
    CommandBody,
    IsoDate,
    Name,
    OptionalText,
    ReadDocument,
    Reason,
    StrictBody,
    UtcDateTime,
)

Rating = Annotated[int, Field(ge=1, le=5, strict=True)]
"""A likelihood or an impact: a whole number from 1 to 5."""

# -- requests -------------------------------------------------------------------------


class RiskIdentify(CommandBody):
    team_id: UUID
    title: Name
    category: Category
    likelihood: Rating
    impact: Rating
    owner_id: UUID = Field(description="an active member of the team")
    review_by: IsoDate = Field(description="the date of its first review (not in the past)")
    risk_id: UUID | None = None


class RiskAssess(CommandBody):
    likelihood: Rating
    impact: Rating
    residual_likelihood: Rating = Field(description="once its controls work")
    residual_impact: Rating = Field(description="once its controls work; the residual "
                                                "score may not exceed the inherent one")
    note: OptionalText = ""
    review_by: IsoDate | None = Field(
        default=None, description="the next review (default: as many days after this one "
                                  "as the previous review date was after its own)")


class RiskTreat(CommandBody):
    treatment: Treatment
    plan: OptionalText = Field(default="", description="required but for accept")
    reason: Reason


class RiskAccept(CommandBody):
    approver_id: UUID = Field(description="an active member who is not the risk's owner")
    reason: Reason


class RiskClose(CommandBody):
    reason: Reason


class PlanStep(StrictBody):
    title: Name
    role: Name = Field(description="the role responsible for the step")


Steps = Annotated[list[PlanStep], Field(min_length=1, max_length=MAX_STEPS)]


class PlanDraft(CommandBody):
    team_id: UUID
    title: Name
    risk_ids: Annotated[list[UUID], Field(min_length=1, max_length=100,
                                          description="risks of the same team")]
    steps: Steps
    owner_id: UUID = Field(description="an active member of the team")
    plan_id: UUID | None = None


class PlanRevise(CommandBody):
    steps: Steps
    reason: Reason


class PlanExercise(CommandBody):
    held_at: UtcDateTime = Field(description="when the drill was held: the event's "
                                             "business time (occurred_at, if given, must "
                                             "be the same)")
    participants: Annotated[list[UUID], Field(min_length=1, max_length=MAX_PARTICIPANTS,
                                              description="member ids, each once")]
    outcome: Reason
    lessons: OptionalText = ""


class IncidentLink(CommandBody):
    risk_id: UUID | None = Field(default=None, description="the risk that foresaw it")
    plan_id: UUID | None = Field(default=None, description="the plan used for it")
    plan_followed: bool | None = Field(
        default=None, strict=True, description="whether the plan was followed: required "
                                               "with plan_id, refused without")


# -- answers --------------------------------------------------------------------------


class RiskAssessmentPublic(ReadDocument):
    likelihood: int
    impact: int
    residual_likelihood: int
    residual_impact: int
    inherent_score: int
    residual_score: int
    note: str
    due_by: str | None
    review_by: str | None
    at: str
    actor: str
    event_id: str


class RiskTreatmentPublic(ReadDocument):
    treatment: Treatment
    plan: str
    reason: str
    at: str
    actor: str
    event_id: str


class RiskAcceptancePublic(ReadDocument):
    approver_id: str
    reason: str
    at: str
    actor: str
    event_id: str
    residual_score: int


class RiskIncidentPublic(ReadDocument):
    incident_id: str
    plan_id: str | None
    plan_followed: bool | None
    at: str
    actor: str
    event_id: str


class CoveringPlanPublic(BaseModel):
    id: str
    title: str
    plan_version: int
    last_exercised_at: str | None


class RiskPublic(ReadDocument):
    """A risk in the register: inherent and residual ratings and scores, every review,
    its treatment, the approval of its acceptance, the plans that cover it and the
    incidents it foresaw."""

    id: str
    team_id: str
    title: str
    category: Category
    owner_id: str
    status: Status
    likelihood: int
    impact: int
    inherent_score: int
    residual_likelihood: int
    residual_impact: int
    residual_score: int
    review_by: str
    reviewed_at: str | None
    assessments: list[RiskAssessmentPublic]
    treatment: RiskTreatmentPublic | None
    treatments: list[RiskTreatmentPublic]
    acceptance: RiskAcceptancePublic | None
    acceptances: list[RiskAcceptancePublic]
    plans: list[CoveringPlanPublic]
    incidents: list[RiskIncidentPublic]
    identified_at: str
    closed_at: str | None
    closing_reason: str | None
    version: int
    event_ids: list[str]


class RisksPublic(BaseModel):
    items: list[RiskPublic]
    next_cursor: str | None


class HeatmapCell(BaseModel):
    likelihood: int
    impact: int
    score: int
    inherent: int = Field(description="risks rated this likelihood x impact before controls")
    residual: int = Field(description="risks rated this likelihood x impact after controls")


class HeatmapPublic(BaseModel):
    """Counts of the open (not closed) risks by likelihood x impact, all 25 cells."""

    team_id: str | None
    risks: int
    cells: list[HeatmapCell]


class PlanVersionPublic(ReadDocument):
    plan_version: int
    steps: list[dict[str, Any]]
    reason: str | None
    at: str
    actor: str
    event_id: str


class PlanExercisePublic(ReadDocument):
    held_at: str
    plan_version: int
    participants: list[str]
    outcome: str
    lessons: str
    actor: str
    event_id: str


class PlanIncidentPublic(ReadDocument):
    incident_id: str
    risk_id: str | None
    plan_followed: bool
    at: str
    actor: str
    event_id: str


class PlanPublic(ReadDocument):
    """A contingency plan with its steps now, every version and every drill."""

    id: str
    team_id: str
    title: str
    risk_ids: list[str]
    owner_id: str
    plan_version: int
    steps: list[dict[str, Any]]
    versions: list[PlanVersionPublic]
    exercises: list[PlanExercisePublic]
    last_exercised_at: str | None
    incidents: list[PlanIncidentPublic]
    drafted_at: str
    version: int
    event_ids: list[str]


class PlansPublic(BaseModel):
    items: list[PlanPublic]
    next_cursor: str | None
