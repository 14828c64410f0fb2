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
  :data:`DLQ_HEADERS`), and its
  aggregate (the record key) is *parked*: a ``parked`` document in the read store
  (written through the same port, so a restart or another group member sees it).
  Every later record of a parked aggregate is dead-lettered too, with reason
  ``parked behind <offset>``, so nothing of that aggregate is applied out of order
  while other aggregates keep flowing. :mod:`infra.kafka.deadletter` lists, replays
  and skips them, and unparks the aggregate.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import (
    ConsumerRebalanceListener,
    KafkaAdminClient,
    KafkaConsumer,
    KafkaProducer,
    OffsetAndMetadata,
    OffsetSpec,
    TopicPartition,
)
from kafka.admin import MemberToRemove
from kafka.errors import KafkaError, NoError

from domain.envelope import EventEnvelope, iso_time
from infra.contract.upcasting import upcast
from infra.kafka.codec import decode
from infra.kafka.doc_cache import DocCache
from infra.kafka.topics import Topics
from infra.read_store.port import ReadStore
from projections.engine import DocKey, fold_events
from projections.fold import Document, Fold
from projections.registry import APPEND_ONLY, SHARED

log = logging.getLogger(__name__)

PARKED = "parked"
"""Collection of parked aggregates: ``_id`` = the record key (aggregate id)."""

DLQ_HEADERS = (
    "dlq_reason", "dlq_origin_topic", "dlq_origin_partition", "dlq_origin_offset",
    "dlq_failed_at", "dlq_group", "dlq_attempts", "dlq_error",
)
"""Headers added to a dead letter (``dlq_error`` only when a record parked behind
another one is undecodable itself)."""
_MAX_FETCH_ROUNDS = 4


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


# -- reading the store: one round trip per collection, not per event --------------------


class BatchReader:
    """The documents a batch reads, as they stood before it: fetched in bulk, then
    served from memory (``None`` is remembered too). Store errors become
    :class:`StoreUnavailableError`, so they are never mistaken for poison."""

    def __init__(self, store: ReadStore, cache: DocCache | None = None) -> None:
        self.store = store
        self.cache = cache
        self.docs: dict[DocKey, Document | None] = {}
        # Taken as absent without a read: not known to be the stored state.
        self.assumed: set[DocKey] = set()
        self.round_trips = 0

    def assume_absent(self, keys: Iterable[DocKey]) -> None:
        for key in keys:
            if key not in self.docs and not self._from_cache(key):
                self.docs[key] = None
                self.assumed.add(key)

    def _from_cache(self, key: DocKey) -> bool:
        if self.cache is None:
            return False
        known, doc = self.cache.lookup(key)
        if known:
            self.docs[key] = doc
        return known

    def fetch(self, keys: Iterable[DocKey]) -> bool:
        """Load ``keys`` not known yet; whether any of them exists in the store."""
        wanted: dict[str, list[str]] = defaultdict(list)
        found_any = False
        for key in keys:
            if key in self.docs:
                continue
            if self._from_cache(key):
                found_any = found_any or self.docs[key] is not None
            else:
                wanted[key[0]].append(key[1])
        for collection, ids in wanted.items():
            found = _store_call(self.store.get_many, collection, ids)
            self.round_trips += 1
            for doc_id in ids:
                doc = found.get(doc_id)
                found_any = found_any or doc is not None
                self.docs[(collection, doc_id)] = doc
        return found_any

    def peek(self, missing: set[DocKey]) -> Callable[[str, str], Document | None]:
        """A reader that answers from memory only and notes what it did not know."""

        def read(collection: str, doc_id: str) -> Document | None:
            key = (collection, doc_id)
            if key in self.docs:
                return self.docs[key]
            missing.add(key)
            return None

        return read

    def read(self, collection: str, doc_id: str) -> Document | None:
        """A reader that falls back to one store read for what it does not know."""
        key = (collection, doc_id)
        if key not in self.docs and not self._from_cache(key):
            self.docs[key] = _store_call(self.store.get, collection, doc_id)
            self.round_trips += 1
        return self.docs[key]


def owned_keys(
    changes: Mapping[DocKey, Document], reader: BatchReader, cache: DocCache
) -> frozenset[DocKey]:
    """The changed documents this member alone writes and whose stored state the batch
    started from (read, or cached): the store may replace them by id."""
    return frozenset(
        key for key in changes
        if key in reader.docs and key not in reader.assumed
        and cache.cacheable(key) and key[0] not in APPEND_ONLY
    )


