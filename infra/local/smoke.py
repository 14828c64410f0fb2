"""Smoke test for the servers started by infra/local/up.sh (real Kafka + real FerretDB).

    eval "$(infra/local/up.sh)" && .venv/bin/python infra/local/smoke.py

Needs kafka-python 3.x and pymongo (both in the project's .venv). Reads
OPSLEDGER_KAFKA_BOOTSTRAP and OPSLEDGER_MONGO_URI (defaults: 127.0.0.1:9092,
mongodb://127.0.0.1:27017). Every wait is bounded; exits non-zero on failure.
"""

from __future__ import annotations

import os
import sys
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaTimeoutError, TopicAlreadyExistsError
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError

BOOTSTRAP = os.environ.get("OPSLEDGER_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
MONGO_URI = os.environ.get("OPSLEDGER_MONGO_URI", "mongodb://127.0.0.1:27017")


def check(ok: bool, what: object) -> None:
    if not ok:
        raise SystemExit(f"SMOKE FAILED: {what!r}")


def step(msg: str, t0: float) -> None:
    print(f"[{time.monotonic() - t0:6.2f}s] {msg}", flush=True)


def kafka_smoke(t0: float) -> None:
    topic = f"smoke-{uuid.uuid4().hex[:8]}"

    # kafka-python 3.x: bootstrap happens eagerly in __init__ and a broker that
    # cannot be reached raises KafkaTimeoutError after bootstrap_timeout_ms
    # (there is no NoBrokersAvailable any more).
    with KafkaAdminClient(bootstrap_servers=BOOTSTRAP, bootstrap_timeout_ms=10_000) as admin:
        cluster = admin.describe_cluster()
        step(
            f"kafka cluster {cluster['cluster_id']} brokers="
            f"{[(b['broker_id'], b['host'], b['port']) for b in cluster['brokers']]}",
            t0,
        )
        # kafka-python 3.x: create_topics takes a dict {name: {num_partitions,
        # replication_factor, configs: {key: value}}}; NewTopic is deprecated.
        result = admin.create_topics(
            {
                topic: {
                    "num_partitions": 1,
                    "replication_factor": 1,
                    "configs": {"cleanup.policy": "delete", "min.insync.replicas": "1"},
                }
            },
            timeout_ms=10_000,
            wait_for_metadata=True,
        )
        created = [(t["name"], t["error_code"]) for t in result["topics"]]
        step(f"created topic {topic}: {created}", t0)
        try:
            admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}})
            raise AssertionError("creating an existing topic should fail")
        except TopicAlreadyExistsError:
            step("re-creating it raises TopicAlreadyExistsError (as expected)", t0)

    producer = KafkaProducer(
        bootstrap_servers=BOOTSTRAP,
        transactional_id=f"smoke-tx-{uuid.uuid4().hex[:8]}",
        max_block_ms=30_000,
        bootstrap_timeout_ms=10_000,
    )
    try:
        producer.init_transactions()
        step("transactional producer initialised (__transaction_state ready)", t0)
        producer.begin_transaction()
        for i in range(3):
            producer.send(topic, key=b"k%d" % i, value=b"committed-%d" % i)
        producer.commit_transaction()
        producer.begin_transaction()
        producer.send(topic, key=b"aborted", value=b"aborted")
        producer.flush(timeout=10)
        producer.abort_transaction()
        producer.begin_transaction()
        producer.send(topic, key=b"k3", value=b"committed-3")
        producer.commit_transaction()
        step("produced: txn1 committed (3 msgs), txn2 aborted (1 msg), txn3 committed (1 msg)", t0)
    finally:
        producer.close(timeout=10)

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=BOOTSTRAP,
        group_id=f"smoke-{uuid.uuid4().hex[:8]}",
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=15_000,
        bootstrap_timeout_ms=10_000,
    )
    values: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while len(values) < 4 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend(r.value.decode() for r in records)
        consumer.commit()
    finally:
        consumer.close()
    step(f"consumed (read_committed): {values}", t0)
    check(values == ["committed-0", "committed-1", "committed-2", "committed-3"], values)

    with KafkaAdminClient(bootstrap_servers=BOOTSTRAP, bootstrap_timeout_ms=10_000) as admin:
        admin.delete_topics([topic], timeout_ms=10_000)
        step(f"deleted topic {topic}", t0)

    # What a client sees when nothing listens (a port nobody uses here).
    start = time.monotonic()
    try:
        KafkaAdminClient(bootstrap_servers="127.0.0.1:1", bootstrap_timeout_ms=2_000)
        raise AssertionError("bootstrap to a closed port should fail")
    except KafkaTimeoutError as exc:
        took = time.monotonic() - start
        step(f"bootstrap to a closed port -> KafkaTimeoutError after {took:.1f}s: {exc}", t0)


def mongo_smoke(t0: float) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(MONGO_URI,
                                                         serverSelectionTimeoutMS=10_000)
    try:
        step(
            f"mongo ping: {client.admin.command('ping')}, server version "
            f"{client.server_info()['version']} (FerretDB reports a MongoDB version)",
            t0,
        )
        coll = client["opsledger_smoke"][f"events_{uuid.uuid4().hex[:8]}"]
        index = coll.create_index([("stream_id", 1), ("version", 1)], unique=True)
        step(f"created unique index {index}", t0)
        coll.insert_one({"stream_id": "s-1", "version": 1, "type": "Opened"})
        doc = coll.find_one({"stream_id": "s-1", "version": 1}, {"_id": 0})
        step(f"inserted and found: {doc}", t0)
        check(doc == {"stream_id": "s-1", "version": 1, "type": "Opened"}, doc)
        try:
            coll.insert_one({"stream_id": "s-1", "version": 1, "type": "Duplicate"})
            raise AssertionError("unique index not enforced")
        except DuplicateKeyError as exc:
            step(f"duplicate insert rejected: DuplicateKeyError code={exc.code}", t0)
        coll.drop()
    finally:
        client.close()


def main() -> int:
    t0 = time.monotonic()
    print(f"bootstrap={BOOTSTRAP} mongo={MONGO_URI}", flush=True)
    kafka_smoke(t0)
    mongo_smoke(t0)
    step("SMOKE OK", t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
