"""Idempotency keys, stored atomically with the events they caused.

The record's id is derived from the principal and the key, and it is saved in the
same ``save()`` as the command's aggregates: a retry conflicts on its version 1 and
gets the stored answer, and a crash can never leave events without their key or a
key without its events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/idempotency-key")


def idempotency_record_id(principal: str, key: str) -> UUID:
    return uuid5(IDEMPOTENCY_NAMESPACE, f"{principal}\n{key}")


class IdempotencyRecord(Aggregate):
    """The first answer to a keyed command. Not part of any public event stream."""

    class Recorded(Aggregate.Created):
        fingerprint: str
        aggregate_id: str
        aggregate_version: int
        created: bool
        answer_id: str

        def apply(self, record: Any) -> None:
            record.fingerprint = self.fingerprint
            record.aggregate_id = self.aggregate_id
            record.aggregate_version = self.aggregate_version
            record.created = self.created
            record.answer_id = self.answer_id

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        fingerprint: str
        aggregate_id: str
        aggregate_version: int
        created: bool
        answer_id: str

    @classmethod
    def record(
        cls, record_id: UUID, fingerprint: str, aggregate_id: UUID,
        aggregate_version: int, created: bool, answer_id: UUID,
    ) -> IdempotencyRecord:
        return cls._create(
            cls.Recorded, id=record_id, fingerprint=fingerprint,
            aggregate_id=str(aggregate_id), aggregate_version=aggregate_version,
            created=created, answer_id=str(answer_id),
        )
