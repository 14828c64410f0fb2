"""What the projector never skips, and what it sets aside.

*Transient failures* (:class:`TransientFailureError` and its family: the store or the
dead-letter topic did not answer, the group is rebalancing) keep the batch for a later
retry. *Poison* (a record that cannot be decoded, an unknown event type or a newer
schema version, a failed upcast, a fold raising) is dead-lettered
(:func:`publish_dead_letters`, with the :data:`DLQ_HEADERS`) and parks its aggregate:
a ``parked`` document (:func:`parked_doc`) in the read store, so nothing later of that
aggregate is applied out of order. :mod:`infra.kafka.deadletter` lists, replays and
skips dead letters, and unparks the aggregate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from domain.envelope import EventEnvelope, iso_time
from infra.contract.upcasting import upcast
from infra.kafka.codec import decode
from projections.fold import Document

if TYPE_CHECKING:
    from infra.kafka.projector.outcome import Item

log = logging.getLogger(__name__)

PARKED = "parked"
"""Collection of parked aggregates: ``_id`` = the record key (aggregate id)."""

DLQ_HEADERS = (
    "dlq_reason", "dlq_origin_topic", "dlq_origin_partition", "dlq_origin_offset",
    "dlq_failed_at", "dlq_group", "dlq_attempts", "dlq_error",
)
"""Headers added to a dead letter (``dlq_error`` only when a record parked behind
another one is undecodable itself)."""


class TransientFailureError(Exception):
    """Something outside the batch failed; retry the same batch later, never skip it."""


class StoreUnavailableError(TransientFailureError):
    """The read store did not answer (or refused a write)."""


class DeadLetterUnavailableError(TransientFailureError):
    """The dead-letter topic could not be written."""


class MembershipInDoubtError(TransientFailureError):
    """The group is rebalancing (or dropped us): write nothing until it settles."""


def now_iso() -> str:
    return iso_time(datetime.now(UTC))


def parked_doc(key: str, *, group: str, origin: Mapping[str, Any], reason: str,
               event_type: str | None, at: str) -> Document:
    return {
        "_id": key, "key": key, "status": "parked", "group": group, "reason": reason,
        "origin": dict(origin), "event_type": event_type, "parked_at": at,
        "decision": None,
    }


def is_parked(doc: Document | None) -> bool:
    return doc is not None and doc.get("status") == "parked"


class UnusableSubjectError(ValueError):
    """A subject that cannot key read-model bookkeeping (``_streams.<subject>``)."""


def decode_record(value: bytes | None) -> EventEnvelope:
    """A record's value as an envelope this build folds: decoded, checked, upcast.

    Raises (poison): :class:`~infra.kafka.codec.UndecodableRecordError`,
    :class:`~infra.contract.upcasting.UnknownEventTypeError`,
    :class:`~infra.contract.upcasting.UpcastError`, :class:`UnusableSubjectError`.
    """
    envelope = decode(value)
    subject = envelope.subject
    if not subject or "." in subject or subject.startswith("$"):
        # Checked here, not left to the store: a write the store refuses for ever
        # would stall the projector instead of parking one aggregate.
        raise UnusableSubjectError(f"subject {subject!r} cannot key a read model")
    return upcast(envelope)


def publish_dead_letters(producer_of: Callable[[], KafkaProducer], topic: str, group_id: str,
                         dead: list[Item]) -> None:
    """Publish ``dead`` to the dead-letter ``topic``: each record's key, value and headers,
    plus the ``dlq_*`` headers. Raises :class:`DeadLetterUnavailableError`, also when the
    producer (made by ``producer_of``) cannot be built."""
    try:
        producer = producer_of()
        futures = []
        failed_at = now_iso().encode()
        for item in dead:
            record = item.record
            headers = list(record.headers or [])
            headers += [
                ("dlq_reason", (item.dead_reason or "").encode()),
                ("dlq_origin_topic", item.tp.topic.encode()),
                ("dlq_origin_partition", str(item.tp.partition).encode()),
                ("dlq_origin_offset", str(item.offset).encode()),
                ("dlq_failed_at", failed_at),
                ("dlq_group", group_id.encode()),
                ("dlq_attempts", str(item.attempts).encode()),
            ]
            if item.error is not None and item.error != item.dead_reason:
                # Parked behind another record, and poison itself too: say so.
                headers.append(("dlq_error", item.error.encode()))
            futures.append(producer.send(
                topic, key=record.key, value=record.value, headers=headers,
            ))
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
    except KafkaError as e:
        raise DeadLetterUnavailableError(f"dead-letter topic: {type(e).__name__}: {e}") from e
    for item in dead:
        log.error("projector %s: dead-lettered %s/%d@%d (key %s): %s", group_id,
                  item.tp.topic, item.tp.partition, item.offset, item.key, item.dead_reason)
