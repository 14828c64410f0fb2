"""Feedback: the bodies of its commands, and the feedback documents."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from domain.feedback.aggregate import Kind, Priority
from services.api.models.common import CommandBody, Email, Name, ReadDocument, Text

# -- requests -------------------------------------------------------------------------


class CustomerIdentity(CommandBody):
    """Who gave customer feedback: personal data, stored encrypted under a key of that
    customer's (known by the email) and erased with ``POST /v1/customers/erase``."""

    name: Name
    email: Email


class CustomerPublic(BaseModel):
    name: str
    email: str


class FeedbackGive(CommandBody):
    kind: Kind
    team_id: UUID
    text: Text
    subject_member_id: UUID | None = None
    channel: Name | None = None
    score: Annotated[int, Field(ge=0, le=10, strict=True)] | None = None
    feedback_id: UUID | None = None
    customer: CustomerIdentity | None = None


class FeedbackTriage(CommandBody):
    priority: Priority
    owner_id: UUID


class FeedbackResolve(CommandBody):
    resolution: Text


# -- answers --------------------------------------------------------------------------


class FeedbackPublic(ReadDocument):
    """One feedback item: received (customer) or given (peer, manager) about a team and
    perhaps a member, then triaged and resolved."""

    id: str
    kind: Kind
    team_id: str
    subject_member_id: str | None
    channel: str | None
    customer: CustomerPublic | None = None
    score: int | None
    text: str
    status: str
    priority: Priority | None
    owner_id: str | None
    resolution: str | None
    received_at: str
    triaged_at: str | None
    resolved_at: str | None
    version: int
    event_ids: list[str]


class FeedbackItemsPublic(BaseModel):
    items: list[FeedbackPublic]
    next_cursor: str | None
