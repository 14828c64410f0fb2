"""Trainings and policies: the bodies of their commands, and the trainings, training
matrix and policy documents."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from domain.people.policy import LINK, MAX_VERSION
from domain.people.training import MAX_ROLES, MAX_VALID_FOR_DAYS
from services.api.models.common import (
    CommandBody,
    IsoDate,
    Name,
    ReadDocument,
    UtcDateTime,
)

Link = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000,
                                        pattern=LINK.pattern)]
"""An http(s) link (a document, or the evidence of a completion)."""
Sha256 = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                          pattern=r"^[0-9a-fA-F]{64}$")]

# -- requests -------------------------------------------------------------------------


class TrainingDefine(CommandBody):
    team_id: UUID
    title: Name
    required_for_roles: Annotated[list[Name], Field(
        default_factory=list, max_length=MAX_ROLES,
        description="the roles that require it: it assigns itself to the team's members "
                    "in them, now and whenever a member takes one")]
    valid_for_days: int | None = Field(
        default=None, ge=1, le=MAX_VALID_FOR_DAYS, strict=True,
        description="how long a completion stays valid (null: for good)")
    training_id: UUID | None = None


class TrainingAssign(CommandBody):
    training_id: UUID = Field(description="a training of the member's team")
    due: IsoDate = Field(description="the date it is due by (not in the past)")


class TrainingComplete(CommandBody):
    completed_at: UtcDateTime = Field(description="when it was completed: the event's "
                                                  "business time (occurred_at, if given, "
                                                  "must be the same)")
    evidence: Link = Field(description="a link to the certificate or record")


class PolicyPublish(CommandBody):
    team_id: UUID
    title: Name = Field(description="the policy's name in its team: a title the team "
                                    "already has publishes a new version of that policy")
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=MAX_VERSION)]
    document: Link
    sha256: Sha256 = Field(description="the SHA-256 of the document, in hexadecimal")


class PolicyAcknowledge(CommandBody):
    policy_id: UUID = Field(description="a policy of the member's team")
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=MAX_VERSION)] = Field(
        description="the version in force (a superseded one is refused)")


# -- answers --------------------------------------------------------------------------


class AssignmentPublic(ReadDocument):
    member_id: str
    due: str
    required_for_role: str | None
    assigned_at: str
    completed_at: str | None
    evidence: str | None


class TrainingPublic(ReadDocument):
    """A training with every assignment of it (one per assignment, in order)."""

    id: str
    team_id: str
    title: str
    required_for_roles: list[str]
    valid_for_days: int | None
    assignments: list[AssignmentPublic]
    defined_at: str
    version: int
    event_ids: list[str]


class TrainingsPublic(BaseModel):
    items: list[TrainingPublic]
    next_cursor: str | None


class MatrixCell(BaseModel):
    training_id: str
    title: str | None
    required: bool = Field(description="whether the member's role requires it")
    assigned: bool
    due: str | None
    done: bool = Field(description="completed (since its latest assignment)")
    completed_at: str | None
    valid_until: str | None
    expired: bool = Field(description="completed, and no longer valid")
    overdue: bool = Field(description="assigned, not done, past its due date")


class MatrixRow(BaseModel):
    member_id: str
    name: str | None
    role: str | None
    trainings: list[MatrixCell]


class TrainingMatrixPublic(BaseModel):
    """Every active member of the team x every training of the team, as of ``as_of``."""

    team_id: str
    as_of: str
    members: list[MatrixRow]


class AcknowledgementPublic(ReadDocument):
    member_id: str
    at: str
    actor: str


class PolicyVersionPublic(ReadDocument):
    version: str
    document: str
    sha256: str
    published_at: str
    supersedes: str | None
    superseded_at: str | None
    acknowledgements: list[AcknowledgementPublic]
    pending: list[str] = Field(description="active members of the team who have not "
                                           "acknowledged it (the version in force only)")


class TeamPolicyPublic(ReadDocument):
    """A team's policy: the version in force, and every version with its
    acknowledgements."""

    id: str
    team_id: str
    title: str
    current_version: str = Field(description="the label of the version in force")
    document: str
    sha256: str
    published_at: str
    versions: list[PolicyVersionPublic]
    first_published_at: str
    version: int = Field(description="the policy's version in the ledger (If-Match)")
    event_ids: list[str]


class TeamPoliciesPublic(BaseModel):
    items: list[TeamPolicyPublic]
    next_cursor: str | None
