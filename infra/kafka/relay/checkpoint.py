"""The relay's progress, kept in Kafka: the checkpoint record each transaction ends with.

Each transaction carries, besides its events, one record ``{"position": q}`` keyed
:data:`CHECKPOINT_KEY` on the compacted checkpoint topic; the last *committed* one
says where a (re)started relay resumes.
"""

from __future__ import annotations

import time

import orjson
from kafka import KafkaConsumer
from kafka.errors import KafkaTimeoutError
from kafka.structs import TopicPartition

CHECKPOINT_KEY = b"relay"


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