def _store_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as e:
        raise StoreUnavailableError(f"{type(e).__name__}: {e}") from e


def fold_batch(
    events: list[EventEnvelope], folds: Sequence[Fold], reader: BatchReader
) -> tuple[dict[DocKey, Document], Exception | None]:
    """``fold_events`` over a whole batch, reading what it needs in a few bulk reads.

    The folds' own routes say what a batch reads (nothing here interprets document
    content): the documents routes look up are fetched first, in rounds (a route
    may look up a document because of another one it looked up); then every
    document the folds route to (and evolve from) in one last bulk read per
    collection; then the batch is folded from memory, noting any read the prefetch
    missed. A missed document that does not exist changes nothing (the fold saw
    ``None``, which was right); one that exists makes the fold run again.

    Returns the changes, or the exception a fold raised (store failures propagate
    as :class:`StoreUnavailableError`).
    """
    routed: set[DocKey] = set()
    targets: set[DocKey] = set()
    fresh: set[DocKey] = set()
    looked_up: set[DocKey] = set()
    peek = reader.peek(looked_up)

    def discover(collection: str, doc_id: str) -> Document | None:
        # A document an earlier event of the batch routes to will exist when the
        # fold looks it up: an empty stand-in lets the route go on to the lookups
        # that depend on it (e.g. the member an incident names). It is not fetched
        # for that: it is a target (fetched below) or made by the batch itself.
        key = (collection, doc_id)
        if key in routed and key not in reader.docs:
            return {}
        return peek(collection, doc_id)

    todo = list(events)
    for _ in range(_MAX_FETCH_ROUNDS):
        looked_up.clear()
        again = []
        for event in todo:
            before = len(looked_up)
            for fold in folds:
                try:
                    ids = list(fold.route(event, discover))
                except Exception:  # noqa: S112 - the real fold reports it
                    continue
                for doc_id in ids:
                    key = (fold.collection, doc_id)
                    source = fold.source(event, doc_id)
                    if not fold.append_only:
                        if key in fresh or (
                            not fold.shared and doc_id == event.subject
                            and event.stream_version == 1 and key not in routed
                        ):
                            # Made by this very event: stored only if it was applied
                            # before (a redelivery), which the store's guard handles.
                            fresh.add(key)
                        else:
                            targets.add(key)
                        if source is not None and source != doc_id:
                            targets.add((fold.collection, source))
                    elif source is not None and source != doc_id and (
                        (fold.collection, source) not in routed
                    ):
                        # Written once and never read back, except as the source of
                        # the next one (history): only that source is read.
                        targets.add((fold.collection, source))
                    routed.add(key)
            if len(looked_up) > before:  # its routes read what we did not know yet
                again.append(event)
        wanted = looked_up - reader.docs.keys()
        if not wanted:
            break
        reader.fetch(wanted)
        todo = again
    # What the folds evolve from: the entity views, and history records not in the batch.
    reader.assume_absent(fresh - targets)
    reader.fetch(targets - reader.docs.keys())
    for _ in range(_MAX_FETCH_ROUNDS):
        missing: set[DocKey] = set()
        changes: dict[DocKey, Document] = {}
        error: Exception | None = None
        try:
            changes = fold_events(events, folds, reader.peek(missing), blind_writes=True)
        except StoreUnavailableError:
            raise
        except Exception as e:
            error = e
        if not missing or not reader.fetch(missing):
            return changes, error
    try:
        return fold_events(events, folds, reader.read, blind_writes=True), None
    except StoreUnavailableError:
        raise
    except Exception as e:
        return {}, e


# -- one batch ----------------------------------------------------------------------------


@dataclass
class _Item:
    """One record of a batch and what became of it."""

    tp: TopicPartition
    offset: int
    key: str | None
    record: Any
    envelope: EventEnvelope | None = None
    error: str | None = None
    attempts: int = 0
    dead_reason: str | None = None


@dataclass
class _Outcome:
    changes: dict[DocKey, Document]
    dead: list[_Item]
    position: int
    # Documents read before the batch (its folds' view of the store), and those of
    # them this member alone writes: the store may replace those by id.
    read: dict[DocKey, Document | None] = field(default_factory=dict)
    assumed: frozenset[DocKey] = frozenset()
    owned: frozenset[DocKey] = frozenset()
    dead_letters_sent: bool = False


