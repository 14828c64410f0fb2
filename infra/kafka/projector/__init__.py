"""The Kafka projector: folds the context topics into the read store, batch by batch.

One :class:`Projector` is one member of a consumer group; several processes with the
same ``group_id`` share the partitions of every ``<prefix>.<context>.events`` topic.

Delivery and idempotency
------------------------
Each turn polls one batch, decodes and upcasts it, folds it with
:func:`projections.engine.fold_events` and writes the changed documents with
``store.commit(changes, (group_id, max position))``; only *then* are the offsets
committed (``last offset + 1`` per partition, explicitly). The store has no
transactions, so a crash between the write and the offset commit redelivers the
batch; that is harmless because every document remembers the stream versions it was
built from (``_streams``): the engine skips what a document already saw, and the store
refuses to replace a document with one that is behind it. At-least-once delivery plus
idempotent writes gives effectively-once read models.

Rebalances: revocation happens inside ``poll`` and offsets are only ever committed
for batches whose writes are done, so nothing written is lost and nothing unwritten
is acknowledged. kafka-python 3.x *keeps* the fetch position of a partition that
stays assigned across a rebalance, so a batch that was still waiting for the store
when the group rebalanced would be skipped on the partitions we keep: the projector
seeks those back to the batch's first offset and drops the batch (the partitions we
lost are redone by their new owner from the committed offset).

Failures
--------
- *Store failures* (MongoDB down, a timeout) are never poison: the batch is kept, the
  partitions are paused (``poll`` keeps the group membership alive), and the same
  batch is retried with bounded exponential backoff until the store answers. No
  offset is committed meanwhile. Every store exception counts as such: a write the
  store refuses deterministically stalls the projector loudly (a warning per retry)
  rather than being skipped; the one such case known ahead (a subject that cannot
  be a MongoDB field name in ``_streams``) is caught as poison when decoding.
- *Poison* (a record that cannot be decoded, an unknown event type or a newer schema
  version, a failed upcast, a fold raising): the record is tried again alone
  ``max_retries`` times; then it is published to the dead-letter topic
  (``<prefix>.deadletter``) with its original key, value and headers plus ``dlq_*``
  headers (reason, origin topic/partition/offset, time, group, attempts; see
  :data:`.poison.DLQ_HEADERS`), and its
  aggregate (the record key) is *parked*: a ``parked`` document in the read store
  (written through the same port, so a restart or another group member sees it).
  Every later record of a parked aggregate is dead-lettered too, with reason
  ``parked behind <offset>``, so nothing of that aggregate is applied out of order
  while other aggregates keep flowing. :mod:`infra.kafka.deadletter` lists, replays
  and skips them, and unparks the aggregate.

The package: the consumer loop, offsets and rebalances here; what a batch changes and
dead-letters in :mod:`.outcome`, its bulk reads and fold in :mod:`.batch`, the cache of
documents this member alone writes in :mod:`.doc_cache`, transient failures and poison
in :mod:`.poison`, group membership in :mod:`.membership`, lag in :mod:`.lag`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError

from infra.kafka.projector.batch import store_call
from infra.kafka.projector.doc_cache import DocCache, unread_collections
from infra.kafka.projector.lag import fetch_position, member_lag
from infra.kafka.projector.membership import (
    RebalanceListener,
    leave_as_static_member,
    still_member,
)
from infra.kafka.projector.outcome import BatchFolder, PolledBatch
from infra.kafka.projector.poison import (
    PARKED,
    MembershipInDoubtError,
    StoreUnavailableError,
    TransientFailureError,
    publish_dead_letters,
)
from infra.kafka.topics import Topics
from infra.read_store.port import ReadStore
from projections.engine import collector_paused
from projections.fold import Fold
from projections.registry import SHARED

log = logging.getLogger(__name__)


@dataclass
class ProjectorStats:
    batches: int = 0
    records: int = 0
    dead_lettered: int = 0
    store_failures: int = 0
    offset_commit_failures: int = 0
    rebalances: int = 0
    store_writes: int = 0
    last_error: str | None = None
    started_at: float = field(default_factory=time.monotonic)


class Projector:
    """One consumer-group member folding every event topic into ``store``."""

    def __init__(
        self, bootstrap: str, topics: Topics, store: ReadStore, folds: Sequence[Fold], *,
        group_id: str, batch_size: int = 2000, max_retries: int = 3,
        poll_timeout_ms: int = 500, backoff_initial: float = 0.2, backoff_max: float = 10.0,
        after_store_commit: Callable[[int], None] | None = None,
        consumer_config: Mapping[str, Any] | None = None,
        producer: KafkaProducer | None = None, client_id: str | None = None,
        cache_docs: int = 50_000, group_instance_id: str | None = None,
        session_timeout_ms: int = 10_000, heartbeat_interval_ms: int = 2_000,
    ) -> None:
        """``session_timeout_ms``: how long a member that stops heartbeating (kill -9, a
        lost host) keeps its partitions; a restarted projector resumes after it at the
        latest. ``group_instance_id``: static membership (KIP-345), a stable id per
        replica: a restart with the same id takes its partitions back at once, and
        :meth:`close` removes it from the group explicitly (kafka-python, like the
        Java client, sends no LeaveGroup for a static member)."""
        self.bootstrap = bootstrap
        self.topics = topics
        self.store = store
        self.folds = list(folds)
        self.group_id = group_id
        self.group_instance_id = group_instance_id or None
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.poll_timeout_ms = poll_timeout_ms
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.after_store_commit = after_store_commit
        self.stats = ProjectorStats()
        self._cache = DocCache(cache_docs,
                               never=SHARED | {PARKED} | unread_collections(self.folds))
        self._client_id = client_id or f"opsledger-projector-{group_id}"
        self._producer = producer
        self._owns_producer = producer is None
        self._pending: PolledBatch | None = None
        self._uncommitted: dict[TopicPartition, OffsetAndMetadata] = {}
        # The offsets this member committed on the partitions it holds (known ones).
        self._committed: dict[TopicPartition, int] = {}
        self._paused = False
        config: dict[str, Any] = {
            "bootstrap_servers": bootstrap, "group_id": group_id,
            "client_id": self._client_id, "enable_auto_commit": False,
            "auto_offset_reset": "earliest", "isolation_level": "read_committed",
            "max_poll_records": batch_size, "allow_auto_create_topics": False,
            "max_partition_fetch_bytes": 4 * 1024 * 1024,
            # A topic created (or grown) later is noticed within this, not 5 minutes.
            "metadata_max_age_ms": 30_000,
            # A dead member's partitions move after this (kafka-python 3: 45 s).
            "session_timeout_ms": session_timeout_ms,
            "heartbeat_interval_ms": heartbeat_interval_ms,
        }
        if self.group_instance_id is not None:
            config["group_instance_id"] = self.group_instance_id
        config.update(consumer_config or {})
        self._consumer = KafkaConsumer(**config)
        for topic in topics.event_topics:
            # Known partitions before the first join: kafka-python 3 may otherwise
            # compute the first assignment without them ("No partition metadata").
            self._consumer.partitions_for_topic(topic)
        self._consumer.subscribe(list(topics.event_topics),
                                 listener=RebalanceListener(self._on_revoked, self._on_assigned))

    # -- running ---------------------------------------------------------------

    def run(self, stop: threading.Event, *, lag_log_seconds: float = 30.0) -> None:
        """Project until ``stop`` is set; store/DLQ outages are waited out, never skipped."""
        backoff = self.backoff_initial
        next_lag_log = time.monotonic() + lag_log_seconds
        log.info("projector %s started on %s", self.group_id, ", ".join(self.topics.event_topics))
        while not stop.is_set():
            try:
                self.run_once()
                backoff = self.backoff_initial
            except TransientFailureError as e:
                log.warning("projector %s: %s; retrying the same batch in %.1fs",
                            self.group_id, e, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, self.backoff_max)
            if time.monotonic() >= next_lag_log:
                next_lag_log = time.monotonic() + lag_log_seconds
                try:
                    log.info("projector %s: lag %d, %d records, %d dead-lettered",
                             self.group_id, self.lag(), self.stats.records,
                             self.stats.dead_lettered)
                except KafkaError as e:  # pragma: no cover - logging only
                    log.warning("projector %s: lag unknown: %s", self.group_id, e)
        log.info("projector %s stopping", self.group_id)

    def run_once(self) -> int:
        """Poll (or retry) one batch and apply it; the number of records it settled.

        Raises :class:`TransientFailureError` (the batch is kept for the next call)
        when the store or the dead-letter topic fails.

        The cyclic collector is paused over the whole turn (:func:`collector_paused`):
        a batch makes hundreds of thousands of small containers (records, envelopes,
        documents and their copies for the store) and no cycles worth collecting, and
        each time enough of them survive the collector walks everything the process
        holds (the cache's documents) - a tenth of a turn. It runs once after it.
        """
        with collector_paused():
            return self._turn()

    def _turn(self) -> int:
        if self._pending is None:
            polled = self._consumer.poll(timeout_ms=self.poll_timeout_ms,
                                         max_records=self.batch_size)
            if not polled:
                self._commit_offsets()  # anything a failed commit left over
                self._commit_caught_up()
                return 0
            self._pending = PolledBatch.of(polled)
        else:
            # Partitions are paused: this poll keeps us in the group (and runs any
            # rebalance, which may drop the pending batch).
            self._poll_paused(0)
            if self._pending is None:
                return 0
        batch = self._pending
        try:
            settled = self._apply(batch)
        except MembershipInDoubtError:
            # Not a failure: let the rebalance run (partitions paused, so this poll
            # fetches nothing); it drops the batch if the partitions moved.
            self._pause()
            self._poll_paused(self.poll_timeout_ms)
            return 0
        except TransientFailureError as e:
            self.stats.store_failures += isinstance(e, StoreUnavailableError)
            self.stats.last_error = str(e)
            self._pause()
            raise
        self._pending = None
        self._resume()
        self.stats.last_error = None
        return settled

    def _poll_paused(self, timeout_ms: int) -> None:
        """Poll with our partitions paused, for the group's sake, losing no record.

        A rebalance inside the poll drops the pending batch and resumes the
        partitions (``_on_assigned``), and the same poll may then return records:
        they become the pending batch.
        """
        polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=self.batch_size)
        if not polled:
            return
        if self._pending is None:
            self._pending = PolledBatch.of(polled)
            return
        # Still holding a batch (not expected): fetch these again later.
        for tp, records in polled.items():
            self._consumer.seek(tp, records[0].offset)

    def close(self) -> None:
        """Leave the group at once (a dynamic member's close sends LeaveGroup; a static
        member is removed by its instance id) and close the clients."""
        member_id = self._consumer.group_metadata().member_id
        try:
            self._consumer.close(autocommit=False)
            if self.group_instance_id is not None:
                leave_as_static_member(self.bootstrap, self._client_id, self.group_id,
                                       self.group_instance_id, member_id)
        finally:
            if self._producer is not None and self._owns_producer:
                self._producer.close(timeout=5)

    def assignment(self) -> set[TopicPartition]:
        """The partitions this member holds now."""
        return set(self._consumer.assignment())

    # -- lag -------------------------------------------------------------------

    def lag(self) -> int:
        """Records on this member's partitions not folded yet (:func:`.lag.member_lag`)."""
        return member_lag(self._consumer, self._pending.by_tp if self._pending is not None else {})

    # -- a batch ---------------------------------------------------------------

    def _apply(self, batch: PolledBatch) -> int:
        if batch.outcome is None:
            batch.outcome = BatchFolder(self.store, self._cache, self.folds, self.group_id,
                                        self.max_retries).outcome(batch)
        outcome = batch.outcome
        if not still_member(self._consumer):
            self._cache.clear()
            if not outcome.dead_letters_sent:
                batch.outcome = None  # recomputed from fresh reads once the group settles
            raise MembershipInDoubtError("the consumer group is rebalancing")
        if outcome.dead and not outcome.dead_letters_sent:
            publish_dead_letters(self._dead_letter_producer, self.topics.deadletter,
                                 self.group_id, outcome.dead)
            outcome.dead_letters_sent = True
        try:
            uncertain = store_call(self.store.commit, outcome.changes,
                                   (self.group_id, outcome.position), owned=outcome.owned)
        except StoreUnavailableError:
            self._cache.clear()  # some documents may be written, others not
            raise
        if uncertain is None:  # a store that does not say: trust only what it owned
            uncertain = outcome.changes.keys() - outcome.owned
        self._cache.learn(outcome.read, outcome.assumed, outcome.changes, uncertain)
        self.stats.store_writes += 1
        if self.after_store_commit is not None:
            self.after_store_commit(self.stats.store_writes)
        self._commit_offsets(batch)
        self.stats.batches += 1
        self.stats.records += batch.size
        self.stats.dead_lettered += len(outcome.dead)
        return batch.size

    # -- dead letters ----------------------------------------------------------

    def _dead_letter_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap, acks="all", linger_ms=5,
                client_id=f"{self._client_id}-dlq",
            )
        return self._producer

    # -- offsets and rebalances --------------------------------------------------

    def _commit_offsets(self, batch: PolledBatch | None = None) -> None:
        """Commit the batch's offsets, and any earlier ones a failed commit left over.

        A commit fails during a rebalance; the partitions we keep keep their position
        (kafka-python 3.x), so their offsets are committed with the next attempt.
        Only partitions we still hold are committed: another member owns the rest now.
        """
        if batch is not None:
            for tp, offset in batch.next_offsets().items():
                known = self._uncommitted.get(tp)
                if known is None or known.offset < offset.offset:
                    self._uncommitted[tp] = offset
        if not self._uncommitted:
            return
        held = self._consumer.assignment()
        offsets = {tp: o for tp, o in self._uncommitted.items() if tp in held}
        try:
            if offsets:
                self._consumer.commit(offsets=offsets)
                self._committed.update({tp: o.offset for tp, o in offsets.items()})
            self._uncommitted.clear()
        except KafkaError as e:
            # The writes are done and idempotent: a redelivery of these records (to us
            # or to the partition's new owner) changes nothing.
            self.stats.offset_commit_failures += 1
            log.warning("projector %s: offset commit failed (%s); retrying with the next "
                        "batch (a redelivery meanwhile is harmless)", self.group_id, e)

    def _commit_caught_up(self) -> None:
        """Caught up (a poll found nothing, no batch in hand, nothing left to commit):
        commit the fetch position where it is past the committed offset.

        Between the two there are only records that are no events for us: the commit
        marker that ends each of the relay's transactions (and records of aborted
        transactions), which the consumer skips. Committing past them makes a drained
        group's lag (:func:`.lag.group_lag`: end offset - committed offset, what the rebuild
        and the tests wait for) 0 on transactional topics too. Everything before the
        position was returned by earlier polls and is written and committed already.
        """
        if self._pending is not None or self._uncommitted or self._paused:
            return
        ahead: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp in self._consumer.assignment():
            position = fetch_position(self._consumer, tp)
            if position is not None and position > self._committed.get(tp, -1):
                ahead[tp] = OffsetAndMetadata(position, "", -1)
        if not ahead or not still_member(self._consumer):
            return
        try:
            self._consumer.commit(offsets=ahead)
        except KafkaError as e:  # a rebalance: the next idle poll tries again
            log.debug("projector %s: committing the caught-up positions failed: %s",
                      self.group_id, e)
            return
        self._committed.update({tp: o.offset for tp, o in ahead.items()})

    def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        self._cache.clear()
        self.stats.rebalances += 1
        log.info("projector %s: partitions revoked: %s", self.group_id, sorted(revoked))

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("projector %s: partitions assigned: %s", self.group_id, sorted(assigned))
        self._cache.clear()
        self._uncommitted = {tp: o for tp, o in self._uncommitted.items() if tp in assigned}
        # Another member may have committed on these meanwhile: learn them anew.
        self._committed.clear()
        batch, self._pending = self._pending, None
        self._paused = False
        if batch is None:
            return
        # The pending batch was never written: redo it from its first offset on the
        # partitions we keep (kafka-python keeps their advanced position otherwise).
        for tp, offset in batch.first_offsets().items():
            if tp in assigned:
                self._consumer.seek(tp, offset)
        if assigned:
            self._consumer.resume(*assigned)

    def _pause(self) -> None:
        assigned = self._consumer.assignment()
        if assigned:
            self._consumer.pause(*assigned)
            self._paused = True

    def _resume(self) -> None:
        if self._paused:
            assigned = self._consumer.assignment()
            if assigned:
                self._consumer.resume(*assigned)
            self._paused = False
