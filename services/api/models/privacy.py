"""Personal data: the bodies of the two erasure commands, and of the request that
opens sealed values for Kafka subscribers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from infra.personal.disclosure import MAX_VALUES
from services.api.models.common import CommandBody, Email, Reason

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
