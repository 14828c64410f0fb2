"""The public shape of a stored event: what folds, the events feed and Kafka see.

Every event has two times: ``occurred_at``, when it happened (business time, what
read models, metrics and controls use), and ``recorded_at``, when the ledger
recorded it (the eventsourcing ``timestamp``, what "as known at" questions use). An
event whose stored ``meta`` names no ``occurred_at`` happened when it was recorded:
every event stored before business time existed, and every command that named no
other time (:func:`times_of`).

Wire names are stable (``opsledger.<context>.<EventName>.v<N>``): they are derived
from the aggregate's context and the event's name and schema version, never from
the Python module path, so classes can move without breaking subscribers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

EVENT_ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/event")

BASE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "meta"}
)
"""The attributes every stored event has besides its data (the envelope carries them)."""


@dataclass(frozen=True)
class EventEnvelope:
    id: str
    type: str
    context: str
    name: str
    subject: str
    stream_version: int
    position: int
    occurred_at: str
    """When it happened (business time), fixed-width UTC (:func:`iso_time`)."""
    recorded_at: str
    """When the ledger recorded it, fixed-width UTC (``occurred_at`` is never more
    than :data:`domain.meta.MAX_AHEAD` after it)."""
    actor: str
    correlation_id: str
    causation_id: str
    schema_version: int
    data: dict[str, Any] = field(default_factory=dict)
    # The hash chain link, once the event is stored (see infra.event_store.hash_chain).
    prev_hash: str | None = None
    hash: str | None = None
    import_run_id: str = ""
    """The import run (a declared backfill) the event was recorded in; empty: none."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "context": self.context, "name": self.name,
            "subject": self.subject, "stream_version": self.stream_version,
            "position": self.position, "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at, "actor": self.actor,
            "correlation_id": self.correlation_id, "causation_id": self.causation_id,
            "schema_version": self.schema_version, "data": self.data,
            "prev_hash": self.prev_hash, "hash": self.hash,
            "import_run_id": self.import_run_id,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EventEnvelope:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
"""An RFC 3339 time with an offset (``fromisoformat`` alone accepts far more)."""


def moment_of(text: str) -> datetime:
    """An RFC 3339 time with an offset (:data:`RFC3339`) as an aware UTC datetime;
    ``ValueError`` when it is not one, names no real moment, or is out of range."""
    if not re.fullmatch(RFC3339, text):
        raise ValueError(f"{text!r} is not an RFC 3339 time with an offset, "
                         "e.g. 2026-03-01T09:00:00Z")
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range once converted to UTC") from None


def iso_time(value: datetime) -> str:
    """Fixed-width UTC time (microseconds, ``Z``), so text order is time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    utc = value.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"  # %Y does not pad years before 1000


def times_of(meta: Mapping[str, Any], recorded_at: str) -> tuple[str, str]:
    """``(occurred_at, recorded_at)`` of a stored event, given its ``meta`` and its
    recording time (fixed-width): the business time is ``meta["occurred_at"]`` when
    the event has one, else the recording time."""
    occurred = meta.get("occurred_at")
    return (occurred if isinstance(occurred, str) and occurred else recorded_at), recorded_at


def wire_type(context: str, name: str, schema_version: int) -> str:
    return f"opsledger.{context}.{name}.v{schema_version}"


def event_id(aggregate_id: UUID | str, version: int) -> str:
    """Deterministic, so every copy of an event (store, Kafka, replay) has one id."""
    return str(uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}"))


def plain(value: Any) -> Any:
    """JSON-ready copy of an event attribute."""
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, (date, UUID, Decimal)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def envelope_of(event: Any, position: int) -> EventEnvelope:
    """Wrap a domain event (an eventsourcing aggregate event) for the outside world."""
    name = type(event).__name__
    context = getattr(type(event), "CONTEXT", "")
    schema_version = getattr(type(event), "class_version", 1)
    meta = getattr(event, "meta", {}) or {}
    occurred_at, recorded_at = times_of(meta, plain(event.timestamp))
    data = {
        k: plain(v) for k, v in event.__dict__.items() if k not in BASE_FIELDS
    }
    return EventEnvelope(
        id=event_id(event.originator_id, event.originator_version),
        type=wire_type(context, name, schema_version),
        context=context,
        name=name,
        subject=str(event.originator_id),
        stream_version=event.originator_version,
        position=position,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        actor=meta.get("actor", ""),
        correlation_id=meta.get("correlation_id", ""),
        causation_id=meta.get("causation_id", ""),
        schema_version=schema_version,
        data=data,
        import_run_id=meta.get("import_run_id", ""),
    )
