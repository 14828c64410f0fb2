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
:class:`_FastEncoder` and :class:`_BatchAppender`). It is guarded four ways: it runs
only on the kafka-python release line whose internals it was written against (3.0);
a start-up self-test against kafka-python's own record builder; a per-batch check of
one event against the reference path (``read_envelopes`` + ``codec.encode``), with a
fallback to the reference path (``send()``) if any of these disagree; and before a
commit, every record batch must have been acknowledged (:func:`batch_failure`, the
same outcome ``send()``'s futures report). ``fast=False`` always takes the
reference path.
"""

from __future__ import annotations

import collections
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic
from kafka import KafkaConsumer, KafkaProducer
from kafka import __version__ as kafka_version
from kafka.errors import IllegalStateError, KafkaError, KafkaTimeoutError
from kafka.partitioner.default import murmur2
from kafka.producer.producer_batch import ProducerBatch
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecordsBuilder
from kafka.record.util import crc32c_c
from kafka.structs import TopicPartition

from domain.aggregate import LedgerAggregate
from domain.envelope import _BASE_FIELDS, EventEnvelope, event_id, iso_time, wire_type
from domain.ledger import Ledger
from infra.contract.cloudevents import to_cloudevent
from infra.event_store.log import read_envelopes
from infra.kafka import codec
from infra.kafka.admin import reachable
from infra.kafka.topics import Topics

log = logging.getLogger(__name__)

CHECKPOINT_KEY = b"relay"

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
        self.fast = fast and _FastEncoder.usable(ledger)
        self.prefetch = prefetch

        self.position = 0
        """The last position whose batch Kafka committed (valid once connected)."""
        self.published = 0
        """Events this relay object has published (committed)."""
        self._producer: KafkaProducer | None = None
        self._appender: _BatchAppender | None = None
        self._encoder = _FastEncoder(ledger, topics, hash_of) if self.fast else None
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
        producer = self._new_producer()
        try:
            producer.init_transactions()
            position = read_checkpoint(
                self.bootstrap, self.topics.relay_checkpoint, timeout=self.operation_timeout,
            )
        except BaseException:
            _discard(producer)
            raise
        self._producer = producer
        self._appender = None
        if self.fast:
            self._appender = _BatchAppender.attach(producer, self.operation_timeout)
            if self._appender is None:
                self._fall_back(f"kafka-python {kafka_version}'s producer internals are not "
                                f"the known ones ({_BatchAppender._KNOWN}x)")
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
                _discard(producer)

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
                batch = self._encoder.read(after, self.batch_size)
            except _FastPathMismatchError as e:
                self._fall_back(str(e))
            else:
                return batch
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
            _end_transaction(producer, commit=True, timeout=self.operation_timeout)
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
                _end_transaction(producer, commit=False, timeout=self.operation_timeout)
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
        _discard(producer)

    def _new_producer(self) -> KafkaProducer:
        config: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "client_id": f"opsledger-relay-{self.transactional_id}",
            "transactional_id": self.transactional_id,
            "acks": "all",
            "enable_idempotence": True,
            # A transaction is flushed at its end anyway; linger lets the sender
            # fill big batches meanwhile instead of sending many small requests.
            "linger_ms": 50,
            "batch_size": 512 * 1024,
            "compression_type": default_compression(),
            "max_block_ms": int(self.operation_timeout * 1000),
            "request_timeout_ms": 15_000,
            "delivery_timeout_ms": int(self.operation_timeout * 1000),
            "transaction_timeout_ms": 60_000,
            "bootstrap_timeout_ms": 10_000,
            "reconnect_backoff_max_ms": 2_000,
            **self.producer_config,
        }
        config["delivery_timeout_ms"] = max(
            config["delivery_timeout_ms"], config["linger_ms"] + config["request_timeout_ms"],
        )
        return KafkaProducer(**config)

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


def default_compression() -> str | None:
    """``None`` where kafka-python checksums batches in C (the ``crc32c`` package),
    else ``"gzip"``.

    Without ``crc32c``, kafka-python computes each batch's CRC-32C in pure Python
    (~8 MB/s): on gzip's output that costs ~13 µs an event, on raw JSON ~150 µs.
    With it, skipping gzip (level 9, in the sender thread) is fastest: ~1.5x the
    events/s, for ~8x the bytes on the broker.
    """
    return None if crc32c_c is not None else "gzip"


def _describe(error: BaseException) -> str:
    text = str(error)  # a KafkaError's text starts with its class name already
    name = type(error).__name__
    return text if text.startswith(name) else f"{name}: {text}"


# -- the checkpoint ------------------------------------------------------------------


def read_checkpoint(bootstrap: str, topic: str, timeout: float = 30.0) -> int:
    """The position of the last committed checkpoint record (0 if there is none).

    Reads the single-partition topic ``read_committed`` from a window before its end
    (the last stable offset), widening the window while it holds only aborted records
    or transaction markers.
    """
    deadline = time.monotonic() + timeout
    ms = max(int(timeout * 1000), 1000)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, client_id="opsledger-relay-checkpoint",
        group_id=None, enable_auto_commit=False, isolation_level="read_committed",
        auto_offset_reset="earliest", bootstrap_timeout_ms=ms, request_timeout_ms=ms,
    )
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        begin = consumer.beginning_offsets([tp], timeout_ms=ms)[tp]
        end = consumer.end_offsets([tp], timeout_ms=ms)[tp]
        window = 64
        while True:
            start = max(begin, end - window)
            consumer.seek(tp, start)
            last: bytes | None = None
            while consumer.position(tp, timeout_ms=ms) < end:
                if time.monotonic() > deadline:
                    raise KafkaTimeoutError(f"reading {topic} took more than {timeout:.0f}s")
                for record in consumer.poll(timeout_ms=500).get(tp, []):
                    if record.offset < end and record.value is not None:
                        last = record.value
            if last is not None:
                return int(orjson.loads(last)["position"])
            if start <= begin:
                return 0
            window *= 16
    finally:
        consumer.close()


# -- transactions, bounded -------------------------------------------------------------


def _end_transaction(producer: KafkaProducer, *, commit: bool, timeout: float) -> None:
    """``commit_transaction()``/``abort_transaction()``, but bounded in time.

    kafka-python 3.x waits for the broker's answer without a timeout, so an outage
    at the wrong moment would hang the relay; this waits at most ``timeout``
    seconds and raises ``KafkaTimeoutError`` (the outcome is then unknown).
    """
    manager = getattr(producer, "_transaction_manager", None)
    sender = getattr(producer, "_sender", None)
    if manager is None or sender is None:  # not the kafka-python we know: unbounded
        producer.commit_transaction() if commit else producer.abort_transaction()
        return
    result = manager.begin_commit() if commit else manager.begin_abort()
    sender.wakeup()
    if not result.wait(timeout_ms=timeout * 1000):
        raise KafkaTimeoutError(
            f"{'commit' if commit else 'abort'} not answered within {timeout:.0f}s"
        )


def _discard(producer: KafkaProducer) -> None:
    """Close a producer that may hold unsendable records, without waiting for them.

    ``KafkaProducer.close(timeout)`` flushes first and raises if that times out,
    leaving its I/O thread running; stop the thread first.
    """
    sender = getattr(producer, "_sender", None)
    try:
        if sender is not None:
            sender.force_close()
            sender.join(5)
        producer.close(timeout=0)
    except Exception as e:
        log.debug("relay: closing a failed producer: %s", e)


# -- the fast path: Kafka records straight from stored events ------------------------


class _FastPathMismatchError(RuntimeError):
    """The fast path disagrees with the reference path."""


class _SlowEventError(Exception):
    """An event the fast path does not handle; the reference path encodes it."""


def _zigzag_varint(value: int) -> bytes:
    """Kafka's (protobuf zigzag) varint, as ``kafka.record.util.encode_varint``."""
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


_VARINTS = tuple(_zigzag_varint(i) for i in range(1 << 14))


def _varint(value: int) -> bytes:
    return _VARINTS[value] if 0 <= value < 16384 else _zigzag_varint(value)


_HEADER_PREFIXES: dict[str, bytes] = {}


def _header_prefix(name: str) -> bytes:
    """A header's name as the record carries it (length, then UTF-8)."""
    prefix = _HEADER_PREFIXES.get(name)
    if prefix is None:
        raw = name.encode()
        prefix = _HEADER_PREFIXES[name] = _varint(len(raw)) + raw
    return prefix


def _record_tail(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> bytes:
    """A v2 record after its attributes, timestamp delta and offset delta."""
    parts = [_varint(len(key)), key, _varint(len(value)), value, _varint(len(headers))]
    for name, raw in headers:
        parts += (_header_prefix(name), _varint(len(raw)), raw)
    return b"".join(parts)


_CONTENT_TYPE_HEADER = (
    _header_prefix("content-type") + _varint(len(codec.CONTENT_TYPE)) + codec.CONTENT_TYPE
)
_CE_HEADERS = tuple((k, _header_prefix(f"ce_{k}")) for k in codec._HEADER_ATTRIBUTES)


def _cloudevent_tail(key: bytes, value: bytes, ce: dict[str, Any]) -> bytes:
    """``_record_tail(*codec.encode(...))``, from the CloudEvent, in one pass."""
    parts = [_CONTENT_TYPE_HEADER]
    for attribute, prefix in _CE_HEADERS:
        if attribute in ce:
            raw = str(ce[attribute]).encode()
            parts += (prefix, _varint(len(raw)), raw)
    count = _varint(1 + (len(parts) - 1) // 3)
    return b"".join((_varint(len(key)), key, _varint(len(value)), value, count, *parts))


def _record(offset_delta: int, timestamp_delta: int, tail: bytes) -> bytes:
    head = b"\x00" + _varint(timestamp_delta) + _varint(offset_delta)
    return _varint(len(head) + len(tail)) + head + tail


@functools.cache
def _record_format_matches() -> bool:
    """Whether :func:`_record` writes what kafka-python's own builder writes."""
    headers = [("content-type", codec.CONTENT_TYPE), ("ce_id", b"x" * 200), ("ce_e", b"")]
    key, value = b"k" * 36, b"v" * 20000
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=0, is_transactional=False, producer_id=-1,
        producer_epoch=-1, base_sequence=-1, batch_size=1 << 20,
    )
    ts = 1_700_000_000_000
    builder.append(0, ts, key, value, headers)
    builder.append(1, ts + 7000, key, value, headers)
    expected = bytes(builder._buffer[builder.HEADER_STRUCT.size:])
    tail = _record_tail(key, value, headers)
    return expected == _record(0, 0, tail) + _record(1, 7000, tail)


def _plain_state(value: Any) -> Any:
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
            raise _SlowEventError(f"transcoding {name}")
        return {k: _plain_state(v) for k, v in value.items()}
    if kind is list:
        return [_plain_state(v) for v in value]
    raise _SlowEventError(f"value of type {kind.__name__}")


@dataclass(frozen=True)
class _EventClass:
    public: bool
    context: str = ""
    name: str = ""
    schema_version: int = 1
    type: str = ""


class _FastEncoder:
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
                and _record_format_matches())

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

    def read(self, after: int, limit: int) -> Batch:
        recorder = self.ledger.recorder
        notifications = recorder.select_notifications(after + 1, limit)
        if not notifications:
            return Batch(after, after, [], fast=True)
        last = notifications[-1].id
        hashes = getattr(recorder, "hashes", None)
        links: dict[int, tuple[Any, ...]] = {}
        if hashes is not None:
            first = notifications[0].id
            links = {row[0]: row for row in hashes(first, last - first + 1)}
        records = []
        checked = False
        for n in notifications:
            cls = self._event_class(n.topic)
            if not cls.public:
                continue
            try:
                record = self._encode(n, cls, links.get(n.id))
            except Exception:  # _SlowEventError, or anything unforeseen: the reference
                record = self._reference(n.id)
            if not checked:
                checked = True
                if record != self._reference(n.id):
                    raise _FastPathMismatchError(
                        f"the event at position {n.id} encodes differently"
                    )
            records.append(record)
        return Batch(after, last, records, fast=True)

    def _topic(self, context: str) -> str:
        topic = self._event_topics.get(context)
        if topic is None:
            topic = self._event_topics[context] = self.topics.events(context)
        return topic

    def _encode(self, n: Any, cls: _EventClass, link: tuple[Any, ...] | None
                ) -> tuple[str, bytes, bytes]:
        try:
            state = orjson.loads(n.state)
        except orjson.JSONDecodeError as e:  # e.g. NaN or huge ints: json takes them
            raise _SlowEventError(str(e)) from None
        if state.pop("class_version", 1) != cls.schema_version:
            raise _SlowEventError("needs upcasting")
        meta = state.get("meta") or {}
        if type(meta) is not dict or any(type(v) is not str for v in meta.values()):
            raise _SlowEventError("unusual meta")
        base = _BASE_FIELDS
        data = {k: _plain_state(v) for k, v in state.items() if k not in base}
        subject = str(n.originator_id)
        envelope = EventEnvelope(
            id=link[1] if link else event_id(subject, n.originator_version),
            type=cls.type, context=cls.context, name=cls.name, subject=subject,
            stream_version=n.originator_version, position=n.id,
            time=_plain_state(state["timestamp"]), actor=meta.get("actor", ""),
            correlation_id=meta.get("correlation_id", ""),
            causation_id=meta.get("causation_id", ""),
            schema_version=cls.schema_version, data=data,
            prev_hash=link[2] if link else None, hash=link[3] if link else None,
        )
        ce = to_cloudevent(envelope, self.hash_of(n.id))
        key = subject.encode()
        return self._topic(cls.context), key, _cloudevent_tail(key, orjson.dumps(ce), ce)

    def _reference(self, position: int) -> tuple[str, bytes, bytes]:
        """The record at ``position`` as the reference path encodes it."""
        envelopes, _ = read_envelopes(self.ledger, position - 1, 1)
        if not envelopes:
            raise _FastPathMismatchError(f"no public event at position {position}")
        envelope = envelopes[0]
        key, value, headers = codec.encode(envelope, self.hash_of(position))
        return self._topic(envelope.context), key, _record_tail(key, value, headers)


class _BatchAppender:
    """Appends encoded records to a transactional producer's record batches.

    Does what ``KafkaProducer.send()`` does for a record (partition by the default
    partitioner, add the partition to the transaction, append to the partition's
    open batch under its lock, wake the sender) for a whole transaction's records
    at once, without per-record futures: the batch futures say whether all arrived.
    """

    _PARTITION_CACHE = 100_000
    _KNOWN = "3.0."

    def __init__(self, producer: KafkaProducer, timeout: float) -> None:
        self.producer = producer
        self.accumulator = producer._accumulator
        self.transactions = producer._transaction_manager
        self.sender = producer._sender
        self.timeout = timeout
        self._partitions: dict[str, list[int]] = {}
        self._partition_of: dict[tuple[str, bytes], int] = {}

    @classmethod
    def attach(cls, producer: KafkaProducer, timeout: float) -> _BatchAppender | None:
        if not kafka_version.startswith(cls._KNOWN):
            return None
        accumulator = getattr(producer, "_accumulator", None)
        needed = (
            getattr(producer, "_transaction_manager", None) is not None
            and getattr(producer, "_sender", None) is not None
            and accumulator is not None
            and all(hasattr(accumulator, a) for a in (
                "_tp_lock", "_batches", "_incomplete", "_appends_in_progress", "_closed",
                "config"))
            and accumulator.config.get("message_version") == 2
        )
        return cls(producer, timeout) if needed else None

    def _partition(self, topic: str, key: bytes) -> int:
        cached = self._partition_of.get((topic, key))
        if cached is not None:
            return cached
        partitions = self._partitions.get(topic)
        if partitions is None:  # waits for metadata, as send() does
            partitions = self._partitions[topic] = sorted(self.producer.partitions_for(topic))
        partition = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
        if len(self._partition_of) >= self._PARTITION_CACHE:
            self._partition_of.clear()
        self._partition_of[(topic, key)] = partition
        return partition

    def append(self, records: list[tuple[str, bytes, bytes]]) -> list[ProducerBatch]:
        """Append ``(topic, key, record_tail)`` records; return the batches that hold
        them, for :func:`batch_failure` to check once flushed."""
        by_partition: dict[TopicPartition, list[bytes]] = {}
        for topic, key, tail in records:
            tp = TopicPartition(topic, self._partition(topic, key))
            tails = by_partition.get(tp)
            if tails is None:
                tails = by_partition[tp] = []
            tails.append(tail)
        touched: dict[int, ProducerBatch] = {}
        timestamp = int(time.time() * 1000)
        for tp, tails in by_partition.items():
            self.transactions.maybe_add_partition_to_transaction(tp)
            for batch in self._append_partition(tp, tails, timestamp):
                touched[id(batch)] = batch
            self.sender.wakeup()
        return list(touched.values())

    def _append_partition(self, tp: TopicPartition, tails: list[bytes],
                          timestamp: int) -> list[ProducerBatch]:
        accumulator = self.accumulator
        config = accumulator.config
        touched = []
        accumulator._appends_in_progress.increment()
        try:
            with accumulator._tp_lock(tp):
                if accumulator._closed:
                    raise IllegalStateError("RecordAccumulator is closed")
                dq = accumulator._batches[tp]
                batch = dq[-1] if dq else None
                now = time.monotonic()
                for tail in tails:
                    if batch is None or not _append_to(batch, timestamp, tail, now):
                        batch = ProducerBatch(tp, MemoryRecordsBuilder(
                            config["message_version"], config["compression_attrs"],
                            config["batch_size"],
                        ), now=now)
                        if not _append_to(batch, timestamp, tail, now):
                            raise IllegalStateError("a record did not fit an empty batch")
                        dq.append(batch)
                        accumulator._incomplete.add(batch)
                    if not touched or touched[-1] is not batch:
                        touched.append(batch)
        finally:
            accumulator._appends_in_progress.decrement()
        return touched


def batch_failure(batch: ProducerBatch) -> BaseException | None:
    """Why a record batch did not arrive, or ``None`` if the broker acknowledged it.

    A batch's ``produce_future`` *succeeds* even when the batch failed, expired or
    was aborted: kafka-python passes the failure on to the records' futures through
    the result's third item (what ``FutureRecordMetadata`` does). Checking only
    ``produce_future.exception`` therefore passes a lost batch, and a commit then
    makes a transaction visible without it.
    """
    future = batch.produce_future
    if not future.is_done:
        return KafkaTimeoutError(f"records to {batch.topic_partition} not acknowledged")
    if future.exception is not None:
        return future.exception
    record_exceptions = future.value[2] if future.value is not None else None
    if record_exceptions is not None:
        failure = record_exceptions(0)
        return failure if isinstance(failure, BaseException) else KafkaError(failure)
    return None


def _append_to(batch: ProducerBatch, timestamp: int, tail: bytes, now: float) -> bool:
    """``ProducerBatch.try_append`` for an encoded record; False if it does not fit."""
    records = batch.records
    if records._closed:
        return False
    builder = records._builder
    offset = records._next_offset
    first = builder._first_timestamp is None
    record = _record(offset, 0 if first else timestamp - builder._first_timestamp, tail)
    buffer = builder._buffer
    if not first and len(buffer) + len(record) > builder._batch_size:
        return False
    if first:
        builder._first_timestamp = builder._max_timestamp = timestamp
    elif builder._max_timestamp < timestamp:
        builder._max_timestamp = timestamp
    builder._num_records += 1
    builder._last_offset = offset
    buffer += record
    records._next_offset = offset + 1
    if batch.max_record_size < len(record):
        batch.max_record_size = len(record)
    batch.last_append = now
    return True
