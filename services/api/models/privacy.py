"""Personal data: the bodies and answers of erasure, legal holds and retention runs,
and of the request that opens sealed values for Kafka subscribers."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from infra.personal.disclosure import MAX_VALUES
from services.api.models.common import (
    CommandAnswer,
    CommandBody,
    Email,
    ReadDocument,
    Reason,
    StrictBody,
)

SEALED_VALUE = (r"^pii:v1:(member|customer):[0-9a-f-]{36}:"
                r"(?:[A-Za-z0-9_-]{4}){9,}(?:[A-Za-z0-9_-]{2,3})?$")
"""One whole sealed value (``infra/personal/sealing.py``), as OpsLedger writes them:
unpadded base64url of at least a nonce and a tag (28 bytes), never a length that
no encoder writes, so every value this pattern allows can be decoded."""
SealedValue = Annotated[str, StringConstraints(pattern=SEALED_VALUE, max_length=20_000)]
"""One whole sealed value, as a Kafka message carries it: ``pii:v1:<kind>:<id>:<data>``."""


class PersonalDataErase(CommandBody):
    """Why a member's personal data is erased. Say why without naming anyone: the
    reason is kept forever, in plaintext, like every reason."""

    reason: Reason


class CustomerErase(CommandBody):
    """The customer, by the email address their feedback named, and why."""

    email: Email
    reason: Reason


class PersonalDataReveal(BaseModel):
    """Sealed values to open, as taken from events on the Kafka topics. Not a
    ``StrictBody``: that refuses sealed values, which are this body's whole point."""

    model_config = ConfigDict(extra="forbid")

    values: Annotated[list[SealedValue], Field(min_length=1, max_length=MAX_VALUES)]


class PersonalDataRevealed(BaseModel):
    values: list[str | None] = Field(description=(
        "in the order asked: the plaintext; \"[erased]\" when its subject was erased; "
        "null when this token may not open it (another team's member, or a customer "
        "for a token limited to some teams)"))


class MemberHoldSubject(StrictBody):
    """A member, by ``member_id``."""

    kind: Literal["member"]
    member_id: UUID


class CustomerHoldSubject(StrictBody):
    """A customer, by the ``email`` their feedback named (compared trimmed, ignoring
    case; never stored: the hold names the key store's customer id)."""

    kind: Literal["customer"]
    email: Email


HoldSubject = Annotated[MemberHoldSubject | CustomerHoldSubject, Field(discriminator="kind")]


class TeamHoldPlace(CommandBody):
    """A hold on a team: every member who is or was on it, every customer whose feedback
    it received. ``reason`` is kept forever, in plaintext: name no one."""

    reason: Reason
    team_id: UUID


class SubjectHoldPlace(CommandBody):
    """A hold on one data subject (a member or a customer). ``reason`` is kept forever,
    in plaintext: name no one."""

    reason: Reason
    subject: HoldSubject


LegalHoldPlace = TeamHoldPlace | SubjectHoldPlace
"""What a legal hold suspends the erasure of: exactly one of a team or a subject. It
lasts until it is released."""


class LegalHoldRelease(CommandBody):
    """Why the hold is released."""

    reason: Reason


class LegalHoldFields(BaseModel):
    """A legal hold: what it names (``scope``: ``{"team_id"}`` or ``{"subject": {"kind",
    "member_id" | "customer_id"}}``, a customer by the key store's id, never the email),
    why, who placed it and when, and, once released, who released it, when and why."""

    hold_id: str
    scope: dict[str, Any]
    team_id: str | None = None
    reason: str
    placed_by: str
    placed_at: str
    active: bool
    released_by: str | None = None
    released_at: str | None = None
    release_reason: str | None = None


class LegalHoldPublic(ReadDocument, LegalHoldFields):
    """A legal hold, as the read models keep it."""


class LegalHoldAnswer(CommandAnswer, LegalHoldFields):
    """The answer to placing or releasing a hold: the command's answer and the hold."""


class LegalHoldsPublic(BaseModel):
    items: list[LegalHoldPublic]
    next_cursor: str | None


class RetentionRunBody(CommandBody):
    """``dry_run``: list what is due, erase nothing. ``limit``: erase at most this many
    subjects in this call (the answer's ``remaining`` says how many are left for the
    next: ``opsledger retention run`` calls again until none are)."""

    dry_run: bool = False
    limit: int = Field(default=100, ge=1, le=500)


class HeldSubject(BaseModel):
    subject_id: str
    hold_id: str
    hold_reason: str


class RefusedSubject(BaseModel):
    subject_id: str
    detail: str


class DueSubject(BaseModel):
    subject_id: str
    due_at: str
    outcome: Literal["due", "erased", "held", "refused", "remaining"]


class RetentionKindReport(BaseModel):
    """One kind of personal data: its period (None: kept), how many subjects are due
    (not erased yet), erased by this call, held (with the hold), refused, left for the
    next call, and already erased before."""

    kind: Literal["customer", "member"]
    retention_days: int | None
    counted_from: str
    due: int
    erased: int
    already_erased: int
    remaining: int
    held: list[HeldSubject]
    refused: list[RefusedSubject]
    subjects: list[DueSubject]


class RetentionReport(BaseModel):
    dry_run: bool
    at: str = Field(description="the time the periods were counted to (the server clock)")
    kinds: list[RetentionKindReport]
