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

from typing import TYPE_CHECKING, Any

import orjson

from domain.ledger import Ledger
from infra.contract.cloudevents import to_cloudevent
from infra.event_store.fast_read import (
    EventClass,
    EventClasses,
    SlowEventError,
    fast_envelope,
    links,
    plain_state,
    usable,
)
from infra.event_store.log import read_envelopes
from infra.kafka import codec
from infra.kafka.relay.producer_internals import record_format_matches
from infra.kafka.relay.record_format import cloudevent_tail, record_tail
from infra.kafka.topics import Topics

if TYPE_CHECKING:
    from infra.kafka.relay import HashOf

__all__ = ["FastEncoder", "FastPathMismatchError", "SlowEventError", "plain_state"]

Record = tuple[str, bytes, bytes]
"""``(topic, key, record_tail)``: one event, encoded for :mod:`.producer_internals`."""


class FastPathMismatchError(RuntimeError):
    """The fast path disagrees with the reference path."""


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
        self._event_class = EventClasses()
        self._event_topics: dict[str, str] = {}

    @staticmethod
    def usable(ledger: Ledger) -> bool:
        return usable(ledger) and record_format_matches()

    def read(self, after: int, limit: int) -> tuple[int, list[Record]]:
        """The records of the public events after ``after`` (up to ``limit`` positions),
        and the last position read."""
        recorder = self.ledger.recorder
        notifications = recorder.select_notifications(after + 1, limit)
        if not notifications:
            return after, []
        last = notifications[-1].id
        chain = links(self.ledger, notifications[0].id, last)
        records: list[Record] = []
        checked = False
        for n in notifications:
            cls = self._event_class(n.topic)
            if not cls.public:
                continue
            try:
                record = self._encode(n, cls, chain.get(n.id))
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

    def _encode(self, n: Any, cls: EventClass, link: tuple[Any, ...] | None) -> Record:
        envelope = fast_envelope(n, cls, link)
        subject = envelope.subject
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
