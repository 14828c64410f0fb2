"""A projector process killed with SIGKILL and restarted resumes within 30 s; one stopped
with SIGTERM leaves its consumer group at once. Real processes (``python -m
services.projector``), the session's Kafka and FerretDB (never stopped here).

Without a short session timeout (or static membership), the dead member keeps its
partitions until the group gives up on it (45 s by default, more than a minute with the
rebalance), and the read models stand still all that time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pymongo
import pytest
from kafka import KafkaAdminClient

from benchmarks.projector_bench import History, realistic_history
from infra.kafka.topics import Topics
from tests.fault.test_projector_faults import ProjectorProcess, processes  # noqa: F401
from tests.integration.test_projector import (
    create_topics,
    produce,
    wait_caught_up,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

RESUME_BOUND_S = 30.0
"""The issue's bound: a restarted projector moves the read models again within this."""


@pytest.fixture(scope="module")
def history() -> History:
    return realistic_history(120, seed=31, members=4)


def audited(uri: str, db: str) -> int:
    with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        return client[db]["audit_trail"].count_documents({})


def members(bootstrap: str, group: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="opsledger-tests")
    try:
        described = admin.describe_groups([group]).get(group, {})
    finally:
        admin.close()
    return len(described.get("members") or [])


def seconds_until_the_read_models_move(servers: Any, db: str, before: int,
                                       since: float, alive: Any) -> float:
    def moved() -> bool:
        assert alive(), "the restarted projector died"
        return audited(servers.mongo_uri, db) > before

    wait_until(moved, 120, "the read models to move again", interval=0.1)
    return time.monotonic() - since


def one_projector_with_the_roster(
    servers: Any, mongo_db: str, topic_prefix: str, history: History, tmp_path: Path,
    processes: list[ProjectorProcess], membership: str,  # noqa: F811
) -> tuple[Topics, str, dict[str, str], ProjectorProcess, int]:
    """A projector process alone in its group (static membership: with an instance id)
    that has folded the roster: its topics, group, environment, process and the audit
    records stored."""
    topics = create_topics(servers.kafka_bootstrap, topic_prefix, partitions=3)
    group = f"{topic_prefix}-projector"
    env = ({"OPSLEDGER_PROJECTOR_INSTANCE_ID": f"{topic_prefix}-replica-0"}
           if membership == "static" else {})
    first = ProjectorProcess(servers, mongo_db, topic_prefix, group, tmp_path / "p1.log",
                             **env)
    processes.append(first)
    produce(servers.kafka_bootstrap, topics, history.roster)
    wait_caught_up(servers.kafka_bootstrap, topics, group, alive=first.alive)
    wait_until(lambda: members(servers.kafka_bootstrap, group) == 1, 30, "one member")
    return topics, group, env, first, audited(servers.mongo_uri, mongo_db)


@pytest.mark.parametrize("membership", ["dynamic", "static"])
def test_a_projector_killed_with_sigkill_and_restarted_resumes_within_30_seconds(
    servers: Any, mongo_db: str, topic_prefix: str, history: History, tmp_path: Path,
    processes: list[ProjectorProcess], membership: str,  # noqa: F811
) -> None:
    # Given a projector process that has folded the roster, alone in its group
    topics, group, env, first, before = one_projector_with_the_roster(
        servers, mongo_db, topic_prefix, history, tmp_path, processes, membership)
    assert before == len(history.roster)

    # When it is killed with SIGKILL (no leave, no commit) and started again at once,
    # while new events arrive
    first.proc.kill()
    assert first.wait(timeout=10) == -9
    killed_at = time.monotonic()
    second = ProjectorProcess(servers, mongo_db, topic_prefix, group, tmp_path / "p2.log",
                              **env)
    processes.append(second)
    produce(servers.kafka_bootstrap, topics, history.activity)

    # Then the read models move again within the bound, and catch up
    resumed = seconds_until_the_read_models_move(servers, mongo_db, before, killed_at,
                                                 second.alive)
    wait_caught_up(servers.kafka_bootstrap, topics, group, timeout=120, alive=second.alive)
    caught_up = time.monotonic() - killed_at
    print(f"\n{membership} membership: read models moved again {resumed:.1f}s after "
          f"kill -9 (caught up after {caught_up:.1f}s)")
    assert resumed < RESUME_BOUND_S, second.tail()
    assert audited(servers.mongo_uri, mongo_db) == len(history.all)
    assert second.stop() == 0, second.tail()


@pytest.mark.parametrize("membership", ["dynamic", "static"])
def test_a_projector_stopped_with_sigterm_leaves_its_group_at_once(
    servers: Any, mongo_db: str, topic_prefix: str, history: History, tmp_path: Path,
    processes: list[ProjectorProcess], membership: str,  # noqa: F811
) -> None:
    # Given a projector process in its group, with the roster folded
    topics, group, env, first, before = one_projector_with_the_roster(
        servers, mongo_db, topic_prefix, history, tmp_path, processes, membership)

    # When it is stopped with SIGTERM
    assert first.stop() == 0, first.tail()
    stopped_at = time.monotonic()
    # Then the group is empty at once (not after a session timeout)
    assert members(servers.kafka_bootstrap, group) == 0
    left = time.monotonic() - stopped_at
    # and a successor takes the partitions over as soon as it runs
    second = ProjectorProcess(servers, mongo_db, topic_prefix, group, tmp_path / "p2.log",
                              **env)
    processes.append(second)
    produce(servers.kafka_bootstrap, topics, history.activity)
    resumed = seconds_until_the_read_models_move(servers, mongo_db, before, stopped_at,
                                                 second.alive)
    print(f"\n{membership} membership: group empty {left:.1f}s after the SIGTERM'd "
          f"process exited; the successor moved the read models after {resumed:.1f}s")
    assert resumed < RESUME_BOUND_S, second.tail()
    assert second.stop() == 0, second.tail()


def test_closing_a_replaced_static_member_leaves_its_successor_in_the_group(
    servers: Any, mongo_db: str, topic_prefix: str,
) -> None:
    from infra.kafka.projector import Projector
    from infra.read_store.mongo import MongoReadStore
    from projections.registry import ALL_FOLDS

    topics = create_topics(servers.kafka_bootstrap, topic_prefix, partitions=3)
    group = f"{topic_prefix}-projector"
    store = MongoReadStore(servers.mongo_uri, mongo_db)

    def joined(projector: Projector) -> bool:
        projector.run_once()
        return bool(projector.assignment())

    # Given a static member, then a second process with the same instance id (a
    # restart that began before the old process ended): the newer one takes over
    old = Projector(servers.kafka_bootstrap, topics, store, ALL_FOLDS, group_id=group,
                    group_instance_id=f"{topic_prefix}-replica-0", poll_timeout_ms=200)
    new = Projector(servers.kafka_bootstrap, topics, store, ALL_FOLDS, group_id=group,
                    group_instance_id=f"{topic_prefix}-replica-0", poll_timeout_ms=200)
    try:
        wait_until(lambda: joined(old), 30, "the first member to join")
        wait_until(lambda: joined(new), 30, "the second member to take the id over")
        # When the old process closes
        old.close()
        # Then its successor is still the group's member, and leaves when it closes
        assert members(servers.kafka_bootstrap, group) == 1
        new.run_once()
        assert new.assignment()
    finally:
        new.close()
        store.close()
    assert members(servers.kafka_bootstrap, group) == 0
