"""Who asked for a change, why, and as part of which conversation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

ALL_TEAMS = "*"
"""In a set of teams (a token's, a command's scope): every team."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CommandMeta:
    """Metadata every event carries. ``actor`` is always the authenticated principal.

    ``now`` is the command's clock reading: it stamps the events, so tests and
    replays can state exactly when something happened.
    """

    actor: str
    correlation_id: str = field(default_factory=lambda: str(uuid4()))
    causation_id: str = ""
    now: datetime = field(default_factory=utcnow)

    def as_event_meta(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id or self.correlation_id,
        }
