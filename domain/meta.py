"""Who asked for a change, why, as part of which conversation, and when it happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from domain.envelope import iso_time
from domain.errors import ValidationError

ALL_TEAMS = "*"
"""In a set of teams (a token's, a command's scope): every team."""

MAX_AHEAD = timedelta(minutes=5)
"""How far ahead of the server clock a command's ``occurred_at`` may be: clocks of
phones and laptops drift, but a fact can't be recorded before it happened."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CommandMeta:
    """Metadata every event carries. ``actor`` is always the authenticated principal.

    Two times: ``now`` is the command's clock reading, when the ledger records it (the
    events' eventsourcing ``timestamp``); ``occurred_at`` is when it happened, if the
    caller said (business time; default: ``now``). Tests and replays set both.
    """

    actor: str
    correlation_id: str = field(default_factory=lambda: str(uuid4()))
    causation_id: str = ""
    now: datetime = field(default_factory=utcnow)
    occurred_at: datetime | None = None
    import_run_id: str = ""
    """The declared backfill (import run) this command belongs to, if any: such a
    command may carry any past ``occurred_at`` without being a late entry."""

    @property
    def business_time(self) -> datetime:
        """When the change happened: ``occurred_at``, else the recording time."""
        return self.now if self.occurred_at is None else self.occurred_at

    def check_business_time(self) -> None:
        """Refuse an ``occurred_at`` more than :data:`MAX_AHEAD` ahead of the clock
        (:class:`ValidationError`, 422): nothing is recorded before it happens."""
        if self.occurred_at is not None and self.occurred_at > self.now + MAX_AHEAD:
            minutes = int(MAX_AHEAD.total_seconds() // 60)
            raise ValidationError(
                f"occurred_at {iso_time(self.occurred_at)} is more than {minutes} minutes "
                f"ahead of the server clock ({iso_time(self.now)})"
            )

    def as_event_meta(self) -> dict[str, Any]:
        meta = {
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id or self.correlation_id,
        }
        # Only a business time other than the recording time is written: an event
        # without one happened when it was recorded (as every event stored before
        # business time existed), so its stored bytes, its CloudEvent and its hash
        # chain link keep one form (domain.envelope.times_of).
        business = iso_time(self.business_time)
        if business != iso_time(self.now):
            meta["occurred_at"] = business
        if self.import_run_id:  # absent otherwise, for the same reason
            meta["import_run_id"] = self.import_run_id
        return meta
