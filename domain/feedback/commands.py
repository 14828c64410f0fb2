"""What can be asked of feedback: imperative, validated at the edge, checked by the aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.feedback.aggregate import Customer


@dataclass(frozen=True)
class GiveFeedback:
    kind: str
    team_id: UUID
    text: str
    subject_member_id: UUID | None = None
    channel: str | None = None
    score: int | None = None
    feedback_id: UUID | None = None
    customer: Customer | None = None


@dataclass(frozen=True)
class TriageFeedback:
    feedback_id: UUID
    priority: str
    owner_id: UUID


@dataclass(frozen=True)
class ResolveFeedback:
    feedback_id: UUID
    resolution: str
