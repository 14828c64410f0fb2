"""How far behind the projector is: one member's lag (its consumer's position), and a
whole group's (its committed offsets), for logs, metrics, tests and the benchmark."""

from __future__ import annotations

from collections.abc import Mapping, Sized

from kafka import KafkaAdminClient, KafkaConsumer, OffsetSpec, TopicPartition
from kafka.errors import KafkaError

from infra.kafka.topics import Topics


def member_lag(consumer: KafkaConsumer, pending: Mapping[TopicPartition, Sized]) -> int:
    """Records on this member's partitions not folded yet: those not fetched yet (end
    offset - fetch position) and those of the batch in hand (``pending``, by partition).

    Measured from the consumer's position, not the committed offset: on the relay's
    transactional topics every transaction ends with a commit marker that takes an
    offset but is no record, and the committed offset (last record + 1) stops
    before it. The position moves past markers, so a drained member reports 0
    (while behind, markers still ahead are counted, at most one per transaction).
    """
    partitions = list(consumer.assignment())
    if not partitions:
        return 0
    ends = consumer.end_offsets(partitions)
    total = 0
    for tp in partitions:
        position = fetch_position(consumer, tp)
        if position is None:
            committed = consumer.committed(tp)
            position = committed if committed is not None else (
                consumer.beginning_offsets([tp])[tp])
        total += max(0, ends[tp] - position) + len(pending.get(tp, ()))
    return total


def fetch_position(consumer: KafkaConsumer, tp: TopicPartition) -> int | None:
    """The consumer's fetch position on ``tp``, or None if Kafka does not say."""
    try:
        position = consumer.position(tp, timeout_ms=5000)
    except KafkaError:
        return None
    return int(position) if position is not None else None


def group_lag(bootstrap: str, topics: Topics, group_id: str,
              admin: KafkaAdminClient | None = None) -> int:
    """Sum over the event partitions of ``end offset - committed offset`` for ``group_id``
    (a partition the group never committed counts from its first offset).

    0 once the group's members are drained, on transactional topics too: a caught-up
    member commits its position, past the transactions' commit markers (see
    :meth:`~infra.kafka.projector.Projector._commit_caught_up`)."""
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
