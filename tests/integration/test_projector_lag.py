"""The projector's Kafka lag counts records, not transaction markers: on the relay's
transactional topics a drained group reports lag 0 (its log line, its own lag and the
group's lag that the rebuild waits for)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from infra.kafka.projector import Projector
from infra.kafka.projector.lag import group_lag
from infra.read_store.mongo import MongoReadStore
from projections.registry import ALL_FOLDS
from tests.integration.test_relay import Env, append_history, drain, env  # noqa: F401

pytestmark = pytest.mark.integration


def end_offsets(env: Env) -> dict[TopicPartition, int]:  # noqa: F811
    consumer = KafkaConsumer(bootstrap_servers=env.bootstrap, group_id=None,
                             isolation_level="read_committed")
    try:
        partitions = [TopicPartition(t, p) for t in env.topics.event_topics
                      for p in sorted(consumer.partitions_for_topic(t) or ())]
        return consumer.end_offsets(partitions)
    finally:
        consumer.close()


def test_a_drained_projector_reports_lag_0_on_transactional_topics(
    env: Env, servers: Any, mongo_db: str, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    # Given events the relay published in Kafka transactions (each ends with a commit
    # marker, which takes an offset of its own)
    append_history(env.ledger, rounds=2)
    with env.relay(batch_size=5) as relay:
        published = drain(relay)
    assert sum(end_offsets(env).values()) > published  # the markers are in the offsets

    # When a projector has folded every record
    group = f"{env.topics.prefix}-projector"
    store = MongoReadStore(servers.mongo_uri, mongo_db)
    projector = Projector(env.bootstrap, env.topics, store, ALL_FOLDS, group_id=group,
                          batch_size=20, poll_timeout_ms=200)
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="infra.kafka.projector")
    thread = threading.Thread(target=projector.run, args=(stop,),
                              kwargs={"lag_log_seconds": 0.5}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 90
        while projector.stats.records < published:
            assert thread.is_alive() and time.monotonic() < deadline, projector.stats
            time.sleep(0.2)
        assert projector.stats.records == published
        time.sleep(1.5)  # a few idle polls and at least one lag line
        # Then its own lag, the group's lag and its log line all say 0
        deadline = time.monotonic() + 30
        while group_lag(env.bootstrap, env.topics, group) != 0:
            assert time.monotonic() < deadline, group_lag(env.bootstrap, env.topics, group)
            time.sleep(0.3)
        caplog.clear()
        time.sleep(1.2)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert projector.lag() == 0 or not projector.assignment()
    lines = [r.getMessage() for r in caplog.records if ": lag " in r.getMessage()]
    assert lines, "no lag line was logged"
    assert all(f"projector {group}: lag 0," in line for line in lines), lines
    projector.close()
    store.close()


def test_the_projector_lag_counts_what_is_not_folded_yet(
    env: Env, servers: Any, mongo_db: str  # noqa: F811
) -> None:
    # Given a drained projector, then more transactional batches it has not polled
    append_history(env.ledger, rounds=1)
    with env.relay(batch_size=5) as relay:
        drain(relay)
        group = f"{env.topics.prefix}-projector"
        store = MongoReadStore(servers.mongo_uri, mongo_db)
        projector = Projector(env.bootstrap, env.topics, store, ALL_FOLDS, group_id=group,
                              batch_size=500, poll_timeout_ms=200)
        try:
            deadline = time.monotonic() + 60
            while group_lag(env.bootstrap, env.topics, group) != 0:
                projector.run_once()
                assert time.monotonic() < deadline, projector.stats
            assert projector.lag() == 0
            append_history(env.ledger, rounds=1)
            more = drain(relay)
            # Then its lag counts those records (and at most one marker per transaction)
            lag = projector.lag()
            assert more <= lag <= 2 * more, (more, lag)
            assert group_lag(env.bootstrap, env.topics, group) >= more
        finally:
            projector.close()
            store.close()
