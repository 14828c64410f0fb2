"""The relay's fast path: stored events to Kafka record bytes, without domain objects.

kafka-python spends ~70 µs of pure Python per ``send()`` of a record with our 14
headers; :class:`FastEncoder` instead reads the notification log's JSON and writes
each public event's record (:mod:`.record_format`) directly. It is equivalent to the
reference path (``read_envelopes`` + ``codec.encode``) for the events it handles and
hands every other event to the reference path; the relay checks one event per batch
against the reference path and leaves the fast path for good on any disagreement
(:class:`FastPathMismatchError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic

from domain.aggregate import LedgerAggregate
from domain.envelope import BASE_FIELDS, EventEnvelope, event_id, iso_time, times_of, wire_type
from domain.ledger import Ledger
from infra.contract.cloudevents import to_cloudevent
from infra.event_store import LedgerRecorder
from infra.event_store.log import read_envelopes
from infra.kafka import codec
from infra.kafka.relay.producer_internals import record_format_matches
from infra.kafka.relay.record_format import cloudevent_tail, record_tail
from infra.kafka.topics import Topics

if TYPE_CHECKING:
    from infra.kafka.relay import HashOf

Record = tuple[str, bytes, bytes]
"""``(topic, key, record_tail)``: one event, encoded for :mod:`.producer_internals`."""


class FastPathMismatchError(RuntimeError):
    """The fast path disagrees with the reference path."""


class SlowEventError(Exception):
    """An event the fast path does not handle; the reference path encodes it."""


def plain_state(value: Any) -> Any:
    """JSON as stored by eventsourcing's transcoder, to what ``envelope.plain`` makes."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            name, data = value["_type_"], value["_data_"]
            if name == "uuid_hex":
                return str(UUID(data))
            if name == "datetime_iso":
                return iso_time(datetime.fromisoformat(data))
            if name == "decimal_str":
                return str(Decimal(data))
            raise SlowEventError(f"transcoding {name}")
        return {k: plain_state(v) for k, v in value.items()}
    if kind is list:
        return [plain_state(v) for v in value]
    raise SlowEventError(f"value of type {kind.__name__}")


@dataclass(frozen=True)
class _EventClass:
    public: bool
    context: str = ""
    name: str = ""
    schema_version: int = 1
    type: str = ""


class FastEncoder:
    """Stored events to Kafka record tails, without building domain objects.

    Equivalent to ``read_envelopes`` + ``codec.encode`` for events stored without a
    cipher or compressor, at their class's current version, with the standard
    transcodings; anything else goes through the reference path event by event.
    """

    def __init__(self, ledger: Ledger, topics: Topics, hash_of: HashOf) -> None:
        self.ledger = ledger
        self.topics = topics
        self.hash_of = hash_of
        self._classes: dict[str, _EventClass] = {}
        self._event_topics: dict[str, str] = {}

    @staticmethod
    def usable(ledger: Ledger) -> bool:
        mapper = ledger.mapper
        return (getattr(mapper, "cipher", None) is None
                and getattr(mapper, "compressor", None) is None
                and record_format_matches())

    def _event_class(self, topic: str) -> _EventClass:
        known = self._classes.get(topic)
        if known is None:
            cls = resolve_topic(topic)
            if isinstance(cls, type) and issubclass(cls, LedgerAggregate.Event):
                context = getattr(cls, "CONTEXT", "")
                version = getattr(cls, "class_version", 1)
                known = _EventClass(True, context, cls.__name__, version,
                                    wire_type(context, cls.__name__, version))
            else:
                known = _EventClass(False)
            self._classes[topic] = known
        return known

    def read(self, after: int, limit: int) -> tuple[int, list[Record]]:
        """The records of the public events after ``after`` (up to ``limit`` positions),
        and the last position read."""
        recorder = self.ledger.recorder
        notifications = recorder.select_notifications(after + 1, limit)
        if not notifications:
            return after, []
        last = notifications[-1].id
        links: dict[int, tuple[Any, ...]] = {}
        if isinstance(recorder, LedgerRecorder):
            first = notifications[0].id
            links = {row[0]: row for row in recorder.hashes(first, last - first + 1)}
        records: list[Record] = []
        checked = False
        for n in notifications:
            cls = self._event_class(n.topic)
            if not cls.public:
                continue
            try:
                record = self._encode(n, cls, links.get(n.id))
            except Exception:  # SlowEventError, or anything unforeseen: the reference
                record = self._reference(n.id)
            if not checked:
                checked = True
                if record != self._reference(n.id):
                    raise FastPathMismatchError(
                        f"the event at position {n.id} encodes differently"
                    )
            records.append(record)
        return last, records

    def _topic(self, context: str) -> str:
        topic = self._event_topics.get(context)
        if topic is None:
            topic = self._event_topics[context] = self.topics.events(context)
        return topic

    def _encode(self, n: Any, cls: _EventClass, link: tuple[Any, ...] | None) -> Record:
        try:
            state = orjson.loads(n.state)
        except orjson.JSONDecodeError as e:  # e.g. NaN or huge ints: json takes them
            raise SlowEventError(str(e)) from None
        if state.pop("class_version", 1) != cls.schema_version:
            raise SlowEventError("needs upcasting")
        meta = state.get("meta") or {}
        if type(meta) is not dict or any(type(v) is not str for v in meta.values()):
            raise SlowEventError("unusual meta")
        base = BASE_FIELDS
        data = {k: plain_state(v) for k, v in state.items() if k not in base}
        subject = str(n.originator_id)
        occurred_at, recorded_at = times_of(meta, plain_state(state["timestamp"]))
        envelope = EventEnvelope(
            id=link[1] if link else event_id(subject, n.originator_version),
            type=cls.type, context=cls.context, name=cls.name, subject=subject,
            stream_version=n.originator_version, position=n.id,
            occurred_at=occurred_at, recorded_at=recorded_at, actor=meta.get("actor", ""),
            correlation_id=meta.get("correlation_id", ""),
            causation_id=meta.get("causation_id", ""),
            import_run_id=meta.get("import_run_id", ""),
            schema_version=cls.schema_version, data=data,
            prev_hash=link[2] if link else None, hash=link[3] if link else None,
        )
        ce = to_cloudevent(envelope, self.hash_of(n.id))
        key = subject.encode()
        return self._topic(cls.context), key, cloudevent_tail(key, orjson.dumps(ce), ce)

    def _reference(self, position: int) -> Record:
        """The record at ``position`` as the reference path encodes it."""
        envelopes, _ = read_envelopes(self.ledger, position - 1, 1)
        if not envelopes:
            raise FastPathMismatchError(f"no public event at position {position}")
        envelope = envelopes[0]
        key, value, headers = codec.encode(envelope, self.hash_of(position))
        return self._topic(envelope.context), key, record_tail(key, value, headers)
