"""What every resource's models share: strict bodies, the text, number and time types
they are made of, the answer to every command, and the base of every read document."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Response
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from domain.envelope import RFC3339, moment_of
from domain.ledger import CommandResult
from domain.teams.aggregate import PRINCIPAL as MEMBER_PRINCIPAL
from infra.personal.sealing import holds_sealed_value

# NUL, and the bidirectional embedding/override (U+202A-U+202E) and isolate (U+2066-U+2069)
# controls, which make stored text display as something other than what it says.
FORBIDDEN_IN_TEXT = re.compile("[\x00\u202a-\u202e\u2066-\u2069]")


def _calendar_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a real calendar date (YYYY-MM-DD)") from None
    return value


def _in_utc(value: datetime) -> datetime:
    """Aware, in UTC; a time without an offset is read as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _not_a_number(value: Any) -> Any:
    """Pydantic reads a bare number as a Unix timestamp (``since=-1``); the contract's
    times are RFC 3339 text."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an RFC 3339 time, e.g. 2026-03-01T09:00:00Z")
    return value


UtcDateTime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_in_utc)]
"""Every time a query takes (since, until, as_of): RFC 3339, converted to UTC, 422 when
the conversion leaves the representable range."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
OptionalText = Annotated[str, StringConstraints(max_length=10_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
IsoDate = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_calendar_date)
]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
]
Items = Annotated[list[Name], Field(max_length=100)]
Principal = Annotated[str, StringConstraints(pattern=MEMBER_PRINCIPAL.pattern)]
"""The principal who acts as a member (``user:<name>``), as the teams context reads it."""
Number = Annotated[float, Field(allow_inf_nan=False, strict=True)]
"""A finite number in a body: an int or a float, never a boolean."""
JsonNumber = int | float
"""A number in an answer, as stored: an int stays an int, a float a float."""


class StrictBody(BaseModel):
    """Unknown fields are rejected, never silently ignored."""

    model_config = ConfigDict(extra="forbid", str_max_length=10_000)

    @field_validator("*", mode="after")
    @classmethod
    def _printable_text(cls, value: Any) -> Any:
        """No text field, at any depth, may carry NUL or bidirectional controls."""
        if _has_forbidden_text(value):
            raise ValueError(
                "text must not contain NUL or bidirectional control characters "
                "(U+202A-U+202E, U+2066-U+2069)"
            )
        if _any_text(value, holds_sealed_value):
            raise ValueError(SEALED_REFUSED)
        return value


SEALED_REFUSED = ("text must not hold a sealed personal value (pii:v1:...): OpsLedger seals "
                  "personal data itself; send it as plaintext")


def _printable(value: str) -> str:
    if FORBIDDEN_IN_TEXT.search(value):
        raise ValueError("text must not contain NUL or bidirectional control characters "
                         "(U+202A-U+202E, U+2066-U+2069)")
    if holds_sealed_value(value):
        raise ValueError(SEALED_REFUSED)
    return value


PrintableReason = Annotated[Reason, AfterValidator(_printable)]
"""A reason given outside a body (a query parameter), held to the body rules."""


def _has_forbidden_text(value: Any) -> bool:
    return _any_text(value, lambda text: FORBIDDEN_IN_TEXT.search(text) is not None)


def _any_text(value: Any, test: Callable[[str], bool]) -> bool:
    """Whether ``test`` holds for any text in ``value``, at any depth (keys too)."""
    if isinstance(value, str):
        return test(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_any_text(v, test) for v in value)
    if isinstance(value, dict):
        return any(_any_text(k, test) or _any_text(v, test) for k, v in value.items())
    if isinstance(value, BaseModel):
        return any(_any_text(v, test) for v in vars(value).values())
    return False


def _a_real_moment(value: str) -> str:
    moment_of(value)  # a ValueError is the 422's message
    return value


OccurredAt = Annotated[
    str, StringConstraints(max_length=64, pattern=RFC3339), AfterValidator(_a_real_moment)
]
"""When a command's change happened: RFC 3339 with an offset, a real moment."""


class CommandBody(StrictBody):
    """The body of every command: its own fields, and when it happened.

    The ledger reads ``occurred_at`` through the command's context
    (:func:`services.api.deps.command_context`), so every command honours it the same
    way; a body without this base refuses the field."""

    occurred_at: OccurredAt | None = Field(
        default=None, json_schema_extra={"format": "date-time"},
        description="when it happened: RFC 3339 with an offset, at most 5 minutes ahead of "
                    "the server clock, not before the entity's latest event; default: when "
                    "OpsLedger records it (both times are kept)")


class Empty(CommandBody):
    """The body of a command that takes nothing else (sent as ``{}``, ``{"occurred_at":
    ...}`` or not at all)."""


class CommandAnswer(BaseModel):
    """The answer to every command: the aggregate's id, its version after the command
    (also the ``ETag``) and the global position of its last event."""

    id: str
    version: int
    position: int

    @classmethod
    def of(cls, result: CommandResult) -> CommandAnswer:
        return cls(id=str(result.id), version=result.version, position=result.position)


def answer(result: CommandResult, response: Response) -> CommandAnswer:
    """201 for a create (also on an idempotent repeat of one), else 200; ETag = version."""
    response.status_code = 201 if result.created else 200
    response.headers["ETag"] = f'"{result.version}"'
    return CommandAnswer.of(result)


class ReadDocument(BaseModel):
    """A read-model document as stored: the fields listed, and any others it carries
    (a document written by a newer fold is answered whole, never cut to this model)."""

    model_config = ConfigDict(extra="allow")
