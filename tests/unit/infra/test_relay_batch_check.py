"""Specification of the fast path's acknowledgement check, on kafka-python's own
record batches driven through the completions its sender uses.

A record batch's ``produce_future`` succeeds even when the batch failed or was
aborted; the failure reaches the records' futures through the result. The check
that decides whether a transaction may commit must see those failures.
"""

from __future__ import annotations

import pytest
from kafka.errors import KafkaTimeoutError, NotEnoughReplicasError
from kafka.producer.future import FutureRecordMetadata
from kafka.producer.producer_batch import ProducerBatch
from kafka.record.memory_records import MemoryRecordsBuilder
from kafka.structs import TopicPartition

from infra.kafka.relay.producer_internals import batch_failure

TP = TopicPartition("opsledger.incidents.events", 1)


def a_batch() -> tuple[ProducerBatch, FutureRecordMetadata]:
    """A record batch holding one record, and that record's future (as send() has)."""
    batch = ProducerBatch(TP, MemoryRecordsBuilder(2, 0, 1 << 16))
    record = batch.try_append(1_700_000_000_000, b"key", b"value", [])
    assert record is not None
    return batch, record


def test_a_batch_the_broker_acknowledged_arrived() -> None:
    batch, record = a_batch()
    batch.complete(base_offset=41, log_append_time=-1)
    assert record.succeeded()
    assert batch_failure(batch) is None


def test_a_batch_still_waiting_has_not_arrived() -> None:
    batch, _ = a_batch()
    assert isinstance(batch_failure(batch), KafkaTimeoutError)


@pytest.mark.parametrize("error", [
    KafkaTimeoutError("Expiring 1 record(s): 30000 ms has passed since batch creation"),
    NotEnoughReplicasError("retries exhausted"),
], ids=["expired", "retries-exhausted"])
def test_a_batch_that_failed_without_failing_the_transaction_has_not_arrived(
        error: Exception) -> None:
    """What the sender does with a retriable error it may no longer retry: the
    batch fails, the transaction stays committable."""
    batch, record = a_batch()
    batch.complete_exceptionally(error, lambda _index: error)
    assert batch.produce_future.succeeded()  # the trap: the batch's own future
    assert record.failed() and record.exception is error
    assert batch_failure(batch) is error


def test_an_aborted_batch_has_not_arrived() -> None:
    batch, record = a_batch()
    error = KafkaTimeoutError("Failing batch since transaction was aborted")
    batch.abort(error)
    assert record.failed()
    assert batch_failure(batch) is error
