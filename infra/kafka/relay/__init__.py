"""The outbox relay: the event store's notification log, published to Kafka exactly once.

Delivery guarantee
==================

Every public event in the event store is published to its context topic
(``<prefix>.<context>.events``, keyed by aggregate id) **exactly once, in position
order**, as seen by ``read_committed`` consumers; a crash (kill -9), a restart, or an
unreachable broker never loses, reorders or duplicates an event. Records that are
not public events (idempotency keys) are never published, but are passed over.

How:

- The relay follows the notification log in position order. The SQLite recorder
  cannot push, so the relay polls: at once again while there is a backlog, backing
  off to ``poll_interval`` (~200 ms) when idle (a save in the same process wakes it).
- It publishes with a transactional producer (stable ``transactional_id``,
  ``acks=all``, idempotent). Each Kafka transaction carries one batch: the events
  at positions ``p..q`` and one record ``{"position": q}`` keyed ``relay`` on the
  compacted checkpoint topic. Either all of it becomes visible, or none of it.
- On start (and after any producer failure) it calls ``init_transactions()``, which
  fences an older producer with the same id (a zombie) and completes or aborts its
  open transaction; then it reads the last *committed* checkpoint ``q`` with a
  ``read_committed`` consumer and resumes at ``q + 1``. Kafka is the only record
  of progress, so no second store can disagree with it.
- A transaction is committed only after every record in it was acknowledged; any
  error aborts it (or, if the outcome of a commit is unknown, the producer is
  rebuilt and the checkpoint re-read). While Kafka is unreachable the relay logs,
  backs off (bounded exponential, up to ``max_backoff``) and does not advance.

Consumers must use ``isolation_level="read_committed"``: a ``read_uncommitted``
consumer can see records of aborted transactions, i.e. duplicates.
Run one relay per topic prefix: a second one fences the first (safe, but they
take turns).

Metrics: :attr:`Relay.position` (last committed), :meth:`Relay.lag`,
:meth:`Relay.events_per_second`, :attr:`Relay.published`; a progress line is
logged every ``progress_every`` seconds while events flow.

Throughput
==========

kafka-python spends ~70 µs of pure Python per ``send()`` of a record with our 14
headers, which alone caps a relay near 10,000 events/s. With ``fast=True`` (the
default) the relay instead encodes each stored event straight into Kafka's record
format and appends whole batches to the producer's record batches (the fast path,
:mod:`.fast_path`, appended by :mod:`.producer_internals`). It is guarded four ways: it runs
only on the kafka-python release line whose internals it was written against (3.0);
a start-up self-test against kafka-python's own record builder; a per-batch check of
one event against the reference path (``read_envelopes`` + ``codec.encode``), with a
fallback to the reference path (``send()``) if any of these disagree; and before a
commit, every record batch must have been acknowledged (``batch_failure``, the
same outcome ``send()``'s futures report). ``fast=False`` always takes the
reference path.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from kafka import KafkaProducer
from kafka import __version__ as kafka_version
from kafka.errors import KafkaError, KafkaTimeoutError

from domain.ledger import Ledger
from infra.event_store.log import read_envelopes
from infra.kafka import codec
from infra.kafka.admin import reachable
from infra.kafka.relay.checkpoint import CHECKPOINT_KEY, read_checkpoint
from infra.kafka.relay.fast_path import FastEncoder, FastPathMismatchError
from infra.kafka.relay.producer_internals import (
    KNOWN_VERSION,
    BatchAppender,
    batch_failure,
    default_compression,
    discard,
    end_transaction,
)
from infra.kafka.relay.producer_settings import relay_producer
from infra.kafka.topics import Topics

if TYPE_CHECKING:
    from infra.kafka.relay.producer_internals import ProducerBatch

__all__ = [
    "Batch", "HashOf", "KafkaUnavailableError", "Relay", "default_compression", "no_hashes",
    "read_checkpoint",
]

log = logging.getLogger(__name__)

HashOf = Callable[[int], "tuple[str, str] | None"]
"""``(prev_hash, hash)`` for the event at a position, to override what the event store
attached to the envelope; ``None`` keeps the envelope's own chain link."""


def no_hashes(position: int) -> tuple[str, str] | None:
    return None


class KafkaUnavailableError(KafkaError):
    """No broker answered at the bootstrap address."""


@dataclass(frozen=True)
class Batch:
    """What one transaction publishes: the events after ``after`` up to ``last``.

    ``records`` are ``(topic, key, value, headers)`` on the reference path, and
    ``(topic, key, record_tail)`` on the fast path (``fast=True``).
    """

    after: int
    last: int
    records: list[Any]
    fast: bool = False

    @property
    def events(self) -> int:
        return len(self.records)


