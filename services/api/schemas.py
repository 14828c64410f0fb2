"""API models shared by every resource: strict bodies and the common answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from domain.ledger import CommandResult


def _in_utc(value: datetime) -> datetime:
    """Aware, in UTC; a time without an offset is read as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


UtcDateTime = Annotated[datetime, AfterValidator(_in_utc)]
"""Every time a query takes (since, until, as_of): RFC 3339, converted to UTC, 422 when
the conversion leaves the representable range."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
OptionalText = Annotated[str, StringConstraints(max_length=10_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
]
Items = Annotated[list[Name], Field(max_length=100)]
Principal = Annotated[str, StringConstraints(pattern=r"^user:[A-Za-z0-9._@+-]{1,200}$")]


class StrictBody(BaseModel):
    """Unknown fields are rejected, never silently ignored."""

    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class CommandAnswer(BaseModel):
    id: str
    version: int
    position: int

    @classmethod
    def of(cls, result: CommandResult) -> CommandAnswer:
        return cls(id=str(result.id), version=result.version, position=result.position)


class PageOut(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


def answer(result: CommandResult) -> Any:
    """201 for a create (also on an idempotent repeat of one), else 200; ETag = version."""
    from fastapi.responses import JSONResponse

    return JSONResponse(
        CommandAnswer.of(result).model_dump(),
        status_code=201 if result.created else 200,
        headers={"ETag": f'"{result.version}"'},
    )
