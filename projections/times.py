"""Event times as datetimes: the one parser the folds and the queries share.

Events carry ISO 8601 strings (``Z`` or an offset); a naive time means UTC. Folds
read when things happened (an envelope's ``occurred_at``).
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str) -> datetime:
    """An event time (ISO 8601, ``Z`` or an offset; naive means UTC) as a datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def seconds_between(start: str, end: str) -> float:
    """The duration from ``start`` to ``end``, never negative: the ledger refuses
    events out of business order, but events stored before it checked carry the
    server's clock, which can step back."""
    return max(0.0, (parse_time(end) - parse_time(start)).total_seconds())