class Relay:
    """Publishes the ledger's events to Kafka, one transaction per batch."""

    def __init__(
        self,
        ledger: Ledger,
        bootstrap: str,
        topics: Topics,
        *,
        transactional_id: str,
        batch_size: int = 2000,
        poll_interval: float = 0.2,
        max_backoff: float = 10.0,
        hash_of: HashOf = no_hashes,
        operation_timeout: float = 30.0,
        progress_every: float = 10.0,
        producer_config: dict[str, Any] | None = None,
        fast: bool = True,
        prefetch: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.ledger = ledger
        self.bootstrap = bootstrap
        self.topics = topics
        self.transactional_id = transactional_id
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.hash_of = hash_of
        self.operation_timeout = operation_timeout
        self.progress_every = progress_every
        self.producer_config = dict(producer_config or {})
        self.fast = fast and FastEncoder.usable(ledger)
        self.prefetch = prefetch

        self.position = 0
        """The last position whose batch Kafka committed (valid once connected)."""
        self.published = 0
        """Events this relay object has published (committed)."""
        self._producer: KafkaProducer | None = None
        self._appender: BatchAppender | None = None
        self._encoder = FastEncoder(ledger, topics, hash_of) if self.fast else None
        self._event_topics: dict[str, str] = {}
        self._reader: ThreadPoolExecutor | None = None
        self._prefetched: tuple[int, Future[Batch]] | None = None
        self._rate: collections.deque[tuple[float, int]] = collections.deque(maxlen=256)
        self._last_progress = time.monotonic()
        self._progress_published = 0
        self._wakeup = wakeup = threading.Event()
        ledger.add_listener(lambda _position: wakeup.set())  # a save in this process

    # -- metrics ---------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._producer is not None

    def head(self) -> int:
        return self.ledger.head_position()

    def lag(self) -> int:
        """Positions stored but not yet committed to Kafka."""
        return max(self.head() - self.position, 0)

    def events_per_second(self, window: float = 10.0) -> float:
        """Events committed per second over (about) the last ``window`` seconds."""
        now = time.monotonic()
        recent = [(t, n) for t, n in self._rate if now - t <= window]
        if not recent:
            return 0.0
        return sum(n for _, n in recent) / max(now - recent[0][0], window / 10)

    # -- lifecycle -------------------------------------------------------------

    def connect(self) -> None:
        """Build the producer, fence zombies, and resume after the committed checkpoint."""
        if self._producer is not None:
            return
        if not reachable(self.bootstrap):
            raise KafkaUnavailableError(f"no Kafka broker listens at {self.bootstrap}")
        producer = relay_producer(self.bootstrap, self.transactional_id,
                                  self.operation_timeout, self.producer_config)
        try:
            producer.init_transactions()
            position = read_checkpoint(
                self.bootstrap, self.topics.relay_checkpoint, timeout=self.operation_timeout,
            )
        except BaseException:
            discard(producer)
            raise
        self._producer = producer
        self._appender = None
        if self.fast:
            self._appender = BatchAppender.attach(producer, self.operation_timeout)
            if self._appender is None:
                self._fall_back(f"kafka-python {kafka_version}'s producer internals are not "
                                f"the known ones ({KNOWN_VERSION}x)")
        self.position = position
        self._last_progress = time.monotonic()
        self._progress_published = self.published
        head = self.head()
        if position > head:
            log.warning(
                "relay checkpoint %d is past the event store's head %d: is %s the "
                "topic prefix of another event store?", position, head, self.topics.prefix,
            )
        log.info("relay %s resumes after position %d (head %d)",
                 self.transactional_id, position, head)

    def close(self) -> None:
        producer, self._producer = self._producer, None
        self._appender = None
        reader, self._reader = self._reader, None
        self._prefetched = None
        if reader is not None:
            reader.shutdown(wait=True)
        if producer is not None:
            try:
                producer.close(timeout=5)
            except Exception:  # close() flushes first, and raises if that times out
                discard(producer)

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- work --------------------------------------------------------------------

    def run_once(self) -> int:
        """Publish at most one batch in one transaction; return the events published.

        Connects first if needed. Raises on a Kafka error, after aborting the
        transaction (or dropping the producer): nothing of the batch is visible then,
        and the next call retries from the last committed position.
        """
        return self._step()[0]

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set; ride out any number of Kafka outages."""
        backoff = 0.0
        idle = 0.0
        try:
            while not stop.is_set():
                try:
                    _, advanced = self._step()
                except Exception as e:
                    backoff = min(max(backoff * 2, 0.1), self.max_backoff)
                    log.warning("relay: %s; retrying in %.1fs after position %d",
                                _describe(e), backoff, self.position)
                    stop.wait(backoff)
                    continue
                backoff = 0.0
                self._maybe_log_progress(caught_up=not advanced)
                if advanced:
                    idle = 0.0
                    continue  # a backlog: at once again
                idle = min(max(idle * 2, 0.01), self.poll_interval)
                self._wakeup.wait(idle)
                self._wakeup.clear()
        finally:
            self.close()
            log.info("relay %s stopped at position %d", self.transactional_id, self.position)

    def _step(self) -> tuple[int, bool]:
        self.connect()
        batch = self._next_batch()
        if batch.last == batch.after:
            return 0, False
        self._publish(batch)
        self.position = batch.last
        self.published += batch.events
        self._rate.append((time.monotonic(), batch.events))
        return batch.events, True

    def _next_batch(self) -> Batch:
        """The batch after the committed position: prefetched if it is the right one."""
        pending, self._prefetched = self._prefetched, None
        if pending is not None:
            after, future = pending
            try:
                batch = future.result()
            except Exception as e:
                log.warning("relay: reading ahead failed (%s: %s)", type(e).__name__, e)
            else:
                if after == self.position and (not batch.fast or self._appender is not None):
                    return batch
        return self.read_batch(self.position)

    def _read_ahead(self, after: int) -> None:
        """Read the next batch while this one is flushed and committed.

        The sender thread compresses and checksums meanwhile (much of it without
        the GIL), so reading the store overlaps with it instead of following it.
        """
        if not self.prefetch:
            return
        if self._reader is None:
            self._reader = ThreadPoolExecutor(1, thread_name_prefix="relay-read-ahead")
        self._prefetched = (after, self._reader.submit(self.read_batch, after))

    def read_batch(self, after: int) -> Batch:
        """The next batch after ``after``, encoded for Kafka."""
        if self._encoder is not None and self._appender is not None:
            try:
                last, fast_records = self._encoder.read(after, self.batch_size)
            except FastPathMismatchError as e:
                self._fall_back(str(e))
            else:
                return Batch(after, last, list(fast_records), fast=True)
        envelopes, last = read_envelopes(self.ledger, after, self.batch_size)
        records = []
        topics = self._event_topics
        hash_of = self.hash_of
        for envelope in envelopes:
            topic = topics.get(envelope.context)
            if topic is None:
                topic = topics[envelope.context] = self.topics.events(envelope.context)
            key, value, headers = codec.encode(envelope, hash_of(envelope.position))
            records.append((topic, key, value, headers))
        return Batch(after, last, records)

    def _fall_back(self, why: str) -> None:
        log.error("relay: leaving the fast path for the reference path: %s", why)
        self.fast = False
        self._encoder = None
        self._appender = None

    def _publish(self, batch: Batch) -> None:
        producer = self._producer
        if producer is None:
            raise KafkaUnavailableError("the relay is not connected")
        if batch.fast and self._appender is None:  # the fast path was left meanwhile
            batch = self.read_batch(batch.after)
        committing = False
        try:
            producer.begin_transaction()
            record_batches: list[ProducerBatch] = []
            if batch.fast and self._appender is not None:
                record_batches = self._appender.append(batch.records)
                futures = []
            else:
                send = producer.send
                futures = [send(topic, value, key=key, headers=headers)
                           for topic, key, value, headers in batch.records]
            futures.append(producer.send(
                self.topics.relay_checkpoint, orjson.dumps({"position": batch.last}),
                key=CHECKPOINT_KEY,
            ))
            self._read_ahead(batch.last)
            producer.flush(timeout=self.operation_timeout)
            # kafka-python fails a record batch that ran out of time without failing
            # the transaction: commit only if every record was acknowledged.
            for future in futures:
                if future.exception is not None or not future.is_done:
                    raise future.exception or KafkaTimeoutError("records not acknowledged")
            for record_batch in record_batches:
                failure = batch_failure(record_batch)
                if failure is not None:
                    raise failure
            committing = True
            end_transaction(producer, commit=True, timeout=self.operation_timeout)
        except BaseException as e:
            self._recover(e, committing)
            raise

    def _recover(self, error: BaseException, committing: bool) -> None:
        """Leave no open transaction behind: abort it, or drop the producer."""
        producer = self._producer
        if producer is None:
            return
        if not committing:
            try:
                end_transaction(producer, commit=False, timeout=self.operation_timeout)
                log.info("relay: aborted the transaction after position %d (%s)",
                         self.position, type(error).__name__)
                return
            except Exception as e:
                log.info("relay: cannot abort (%s); rebuilding the producer", _describe(e))
        # A commit whose outcome is unknown, or a producer in a fatal state (fenced):
        # start over. init_transactions() on the new producer completes or aborts the
        # old transaction, and the committed checkpoint says where to resume.
        self._producer = None
        self._appender = None
        discard(producer)

    def _maybe_log_progress(self, caught_up: bool = False) -> None:
        """A progress line every ``progress_every`` seconds, and on catching up."""
        now = time.monotonic()
        elapsed = now - self._last_progress
        published = self.published - self._progress_published
        if elapsed < self.progress_every and not (caught_up and published):
            return
        if published:
            log.info(
                "relay %s position %d (head %d, lag %d): %d events in %.1fs, %.0f events/s",
                "caught up at" if caught_up else "at", self.position, self.head(), self.lag(),
                published, elapsed, published / max(elapsed, 1e-3),
            )
        self._last_progress = now
        self._progress_published = self.published


def _describe(error: BaseException) -> str:
    text = str(error)  # a KafkaError's text starts with its class name already
    name = type(error).__name__
    return text if text.startswith(name) else f"{name}: {text}"