@dataclass
class _Batch:
    by_tp: dict[TopicPartition, list[_Item]]
    outcome: _Outcome | None = None

    @property
    def size(self) -> int:
        return sum(len(items) for items in self.by_tp.values())

    def first_offsets(self) -> dict[TopicPartition, int]:
        return {tp: items[0].offset for tp, items in self.by_tp.items() if items}

    def next_offsets(self) -> dict[TopicPartition, OffsetAndMetadata]:
        return {
            tp: OffsetAndMetadata(items[-1].offset + 1, "", -1)
            for tp, items in self.by_tp.items() if items
        }


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


class _Listener(ConsumerRebalanceListener):
    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.projector._on_revoked(set(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.projector._on_assigned(set(assigned))


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
        self._cache = DocCache(cache_docs, never=SHARED | {PARKED})
        self._client_id = client_id or f"opsledger-projector-{group_id}"
        self._producer = producer
        self._owns_producer = producer is None
        self._pending: _Batch | None = None
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
        self._consumer.subscribe(list(topics.event_topics), listener=_Listener(self))

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
        """
        if self._pending is None:
            polled = self._consumer.poll(timeout_ms=self.poll_timeout_ms,
                                         max_records=self.batch_size)
            if not polled:
                self._commit_offsets()  # anything a failed commit left over
                self._commit_caught_up()
                return 0
            self._pending = self._batch_of(polled)
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
            self._pending = self._batch_of(polled)
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
                self._leave_as_static_member(member_id)
        finally:
            if self._producer is not None and self._owns_producer:
                self._producer.close(timeout=5)

    def _leave_as_static_member(self, member_id: str | None) -> None:
        """Remove this static member from the group, so its partitions move now rather
        than after the session timeout. With our member id too: a newer process that
        took the same instance id over is not removed (the broker fences the request)."""
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap,
                                     client_id=f"{self._client_id}-leave",
                                     request_timeout_ms=10_000)
        except KafkaError as e:
            log.warning("projector %s: could not leave the group as %s (%s); its partitions "
                        "move when the session times out", self.group_id,
                        self.group_instance_id, e)
            return
        try:
            results = admin.remove_group_members(self.group_id, [MemberToRemove(
                member_id=member_id or None, group_instance_id=self.group_instance_id,
                reason="projector stopped")])
            errors = [e for e in results.values() if e is not NoError]
            if errors:
                log.info("projector %s: leaving as %s: %s", self.group_id,
                         self.group_instance_id, errors[0].__name__)
            else:
                log.info("projector %s: left the group as static member %s", self.group_id,
                         self.group_instance_id)
        except KafkaError as e:
            log.warning("projector %s: could not leave the group as %s (%s); its partitions "
                        "move when the session times out", self.group_id,
                        self.group_instance_id, e)
        finally:
            admin.close()

    def assignment(self) -> set[TopicPartition]:
        """The partitions this member holds now."""
        return set(self._consumer.assignment())

    # -- lag -------------------------------------------------------------------

    def lag(self) -> int:
        """Records on this member's partitions not folded yet: those not fetched yet (end
        offset - fetch position) and those of the batch in hand.

        Measured from the consumer's position, not the committed offset: on the relay's
        transactional topics every transaction ends with a commit marker that takes an
        offset but is no record, and the committed offset (last record + 1) stops
        before it. The position moves past markers, so a drained member reports 0
        (while behind, markers still ahead are counted, at most one per transaction).
        """
        partitions = list(self._consumer.assignment())
        if not partitions:
            return 0
        ends = self._consumer.end_offsets(partitions)
        pending = self._pending.by_tp if self._pending is not None else {}
        total = 0
        for tp in partitions:
            position = self._position(tp)
            if position is None:
                committed = self._consumer.committed(tp)
                position = committed if committed is not None else (
                    self._consumer.beginning_offsets([tp])[tp])
            total += max(0, ends[tp] - position) + len(pending.get(tp, ()))
        return total

    def _position(self, tp: TopicPartition) -> int | None:
        try:
            position = self._consumer.position(tp, timeout_ms=5000)
        except KafkaError:
            return None
        return int(position) if position is not None else None

    # -- a batch ---------------------------------------------------------------

    @staticmethod
    def _batch_of(polled: Mapping[TopicPartition, list[Any]]) -> _Batch:
        by_tp: dict[TopicPartition, list[_Item]] = {}
        for tp, records in polled.items():
            by_tp[tp] = [
                _Item(tp, r.offset, r.key.decode("utf-8", "replace") if r.key else None, r)
                for r in records
            ]
        return _Batch(by_tp)

    def _apply(self, batch: _Batch) -> int:
        if batch.outcome is None:
            batch.outcome = self._compute(batch)
        outcome = batch.outcome
        if not self._still_member():
            self._cache.clear()
            if not outcome.dead_letters_sent:
                batch.outcome = None  # recomputed from fresh reads once the group settles
            raise MembershipInDoubtError("the consumer group is rebalancing")
        if outcome.dead and not outcome.dead_letters_sent:
            self._publish_dead_letters(outcome.dead)
            outcome.dead_letters_sent = True
        try:
            uncertain = _store_call(self.store.commit, outcome.changes,
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

    def _compute(self, batch: _Batch) -> _Outcome:
        """What the batch changes, and which records it dead-letters (no writes)."""
        for items in batch.by_tp.values():
            for item in items:
                self._decode(item)
        keys = sorted({i.key for items in batch.by_tp.values() for i in items if i.key})
        # Parked aggregates are few: one query for all of them beats one read per key
        # of the batch (FerretDB reads by id one document per round trip).
        wanted = set(keys)
        parked_now = {
            doc["_id"]: doc
            for doc in _store_call(lambda: list(self.store.iter_find(PARKED, {"status": "parked"})))
            if doc["_id"] in wanted and is_parked(doc)
        }
        behind = {key: doc.get("origin", {}).get("offset") for key, doc in parked_now.items()}
        newly_parked: dict[str, Document] = {}
        dead: list[_Item] = []

        def park(item: _Item, reason: str) -> None:
            item.dead_reason = reason
            dead.append(item)
            if item.key is not None and item.key not in behind:
                behind[item.key] = item.offset
                newly_parked[item.key] = parked_doc(
                    item.key, group=self.group_id, reason=reason, at=now_iso(),
                    origin={"topic": item.tp.topic, "partition": item.tp.partition,
                            "offset": item.offset},
                    event_type=item.envelope.type if item.envelope else None,
                )

        # Per partition, in order: what cannot even be decoded parks its aggregate.
        candidates: dict[TopicPartition, list[_Item]] = {}
        for tp, items in batch.by_tp.items():
            candidates[tp] = []
            for item in items:
                if item.key is not None and item.key in behind:
                    park(item, f"parked behind {behind[item.key]}")
                elif item.error is not None:
                    park(item, item.error)
                else:
                    candidates[tp].append(item)
        ordered = self._merged(candidates)
        snapshot = BatchReader(self.store, self._cache)
        changes, error = fold_batch(
            [i.envelope for i in ordered], self.folds, snapshot  # type: ignore[misc]
        )
        if error is not None:
            log.warning("projector %s: a fold failed (%s); applying the batch one record "
                        "at a time", self.group_id, error)
            changes = {}
            reader = _overlay(changes, snapshot)
            for item in ordered:
                if item.key is not None and item.key in behind:
                    park(item, f"parked behind {behind[item.key]}")
                    continue
                single, failure = self._fold_one(item, reader)
                if failure is not None:
                    park(item, failure)
                else:
                    changes.update(single)
        for key, doc in newly_parked.items():
            changes[(PARKED, key)] = doc
            log.error("projector %s: parked aggregate %s: %s", self.group_id, key, doc["reason"])
        dead.sort(key=lambda i: (i.tp.topic, i.tp.partition, i.offset))
        position = max((i.envelope.position for i in ordered if i.envelope), default=0)
        return _Outcome(changes, dead, position, read=snapshot.docs,
                        assumed=frozenset(snapshot.assumed),
                        owned=owned_keys(changes, snapshot, self._cache))

    def _still_member(self) -> bool:
        """Whether the group is stable with us in it, so our partitions are ours."""
        coordinator = getattr(self._consumer, "_coordinator", None)
        if coordinator is None:  # pragma: no cover - kafka-python internals moved
            return True
        return coordinator.generation_if_stable() is not None and not coordinator.need_rejoin()

    def _decode(self, item: _Item) -> None:
        """Decode and upcast, tried ``1 + max_retries`` times like any poison."""
        for attempt in range(1, self.max_retries + 2):
            item.attempts = attempt
            try:
                item.envelope = decode_record(item.record.value)
                item.error = None
                return
            except Exception as e:
                item.error = f"{type(e).__name__}: {e}"

    @staticmethod
    def _merged(candidates: Mapping[TopicPartition, list[_Item]]) -> list[_Item]:
        """All partitions merged by global position, each partition's order kept.

        Per-aggregate order is what correctness needs (a key lives in one partition);
        merging by position also replays the cross-aggregate order of the ledger as
        far as one batch can.
        """
        return list(heapq.merge(
            *candidates.values(), key=lambda i: i.envelope.position  # type: ignore[union-attr]
        ))

    def _fold_one(
        self, item: _Item, reader: Callable[[str, str], Document | None]
    ) -> tuple[dict[DocKey, Document], str | None]:
        failure = None
        for attempt in range(1, self.max_retries + 2):
            item.attempts = attempt
            try:
                return fold_events([item.envelope], self.folds, reader,  # type: ignore[list-item]
                                   blind_writes=True), None
            except StoreUnavailableError:
                raise
            except Exception as e:
                failure = f"{type(e).__name__}: {e}"
        return {}, failure

    # -- dead letters ----------------------------------------------------------

    def _dead_letter_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap, acks="all", linger_ms=5,
                client_id=f"{self._client_id}-dlq",
            )
        return self._producer

    def _publish_dead_letters(self, dead: list[_Item]) -> None:
        try:
            producer = self._dead_letter_producer()
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
                    ("dlq_group", self.group_id.encode()),
                    ("dlq_attempts", str(item.attempts).encode()),
                ]
                if item.error is not None and item.error != item.dead_reason:
                    # Parked behind another record, and poison itself too: say so.
                    headers.append(("dlq_error", item.error.encode()))
                futures.append(producer.send(
                    self.topics.deadletter, key=record.key, value=record.value, headers=headers,
                ))
            producer.flush(timeout=30)
            for future in futures:
                future.get(timeout=30)
        except KafkaError as e:
            raise DeadLetterUnavailableError(f"dead-letter topic: {type(e).__name__}: {e}") from e
        for item in dead:
            log.error("projector %s: dead-lettered %s/%d@%d (key %s): %s", self.group_id,
                      item.tp.topic, item.tp.partition, item.offset, item.key, item.dead_reason)

    # -- offsets and rebalances --------------------------------------------------

    def _commit_offsets(self, batch: _Batch | None = None) -> None:
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
        group's lag (:func:`group_lag`: end offset - committed offset, what the rebuild
        and the tests wait for) 0 on transactional topics too. Everything before the
        position was returned by earlier polls and is written and committed already.
        """
        if self._pending is not None or self._uncommitted or self._paused:
            return
        ahead: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp in self._consumer.assignment():
            position = self._position(tp)
            if position is not None and position > self._committed.get(tp, -1):
                ahead[tp] = OffsetAndMetadata(position, "", -1)
        if not ahead or not self._still_member():
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


def _overlay(
    changes: dict[DocKey, Document], snapshot: BatchReader
) -> Callable[[str, str], Document | None]:
    def read(collection: str, doc_id: str) -> Document | None:
        key = (collection, doc_id)
        return changes[key] if key in changes else snapshot.read(collection, doc_id)

    return read


# -- the whole group's lag (for logs, metrics, tests and the benchmark) -------------------


def group_lag(bootstrap: str, topics: Topics, group_id: str,
              admin: KafkaAdminClient | None = None) -> int:
    """Sum over the event partitions of ``end offset - committed offset`` for ``group_id``
    (a partition the group never committed counts from its first offset).

    0 once the group's members are drained, on transactional topics too: a caught-up
    member commits its position, past the transactions' commit markers (see
    :meth:`Projector._commit_caught_up`)."""
    own = admin is None
    client = admin or KafkaAdminClient(bootstrap_servers=bootstrap,
                                       client_id=f"opsledger-lag-{group_id}")
    try:
        partitions = [
            TopicPartition(t["name"], p["partition_index"])
            for t in client.describe_topics(list(topics.event_topics))
            for p in t["partitions"]
        ]
        committed = client.list_group_offsets(group_id).get(group_id, {})
        ends = client.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
        starts = client.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in partitions})
        total = 0
        for tp in partitions:
            done = committed.get(tp)
            start = done.offset if done is not None and done.offset >= 0 else starts[tp].offset
            total += max(0, ends[tp].offset - start)
        return total
    finally:
        if own:
            client.close()
