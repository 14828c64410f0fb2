"""Reading whole event topics from offset 0 (read_committed), for auditors' tools:
verify over Kafka, replay from Kafka, restore a lost event store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from infra.kafka.codec import decode_cloudevent
from infra.kafka.topics import Topics
from infra.settings import Settings


def read_all_cloudevents(
    settings: Settings, *, topics: Topics | None = None,
    progress: Callable[[int], None] | None = None, timeout_s: float = 600.0,
) -> list[dict[str, Any]]:
    """Every committed record of every event topic, decoded, in no particular order.

    Reads up to the end offsets taken at the start, so it always finishes.
    """
    import time

    topics = topics or Topics(settings.kafka_topic_prefix)
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, isolation_level="read_committed",
        enable_auto_commit=False, auto_offset_reset="earliest", group_id=None,
        max_poll_records=5000,
    )
    try:
        partitions = [
            TopicPartition(t, p) for t in topics.event_topics
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while remaining and time.monotonic() < deadline:
            for tp, batch in consumer.poll(timeout_ms=500).items():
                for record in batch:
                    if record.offset < end[tp]:
                        records.append(decode_cloudevent(record.value))
                if consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
            for tp in list(remaining):  # aborted/control records can end a partition
                if consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
            if progress is not None:
                progress(len(records))
        if remaining:
            raise TimeoutError(f"could not read to the end of {sorted(map(str, remaining))}")
        return records
    finally:
        consumer.close()
