"""The hash chain that makes the history tamper-evident.

Each public event gets ``hash = SHA-256(prev_hash || canonical bytes)``, in global
position order, starting from :data:`GENESIS`. The canonical bytes are the event's
CloudEvent (without ``prevhash``/``hash``) as JSON with sorted keys: exactly what
Kafka carries, so the chain can be checked over the store *and* over the topics,
and it covers the payload as stored (ciphertext, once personal data is encrypted),
so erasing a person's key later leaves the chain intact.

Internal records (idempotency keys) are not public events and are not chained.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from domain.aggregate import LedgerAggregate
from domain.envelope import EventEnvelope, envelope_of
from infra.contract.cloudevents import to_cloudevent

GENESIS = "0" * 64
HASH_FIELDS = ("prevhash", "hash")


def canonical_bytes(cloudevent: dict[str, Any]) -> bytes:
    body = {k: v for k, v in cloudevent.items() if k not in HASH_FIELDS}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def link(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


def envelope_bytes(envelope: EventEnvelope) -> bytes:
    return canonical_bytes(to_cloudevent(envelope))


class StoredEventHasher:
    """Canonical bytes of a stored event, or None for records that are not public.

    Given to the recorder, which chains inside its insert transaction.
    """

    def __init__(self, to_domain_event: Callable[[Any], Any]) -> None:
        self.to_domain_event = to_domain_event

    def __call__(self, stored_event: Any, position: int) -> tuple[str, bytes] | None:
        envelope = self.envelope(stored_event, position)
        return None if envelope is None else (envelope.id, envelope_bytes(envelope))

    def envelope(self, stored_event: Any, position: int) -> EventEnvelope | None:
        """The public envelope of a stored event (no chain link yet), as the log reads
        it back; None for records that are not public."""
        event = self.to_domain_event(stored_event)
        if not isinstance(event, LedgerAggregate.Event):
            return None
        return envelope_of(event, position)
