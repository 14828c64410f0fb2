"""Auditors' tools over Kafka: verify the chain on the topics (and name a tampered
message), restore a lost store from the topics byte for byte, replay from offset 0."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer

from infra.audit.verify import verify_cloudevents
from infra.contract.cloudevents import from_cloudevent
from infra.event_store import open_ledger
from infra.event_store.log import iter_envelopes
from infra.kafka.admin import create_topics
from infra.kafka.reading import read_all_cloudevents
from infra.kafka.topics import Topics
from infra.projecting.replay import replay
from infra.read_store.sqlite import SQLiteReadStore
from projections.catalog import INDEXED_FIELDS
from tests.integration.test_relay import Env, append_history, drain, env  # noqa: F401

pytestmark = pytest.mark.integration


def chain_rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT e.rowid, originator_id, originator_version, topic, state, h.prev_hash, "
            "h.hash FROM stored_events e JOIN event_hashes h ON h.position = e.rowid "
            "ORDER BY e.rowid").fetchall()


def everything(store: SQLiteReadStore) -> dict[str, list[dict[str, Any]]]:
    return {c: sorted(store.iter_find(c, {}), key=lambda d: d["_id"]) for c in INDEXED_FIELDS}


def test_verify_over_kafka_is_ok_and_names_a_tampered_message(env: Env) -> None:  # noqa: F811
    append_history(env.ledger, rounds=2)
    with env.relay() as relay:
        drain(relay)
    records = read_all_cloudevents(env.settings)
    result = verify_cloudevents(records)
    assert result.ok, result.describe()
    assert result.head_hash == env.ledger.recorder.head_hash()[1]

    # An altered copy of one message, published into a test topic set of its own.
    forged_topics = Topics(env.topics.prefix + "forged")
    create_topics(env.bootstrap, forged_topics, partitions=1)
    victim = sorted(records, key=lambda ce: ce["position"])[5]
    producer = KafkaProducer(bootstrap_servers=env.bootstrap)
    for ce in records:
        if ce["id"] == victim["id"]:
            ce = {**ce, "data": {**ce["data"], "tampered": True}}
        context = ce["type"].split(".")[1]
        producer.send(forged_topics.events(context), orjson.dumps(ce),
                      key=ce["subject"].encode())
    producer.flush()
    producer.close()
    forged = read_all_cloudevents(
        env.settings.model_copy(update={"kafka_topic_prefix": forged_topics.prefix}))
    broken = verify_cloudevents(forged)
    assert (broken.ok, broken.broken_at, broken.kind) == (False, victim["position"], "altered")

    cli = subprocess.run(
        [sys.executable, "-m", "services.cli", "verify", "--source", "kafka",
         "--data-dir", str(env.settings.data_dir)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "OPSLEDGER_KAFKA_BOOTSTRAP": env.bootstrap,
             "OPSLEDGER_KAFKA_TOPIC_PREFIX": forged_topics.prefix},
    )
    assert cli.returncode == 1, cli.stderr
    assert cli.stdout.startswith(f"BROKEN at position {victim['position']}: altered")


def test_verify_over_kafka_names_a_record_that_cannot_be_decoded(env: Env) -> None:  # noqa: F811
    # Given the chain published into a topic set of its own, one record's value with
    # one byte flipped so that it is no longer JSON
    append_history(env.ledger, rounds=1)
    with env.relay() as relay:
        drain(relay)
    records = sorted(read_all_cloudevents(env.settings), key=lambda ce: ce["position"])
    garbled_topics = Topics(env.topics.prefix + "garbled")
    create_topics(env.bootstrap, garbled_topics, partitions=1)
    victim = records[4]
    producer = KafkaProducer(bootstrap_servers=env.bootstrap)
    for ce in records:
        value = bytearray(orjson.dumps(ce))
        if ce["id"] == victim["id"]:
            value[0] ^= 0x01  # '{' -> 'z'
        context = ce["type"].split(".")[1]
        producer.send(garbled_topics.events(context), bytes(value), key=ce["subject"].encode())
    producer.flush()
    producer.close()
    # When an auditor runs `opsledger verify --source kafka` on those topics
    cli = subprocess.run(
        [sys.executable, "-m", "services.cli", "verify", "--source", "kafka",
         "--data-dir", str(env.settings.data_dir)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "OPSLEDGER_KAFKA_BOOTSTRAP": env.bootstrap,
             "OPSLEDGER_KAFKA_TOPIC_PREFIX": garbled_topics.prefix},
    )
    # Then it names the record's position as altered, exits non-zero, no traceback
    assert cli.stdout.splitlines()[:1] == [
        f"BROKEN at position {victim['position']}: altered (the stored event cannot be "
        "decoded)"], cli.stdout + cli.stderr
    assert cli.returncode == 1
    assert "Traceback" not in cli.stdout + cli.stderr


def test_restore_from_kafka_reproduces_the_store_and_replay_from_kafka_matches(
    env: Env, tmp_path: Path  # noqa: F811
) -> None:
    append_history(env.ledger, rounds=2)
    with env.relay() as relay:
        drain(relay)
    lost = env.settings.event_store_path

    target = tmp_path / "restored"
    umask = os.umask(0o022)  # the ordinary umask: the restored store is private anyway
    try:
        cli = subprocess.run(
            [sys.executable, "-m", "services.cli", "restore", "--from-kafka", "--into",
             str(target)],
            capture_output=True, text=True, timeout=120, check=False,
            env={"PATH": "/usr/bin:/bin", "OPSLEDGER_KAFKA_BOOTSTRAP": env.bootstrap,
                 "OPSLEDGER_KAFKA_TOPIC_PREFIX": env.topics.prefix},
        )
    finally:
        os.umask(umask)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in target.iterdir()} == {
        p.name: 0o600 for p in target.iterdir()}
    assert "OK:" in cli.stdout
    assert chain_rows(target / "events.sqlite") == chain_rows(lost)

    from_store = SQLiteReadStore(tmp_path / "from-store.sqlite")
    replay(iter_envelopes(env.ledger), from_store)
    from_kafka = SQLiteReadStore(tmp_path / "from-kafka.sqlite")
    events = sorted((from_cloudevent(ce) for ce in read_all_cloudevents(env.settings)),
                    key=lambda e: e.position)
    replay(events, from_kafka)
    assert everything(from_kafka) == everything(from_store)
    restored = open_ledger(env.settings.model_copy(update={"data_dir": target}))
    assert [e.id for e in iter_envelopes(restored)] == [e.id for e in iter_envelopes(env.ledger)]
    restored.close()
