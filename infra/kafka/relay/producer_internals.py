"""Every kafka-python internal the relay relies on, in this one module and nowhere else.

kafka-python has no public API for what the relay needs, so it reaches into the
producer of the release line it was written against (3.0, :data:`KNOWN_VERSION`):

- the fast path appends whole transactions of pre-encoded records to the producer's
  record batches (:class:`BatchAppender`, :func:`append_to`: its accumulator, sender
  and transaction manager, and each batch's builder) and reads each batch's outcome
  from its produce future (:func:`batch_failure`);
- :func:`record_format_matches` checks at start-up that :mod:`.record_format` writes
  what kafka-python's own batch builder writes;
- :func:`end_transaction` bounds a commit or abort in time, and :func:`discard`
  stops a failed producer's I/O thread (both through the sender and the transaction
  manager);
- :func:`default_compression` asks whether kafka-python checksums in C.

Anything that does not look like the known internals makes the relay fall back to
kafka-python's public API (``send()``, ``commit_transaction()``).
"""

from __future__ import annotations

import functools
import logging
import time

from kafka import KafkaProducer
from kafka import __version__ as kafka_version
from kafka.errors import IllegalStateError, KafkaError, KafkaTimeoutError
from kafka.partitioner.default import murmur2
from kafka.producer.producer_batch import ProducerBatch
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecordsBuilder
from kafka.record.util import crc32c_c
from kafka.structs import TopicPartition

from infra.kafka import codec
from infra.kafka.relay.record_format import record, record_tail

log = logging.getLogger(__name__)

KNOWN_VERSION = "3.0."
"""The kafka-python release line whose producer internals the fast path knows."""


def default_compression() -> str | None:
    """``None`` where kafka-python checksums batches in C (the ``crc32c`` package),
    else ``"gzip"``.

    Without ``crc32c``, kafka-python computes each batch's CRC-32C in pure Python
    (~8 MB/s): on gzip's output that costs ~13 µs an event, on raw JSON ~150 µs.
    With it, skipping gzip (level 9, in the sender thread) is fastest: ~1.5x the
    events/s, for ~8x the bytes on the broker.
    """
    return None if crc32c_c is not None else "gzip"


# -- transactions, bounded -----------------------------------------------------------


def end_transaction(producer: KafkaProducer, *, commit: bool, timeout: float) -> None:
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


def discard(producer: KafkaProducer) -> None:
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


# -- record batches ------------------------------------------------------------------


@functools.cache
def record_format_matches() -> bool:
    """Whether :func:`.record_format.record` writes what kafka-python's own builder writes."""
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
    tail = record_tail(key, value, headers)
    return expected == record(0, 0, tail) + record(1, 7000, tail)


class BatchAppender:
    """Appends encoded records to a transactional producer's record batches.

    Does what ``KafkaProducer.send()`` does for a record (partition by the default
    partitioner, add the partition to the transaction, append to the partition's
    open batch under its lock, wake the sender) for a whole transaction's records
    at once, without per-record futures: the batch futures say whether all arrived.
    """

    _PARTITION_CACHE = 100_000

    def __init__(self, producer: KafkaProducer, timeout: float) -> None:
        self.producer = producer
        self.accumulator = producer._accumulator
        self.transactions = producer._transaction_manager
        self.sender = producer._sender
        self.timeout = timeout
        self._partitions: dict[str, list[int]] = {}
        self._partition_of: dict[tuple[str, bytes], int] = {}

    @classmethod
    def attach(cls, producer: KafkaProducer, timeout: float) -> BatchAppender | None:
        """The appender for ``producer``, or None if its internals are not the known ones."""
        if not kafka_version.startswith(KNOWN_VERSION):
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
        touched: list[ProducerBatch] = []
        accumulator._appends_in_progress.increment()
        try:
            with accumulator._tp_lock(tp):
                if accumulator._closed:
                    raise IllegalStateError("RecordAccumulator is closed")
                dq = accumulator._batches[tp]
                batch = dq[-1] if dq else None
                now = time.monotonic()
                for tail in tails:
                    if batch is None or not append_to(batch, timestamp, tail, now):
                        batch = ProducerBatch(tp, MemoryRecordsBuilder(
                            config["message_version"], config["compression_attrs"],
                            config["batch_size"],
                        ), now=now)
                        if not append_to(batch, timestamp, tail, now):
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


def append_to(batch: ProducerBatch, timestamp: int, tail: bytes, now: float) -> bool:
    """``ProducerBatch.try_append`` for an encoded record; False if it does not fit."""
    records = batch.records
    if records._closed:
        return False
    builder = records._builder
    offset = records._next_offset
    first = builder._first_timestamp is None
    encoded = record(offset, 0 if first else timestamp - builder._first_timestamp, tail)
    buffer = builder._buffer
    if not first and len(buffer) + len(encoded) > builder._batch_size:
        return False
    if first:
        builder._first_timestamp = builder._max_timestamp = timestamp
    elif builder._max_timestamp < timestamp:
        builder._max_timestamp = timestamp
    builder._num_records += 1
    builder._last_offset = offset
    buffer += encoded
    records._next_offset = offset + 1
    if batch.max_record_size < len(encoded):
        batch.max_record_size = len(encoded)
    batch.last_append = now
    return True
