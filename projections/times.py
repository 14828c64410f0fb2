"""Event times as datetimes: the one parser the folds and the queries share.

Events carry ISO 8601 strings (``Z`` or an offset); a naive time means UTC. Folds
read when things happened (an envelope's ``occurred_at``).
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str) -> datetime:
    """An event time (ISO 8601, ``Z`` or an offset; naive means UTC) as a datetime."""
    found = _PARSED.get(value)
    if found is None:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        found = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        if len(_PARSED) >= _MAX_PARSED:
            _PARSED.clear()
        _PARSED[value] = found
    return found


_PARSED: dict[str, datetime] = {}
"""Times parsed lately: a fold parses the same few (an incident's opening, at each of
its events) over and over. Datetimes are immutable, so sharing one is safe."""
_MAX_PARSED = 8192


def seconds_between(start: str, end: str) -> float:
    """The duration from ``start`` to ``end``, never negative: the ledger refuses
    events out of business order, but events stored before it checked carry the
    server's clock, which can step back."""
    return max(0.0, (parse_time(end) - parse_time(start)).total_seconds())
