"""Reading whole event topics from offset 0 (read_committed), for auditors' tools:
verify over Kafka, replay from Kafka, restore a lost event store."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from infra.audit.verify import UndecodableRecord
from infra.kafka.codec import UndecodableRecordError, decode_cloudevent
from infra.kafka.topics import Topics
from infra.settings import Settings

_POSITION_IN_JSON = re.compile(rb'"position"\s*:\s*(\d{1,19})\b')


def position_hint(record: Any) -> int | None:
    """The position an undecodable record still names: its ``ce_position`` header
    (binary-mode CloudEvents), else a ``"position": N`` left readable in its value."""
    for key, value in record.headers or ():
        if key == "ce_position":
            try:
                return int(value)
            except (TypeError, ValueError):
                break
    found = _POSITION_IN_JSON.findall(record.value or b"")
    return int(found[0]) if len(found) == 1 else None


def undecodable_record(record: Any, error: Exception) -> UndecodableRecord:
    return UndecodableRecord(
        position=position_hint(record),
        where=f"topic {record.topic}, partition {record.partition}, offset {record.offset}",
        error=f"{type(error).__name__}: {error}",
    )


def read_all_cloudevents(
    settings: Settings, *, topics: Topics | None = None,
    progress: Callable[[int], None] | None = None, timeout_s: float = 600.0,
    undecodable: list[UndecodableRecord] | None = None,
) -> list[dict[str, Any]]:
    """Every committed record of every event topic, decoded, in no particular order.

    Reads up to the end offsets taken at the start, so it always finishes. A record
    that cannot be decoded raises :class:`~infra.kafka.codec.UndecodableRecordError`,
    or, given the list ``undecodable``, is noted there and reading goes on.
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
                    if record.offset >= end[tp]:
                        continue
                    try:
                        records.append(decode_cloudevent(record.value))
                    except UndecodableRecordError as e:
                        if undecodable is None:
                            raise
                        undecodable.append(undecodable_record(record, e))
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
