"""The projector's Kafka offsets: committed explicitly, only for batches whose writes
are done, and past the relay's transaction markers once caught up."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError

from infra.kafka.projector.lag import fetch_position
from infra.kafka.projector.membership import still_member

log = logging.getLogger(__name__)


class Offsets:
    """What one member committed (``committed``, on the partitions it holds) and what
    a failed commit left over (``uncommitted``)."""

    def __init__(self, consumer: KafkaConsumer, group_id: str,
                 on_failure: Callable[[], None]) -> None:
        self._consumer = consumer
        self._group_id = group_id
        self._on_failure = on_failure
        self.uncommitted: dict[TopicPartition, OffsetAndMetadata] = {}
        self.committed: dict[TopicPartition, int] = {}

    def commit(self, next_offsets: dict[TopicPartition, OffsetAndMetadata] | None = None
               ) -> None:
        """Commit a written batch's next offsets, and any earlier ones a failed commit
        left over.

        A commit fails during a rebalance; the partitions we keep keep their position
        (kafka-python 3.x), so their offsets are committed with the next attempt.
        Only partitions we still hold are committed: another member owns the rest now.
        """
        for tp, offset in (next_offsets or {}).items():
            known = self.uncommitted.get(tp)
            if known is None or known.offset < offset.offset:
                self.uncommitted[tp] = offset
        if not self.uncommitted:
            return
        held = self._consumer.assignment()
        offsets = {tp: o for tp, o in self.uncommitted.items() if tp in held}
        try:
            if offsets:
                self._consumer.commit(offsets=offsets)
                self.committed.update({tp: o.offset for tp, o in offsets.items()})
            self.uncommitted.clear()
        except KafkaError as e:
            # The writes are done and idempotent: a redelivery of these records (to us
            # or to the partition's new owner) changes nothing.
            self._on_failure()
            log.warning("projector %s: offset commit failed (%s); retrying with the next "
                        "batch (a redelivery meanwhile is harmless)", self._group_id, e)

    def commit_caught_up(self) -> None:
        """Caught up (a poll found nothing, no batch in hand or in flight, nothing left
        to commit): commit the fetch position where it is past the committed offset.

        Between the two there are only records that are no events for us: the commit
        marker that ends each of the relay's transactions (and records of aborted
        transactions), which the consumer skips. Committing past them makes a drained
        group's lag (:func:`.lag.group_lag`: end offset - committed offset, what the rebuild
        and the tests wait for) 0 on transactional topics too. Everything before the
        position was returned by earlier polls and is written and committed already.
        """
        if self.uncommitted:
            return
        ahead: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp in self._consumer.assignment():
            position = fetch_position(self._consumer, tp)
            if position is not None and position > self.committed.get(tp, -1):
                ahead[tp] = OffsetAndMetadata(position, "", -1)
        if not ahead or not still_member(self._consumer):
            return
        try:
            self._consumer.commit(offsets=ahead)
        except KafkaError as e:  # a rebalance: the next idle poll tries again
            log.debug("projector %s: committing the caught-up positions failed: %s",
                      self._group_id, e)
            return
        self.committed.update({tp: o.offset for tp, o in ahead.items()})

    def assigned(self, assigned: set[TopicPartition]) -> None:
        """After a rebalance: keep what is left over on partitions still ours, and learn
        the committed offsets anew (another member may have committed meanwhile)."""
        self.uncommitted = {tp: o for tp, o in self.uncommitted.items() if tp in assigned}
        self.committed.clear()
