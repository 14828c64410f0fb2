"""Relay throughput against a real broker: ``python -m benchmarks.relay_bench --events 100000``.

Needs ``OPSLEDGER_KAFKA_BOOTSTRAP``. Appends N events to a fresh event store in a
temporary folder (incidents of five events each, many aggregates per save), then
measures, in the same run and against the same broker:

(a) the relay: events/s into Kafka, from its first batch until its committed
    checkpoint equals the event store's head (transactional, exactly once);
(b) a naive baseline on a smaller sample: a plain (non-transactional) producer
    doing ``send`` + ``flush`` per event, extrapolated as events/s.

Its topics get a fresh prefix and are deleted afterwards. Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient
from kafka.record.util import crc32c_c

from domain.incidents.aggregate import Incident
from domain.ledger import Ledger
from domain.meta import CommandMeta
from infra.event_store import open_ledger
from infra.event_store.log import iter_envelopes
from infra.kafka.admin import create_topics
from infra.kafka.codec import encode
from infra.kafka.relay import Relay, default_compression
from infra.kafka.topics import Topics
from infra.settings import Settings

EVENTS_PER_INCIDENT = 5


def append_events(ledger: Ledger, n: int, per_save: int = 500) -> int:
    """About ``n`` events (incidents of five events each), ``per_save`` incidents a save."""
    team = uuid4()
    appended = 0
    while appended < n:
        aggregates = []
        for _ in range(min(per_save, -(-(n - appended) // EVENTS_PER_INCIDENT))):
            meta = CommandMeta("user:bench")
            incident = Incident.open(uuid4(), team, "SEV2", "payments-api",
                                     "Checkout latency above the SLO", meta)
            incident.acknowledge(meta)
            incident.add_note("Rolled back deploy 1234; watching p99", meta)
            incident.mitigate("Rollback complete, error rate back to baseline", meta)
            incident.resolve("Config fixed", "a bad connection-pool setting", meta)
            aggregates.append(incident)
            appended += EVENTS_PER_INCIDENT
        ledger.save(*aggregates)
    return appended


def bench_relay(ledger: Ledger, bootstrap: str, topics: Topics, batch: int,
                fast: bool = True) -> tuple[int, float]:
    relay = Relay(ledger, bootstrap, topics, transactional_id=f"{topics.prefix}-relay",
                  batch_size=batch, fast=fast)
    try:
        relay.connect()
        head = ledger.head_position()
        start = time.perf_counter()
        while relay.position < head:
            relay.run_once()
        elapsed = time.perf_counter() - start
        if fast and not relay.fast:
            print("warning: the relay left the fast path (see its log)", file=sys.stderr)
        return relay.published, elapsed
    finally:
        relay.close()


def bench_naive(ledger: Ledger, bootstrap: str, topics: Topics, n: int) -> tuple[int, float]:
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="opsledger-bench-naive")
    try:
        sent = 0
        start = time.perf_counter()
        for envelope in iter_envelopes(ledger, 0, batch=500):
            key, value, headers = encode(envelope, None)
            producer.send(topics.events(envelope.context), value, key=key, headers=headers)
            producer.flush()
            sent += 1
            if sent >= n:
                break
        return sent, time.perf_counter() - start
    finally:
        producer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to relay")
    parser.add_argument("--naive-events", type=int, default=5_000,
                        help="events for the send+flush-per-event baseline")
    parser.add_argument("--batch", type=int, default=Settings().relay_batch,
                        help="relay batch (events per transaction) [OPSLEDGER_RELAY_BATCH]")
    parser.add_argument("--reference", action="store_true",
                        help="also time the reference path (send() per record, "
                             "OPSLEDGER_RELAY_FAST_PATH=false) on the same events")
    parser.add_argument("--keep-topics", action="store_true", help="do not delete the topics")
    args = parser.parse_args(argv)
    bootstrap = os.environ.get("OPSLEDGER_KAFKA_BOOTSTRAP")
    if not bootstrap:
        print("error: set OPSLEDGER_KAFKA_BOOTSTRAP (host:port of a Kafka broker)",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)

    topics = Topics(f"bench{uuid4().hex[:8]}")
    with tempfile.TemporaryDirectory(prefix="opsledger-bench-") as tmp:
        ledger = open_ledger(Settings(data_dir=Path(tmp)))
        try:
            t = time.perf_counter()
            appended = append_events(ledger, args.events)
            print(f"appended {appended} events in {time.perf_counter() - t:.1f}s "
                  f"(head {ledger.head_position()})", flush=True)
            # The reference run gets topics of its own: the same events, published again.
            reference = Topics(f"{topics.prefix}ref")
            used = [topics, reference] if args.reference else [topics]
            for t in used:
                create_topics(bootstrap, t, partitions=3, replication_factor=1)
            try:
                rows = [(f"relay (transactional, batch {args.batch})",
                         *bench_relay(ledger, bootstrap, topics, args.batch))]
                if args.reference:
                    rows.append(("relay, reference path (send())",
                                 *bench_relay(ledger, bootstrap, reference, args.batch,
                                              fast=False)))
                rows.append(("naive (send+flush per event)",
                             *bench_naive(ledger, bootstrap, topics, args.naive_events)))
            finally:
                if not args.keep_topics:
                    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
                    try:
                        admin.delete_topics([name for t in used for name in t.specs()])
                    finally:
                        admin.close()
        finally:
            ledger.close()

    crc = "C (crc32c package)" if crc32c_c is not None else "pure Python (no crc32c package)"
    print(f"kafka-python batch CRC-32C: {crc}; relay compression: {default_compression()}")
    print(f"\n{'':34} {'events':>8} {'seconds':>8} {'events/s':>9}")
    for name, events, seconds in rows:
        print(f"{name:34} {events:>8} {seconds:>8.2f} {events / seconds:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
