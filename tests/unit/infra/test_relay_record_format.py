"""Specification: the fast path's record batches are byte for byte what kafka-python's
own producer builds (``ProducerBatch.try_append``, what ``send()`` uses), for any
records, timestamps (clocks step back too) and batch sizes, including where a batch
is full."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.producer.producer_batch import ProducerBatch
from kafka.record.memory_records import MemoryRecordsBuilder
from kafka.structs import TopicPartition

from infra.kafka.relay.producer_internals import append_to
from infra.kafka.relay.record_format import record_tail

TP = TopicPartition("opsledger.teams.events", 0)
BASE_TIME = 1_790_000_000_000

header = st.tuples(st.text(min_size=1, max_size=20), st.binary(max_size=300))
record = st.tuples(
    st.binary(min_size=1, max_size=64),  # key: the aggregate id
    st.binary(max_size=5000),  # value
    st.lists(header, max_size=15),
    st.integers(min_value=-5_000, max_value=10_000_000),  # ms from the base time
)


def new_batch(batch_size: int) -> ProducerBatch:
    return ProducerBatch(TP, MemoryRecordsBuilder(2, 0, batch_size), now=0.0)


def closed_bytes(batch: ProducerBatch) -> bytes:
    batch.records.set_producer_state(4242, 7, 100, True)
    batch.records.close()
    return bytes(batch.records.buffer())


@settings(max_examples=300, deadline=None)
@given(records=st.lists(record, min_size=1, max_size=40),
       batch_size=st.integers(min_value=64, max_value=64 * 1024),
       first_offset_skip=st.sampled_from([0, 16_380]))
def test_appended_records_are_the_bytes_kafka_python_builds(
        records: list[tuple[bytes, bytes, list[tuple[str, bytes]], int]],
        batch_size: int, first_offset_skip: int) -> None:
    # Given the same records offered to two empty batches, one record at a time
    reference, fast = new_batch(batch_size), new_batch(batch_size)
    if first_offset_skip:  # offsets past the precomputed varint table
        reference.records.skip(first_offset_skip)
        fast.records.skip(first_offset_skip)
    for key, value, headers, delta in records:
        timestamp = BASE_TIME + delta
        # When kafka-python's producer appends, and the fast path appends
        taken = reference.try_append(timestamp, key, value, headers, now=0.0) is not None
        appended = append_to(fast, timestamp, record_tail(key, value, headers), 0.0)
        # Then both take the record, or both find the batch full
        assert appended == taken
        if not taken:
            break
    # And the closed batches (header, CRC-32C, records) are the same bytes
    assert fast.records.next_offset() == reference.records.next_offset()
    assert fast.max_record_size == reference.max_record_size
    assert closed_bytes(fast) == closed_bytes(reference)


def test_a_record_that_exactly_fills_the_batch_is_taken_and_one_byte_more_is_not() -> None:
    key, headers = b"k" * 36, [("ce_id", b"x" * 36)]
    roomy = new_batch(1 << 20)
    for _ in range(2):
        assert roomy.try_append(BASE_TIME, key, b"v" * 100, headers, now=0.0) is not None
    exact = len(roomy.records._builder._buffer)  # header space + both records
    for batch_size, fits in [(exact, True), (exact - 1, False)]:
        reference, fast = new_batch(batch_size), new_batch(batch_size)
        for _ in range(2):
            taken = reference.try_append(BASE_TIME, key, b"v" * 100, headers, now=0.0)
            appended = append_to(fast, BASE_TIME, record_tail(key, b"v" * 100, headers), 0.0)
        assert (taken is not None, appended) == (fits, fits)
        assert closed_bytes(fast) == closed_bytes(reference)
