"""What can be asked of trainings and policies: imperative, validated at the edge,
checked by the aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class DefineTraining:
    team_id: UUID
    title: str
    required_for_roles: Sequence[str]
    valid_for_days: int | None
    training_id: UUID | None = None


@dataclass(frozen=True)
class AssignTraining:
    member_id: UUID
    training_id: UUID
    due: str


@dataclass(frozen=True)
class CompleteTraining:
    member_id: UUID
    training_id: UUID
    completed_at: datetime
    evidence: str


@dataclass(frozen=True)
class PublishPolicy:
    """Publish a policy, or a new version of the team's policy of that title."""

    team_id: UUID
    title: str
    version: str
    document: str
    sha256: str


@dataclass(frozen=True)
class AcknowledgePolicy:
    member_id: UUID
    policy_id: UUID
    version: str
