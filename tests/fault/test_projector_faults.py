"""The projector under faults, against real Kafka and FerretDB.

Each test ends with the oracle (the events folded once, in order, in memory) equal to
every read-model collection in MongoDB:

- kill -9 of a projector process between its MongoDB write and its offset commit,
  then a restart: the batch is redelivered and changes nothing twice;
- the group's offsets reset to 0 (a full redelivery): nothing changes;
- poison records (garbage bytes, an unknown event type) park one aggregate while the
  others flow; skip and replay restore it;
- MongoDB unreachable (a closed port; a proxy cut in the middle of a run, with a
  rebalance while a batch waits): no crash, no offset commit, then a full recovery.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import pymongo
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, OffsetAndMetadata, TopicPartition

from benchmarks.projector_bench import History, realistic_history
from domain.envelope import EventEnvelope, wire_type
from infra.kafka.codec import encode
from infra.kafka.deadletter import (
    DECISIONS,
    PENDING,
    REPLAYED,
    SKIPPED,
    list_deadletters,
    read_deadletter_topic,
    replay,
    skip,
)
from infra.kafka.projector.lag import group_lag
from infra.kafka.projector.poison import PARKED
from infra.kafka.topics import Topics
from infra.read_store.mongo import MongoReadStore
from tests.integration.test_projector import (
    assert_matches_oracle,
    create_topics,
    new_projector,
    oracle,
    produce,
    running,
    stored,
    wait_caught_up,
)
from tests.support.waiting import stays_true, wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def history() -> History:
    return realistic_history(240, seed=23, members=4)


# -- helpers ------------------------------------------------------------------------------


def committed_offsets(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="opsledger-tests")
    try:
        found = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}


def project_roster(servers: Any, topics: Topics, db: str, group: str, history: History) -> None:
    with running(new_projector(servers, topics, db, group)) as thread:
        produce(servers.kafka_bootstrap, topics, history.roster)
        wait_caught_up(servers.kafka_bootstrap, topics, group, alive=thread.is_alive)


class ProjectorProcess:
    """``python -m services.projector`` with its settings in the environment."""

    def __init__(self, servers: Any, db: str, prefix: str, group: str, log: Path, *,
                 mongo_uri: str | None = None, batch: int = 40, **env: str) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("OPSLEDGER_")}
        base.update({
            "OPSLEDGER_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
            "OPSLEDGER_MONGO_URI": mongo_uri or servers.mongo_uri,
            "OPSLEDGER_MONGO_DB": db,
            "OPSLEDGER_KAFKA_TOPIC_PREFIX": prefix,
            "OPSLEDGER_PROJECTOR_GROUP": group,
            "OPSLEDGER_PROJECTOR_BATCH": str(batch),
            "PYTHONUNBUFFERED": "1",
            **env,
        })
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.projector"], cwd=ROOT, env=base,
            stdout=self._out, stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._out.close()

    def stop(self, timeout: float = 30) -> int:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture
def processes() -> Iterator[list[ProjectorProcess]]:
    started: list[ProjectorProcess] = []
    yield started
    for p in started:  # only the processes this test started
        if p.alive():
            p.proc.kill()
            p.proc.wait(timeout=10)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CuttableProxy:
    """A TCP forwarder to MongoDB that can be cut (listener closed, connections
    reset: the port refuses) and restored on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def close(self) -> None:
        self.cut()


def mongo_host_port(uri: str) -> tuple[str, int]:
    host = pymongo.uri_parser.parse_uri(uri)["nodelist"][0]
    return host[0], int(host[1])


# -- kill -9 between the write and the offset commit ----------------------------------------


def test_kill_9_between_the_mongodb_write_and_the_offset_commit_then_restart(
    servers: Any, mongo_db: str, topic_prefix: str, history: History, tmp_path: Path,
    processes: list[ProjectorProcess],
) -> None:
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"
    project_roster(servers, topics, mongo_db, group, history)
    produce(servers.kafka_bootstrap, topics, history.activity)

    doomed = ProjectorProcess(servers, mongo_db, topic_prefix, group, tmp_path / "p1.log",
                              batch=20, OPSLEDGER_PROJECTOR_CRASH_AFTER_WRITE="3")
    processes.append(doomed)
    assert doomed.wait(timeout=180) == -signal.SIGKILL, doomed.tail()

    # The third batch is in MongoDB, its offsets are not in Kafka.
    committed = sum(committed_offsets(servers.kafka_bootstrap, group).values())
    with pymongo.MongoClient(servers.mongo_uri) as client:
        audited = client[mongo_db]["audit_trail"].count_documents({})
    assert committed < audited <= len(history.all)
    assert group_lag(servers.kafka_bootstrap, topics, group) == len(history.all) - committed

    survivor = ProjectorProcess(servers, mongo_db, topic_prefix, group, tmp_path / "p2.log")
    processes.append(survivor)
    wait_caught_up(servers.kafka_bootstrap, topics, group, timeout=240, alive=survivor.alive)
    assert survivor.stop() == 0, survivor.tail()

    assert_matches_oracle(servers.mongo_uri, mongo_db, history.all)
    docs = stored(servers.mongo_uri, mongo_db)
    assert sum(1 for c, _ in docs if c == "audit_trail") == len(history.all)
    for (collection, _), doc in docs.items():  # nothing applied twice
        if "event_ids" in doc:
            assert len(doc["event_ids"]) == len(set(doc["event_ids"])), (collection, doc["_id"])
        if "timeline" in doc:
            ids = [m["event_id"] for m in doc["timeline"]]
            assert len(ids) == len(set(ids)), (collection, doc["_id"])


# -- redelivery of everything -----------------------------------------------------------


def reset_group_offsets_to_zero(bootstrap: str, topics: Topics, group: str) -> None:
    """What an operator does to replay a group: seek every partition to 0, commit.
    Only while no member of the group runs."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False, client_id="opsledger-tests-reset")
    try:
        partitions = [TopicPartition(t, p) for t in topics.event_topics
                      for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in partitions})
    finally:
        consumer.close(autocommit=False)


def test_a_redelivered_log_changes_nothing(
    servers: Any, mongo_db: str, topic_prefix: str, history: History
) -> None:
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"
    project_roster(servers, topics, mongo_db, group, history)
    with running(new_projector(servers, topics, mongo_db, group)) as thread:
        produce(servers.kafka_bootstrap, topics, history.activity)
        wait_caught_up(servers.kafka_bootstrap, topics, group, alive=thread.is_alive)
    before = stored(servers.mongo_uri, mongo_db)

    reset_group_offsets_to_zero(servers.kafka_bootstrap, topics, group)
    assert group_lag(servers.kafka_bootstrap, topics, group) == len(history.all)
    again = new_projector(servers, topics, mongo_db, group, batch_size=60)
    with running(again) as thread:
        wait_caught_up(servers.kafka_bootstrap, topics, group, alive=thread.is_alive)

    assert again.stats.records == len(history.all)
    assert stored(servers.mongo_uri, mongo_db) == before  # byte for byte, _position too
    assert_matches_oracle(servers.mongo_uri, mongo_db, history.all)


# -- poison: park one aggregate, the rest flows; skip and replay ---------------------------


def _pick_incidents(history: History) -> tuple[list[EventEnvelope], list[EventEnvelope]]:
    streams: dict[str, list[EventEnvelope]] = defaultdict(list)
    for e in history.activity:
        if e.context == "incidents":
            streams[e.subject].append(e)
    long = [s for s in streams.values() if len(s) >= 5]
    other = [s for s in streams.values() if len(s) >= 3 and s is not long[0]]
    return long[0], other[0]


def test_poison_parks_its_aggregate_the_others_flow_and_replay_restores_it(
    servers: Any, mongo_db: str, topic_prefix: str, history: History
) -> None:
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"
    a_events, b_events = _pick_incidents(history)
    a, b = a_events[0].subject, b_events[0].subject
    a_later = [e for e in a_events if e.stream_version > 2]
    held = {e.id for e in a_later + b_events}
    before_poison = [e for e in history.activity if e.id not in held]
    incidents_topic = topics.events("incidents")
    garbage = (incidents_topic, a.encode(), b"\x00\x01 not a CloudEvent", [])
    bogus = replace(a_later[0], id=str(uuid4()), name="IncidentSnoozed",
                    type=wire_type("incidents", "IncidentSnoozed", 1))
    bogus_key, bogus_value, bogus_headers = encode(bogus)
    unknown = (incidents_topic, bogus_key, bogus_value, bogus_headers)

    project_roster(servers, topics, mongo_db, group, history)
    projector = new_projector(servers, topics, mongo_db, group, max_retries=2)
    store = MongoReadStore(servers.mongo_uri, mongo_db)
    try:
        with running(projector) as thread:
            produce(servers.kafka_bootstrap, topics, before_poison)
            produce(servers.kafka_bootstrap, topics, extra=[garbage, unknown])
            produce(servers.kafka_bootstrap, topics, a_later + b_events)
            wait_caught_up(servers.kafka_bootstrap, topics, group, alive=thread.is_alive)

            # B (and everything else) applied; A stopped at version 2, parked.
            without_a_later = [e for e in history.all if e.id not in {x.id for x in a_later}]
            assert_matches_oracle(servers.mongo_uri, mongo_db, without_a_later)
            assert store.get("incidents", a)["version"] == 2
            assert store.get("incidents", b)["version"] == len(b_events)
            parked = store.get(PARKED, a)
            assert parked["status"] == "parked"
            assert parked["reason"].startswith("UndecodableRecordError")

            letters = list_deadletters(servers.kafka_bootstrap, topics, store, group=group)
            assert [x.key for x in letters] == [a] * (2 + len(a_later))
            assert all(x.status == PENDING and x.origin_topic == incidents_topic
                       for x in letters)
            first, second, *behind = letters
            assert first.reason.startswith("UndecodableRecordError")
            assert first.attempts == 3  # tried once, retried max_retries=2 times
            # Everything after the first poison waits behind it, whatever it is itself.
            assert [x.reason for x in [second, *behind]] == (
                [f"parked behind {first.origin_offset}"] * (1 + len(behind)))
            assert second.own_error.startswith("UnknownEventTypeError")
            assert second.event_type is None  # not decodable by this build
            assert all(x.own_error is None for x in behind)
            assert [x.stream_version for x in behind] == [e.stream_version for e in a_later]
            offsets = [x.origin_offset for x in letters]
            assert offsets == sorted(offsets)
            raw = read_deadletter_topic(servers.kafka_bootstrap, topics)[second.dlq_offset]
            names = [k for k, _ in raw.headers]
            assert "ce_type" in names  # the original headers are kept
            for header in ("dlq_reason", "dlq_origin_topic", "dlq_origin_partition",
                           "dlq_origin_offset", "dlq_failed_at", "dlq_error"):
                assert header in names

            # The operator skips the two bogus records: A stays parked (more pending).
            skipped = skip(servers.kafka_bootstrap, topics, store, actor="user:oncall",
                           reason="producer bug: not events of A",
                           dlq_offsets=[first.dlq_offset, second.dlq_offset], group=group)
            assert skipped.skipped == [first.dlq_offset, second.dlq_offset]
            assert skipped.unparked == []
            assert store.get(PARKED, a)["status"] == "parked"

            # ... and replays the rest, in order, through the same folds.
            result = replay(servers.kafka_bootstrap, topics, store, actor="user:oncall",
                            reason="bogus records skipped", key=a, group=group)
            assert result.ok, result.error
            assert result.replayed == [x.dlq_offset for x in behind]
            assert result.unparked

        assert_matches_oracle(servers.mongo_uri, mongo_db, history.all)
        released = store.get(PARKED, a)
        assert released["status"] == "released"
        assert released["released_by"] == "user:oncall"
        assert [h["decision"] for h in released["history"]] == [REPLAYED]
        decisions = store.get_many(DECISIONS, [x.decision_id for x in letters])
        assert [decisions[x.decision_id]["decision"] for x in letters] == (
            [SKIPPED, SKIPPED] + [REPLAYED] * len(behind))
        assert all(d["by"] == "user:oncall" and d["at"] for d in decisions.values())
        assert list_deadletters(servers.kafka_bootstrap, topics, store, group=group,
                                status=PENDING) == []
    finally:
        store.close()


def test_skipping_a_whole_aggregate_unparks_it_and_records_who_decided(
    servers: Any, mongo_db: str, topic_prefix: str, history: History
) -> None:
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"
    key = str(uuid4())
    poison = [(topics.events("goals"), key.encode(), b"{not json", []),
              (topics.events("goals"), key.encode(), b"[]", [])]
    store = MongoReadStore(servers.mongo_uri, mongo_db)
    try:
        with running(new_projector(servers, topics, mongo_db, group)) as thread:
            produce(servers.kafka_bootstrap, topics, history.roster, extra=poison)
            wait_caught_up(servers.kafka_bootstrap, topics, group, alive=thread.is_alive)
            assert store.get(PARKED, key)["status"] == "parked"
            pending = list_deadletters(servers.kafka_bootstrap, topics, store, group=group,
                                       key=key, status=PENDING)
            assert len(pending) == 2

            result = skip(servers.kafka_bootstrap, topics, store, actor="user:oncall",
                          reason="test records", key=key)

            assert result.skipped == [x.dlq_offset for x in pending]
            assert result.unparked == [key]
        released = store.get(PARKED, key)
        assert (released["status"], released["decision"], released["released_by"]) == (
            "released", SKIPPED, "user:oncall")
        rows = [x.as_row() for x in list_deadletters(servers.kafka_bootstrap, topics, store,
                                                      group=group, key=key)]
        assert [(r["status"], r["decided_by"]) for r in rows] == [(SKIPPED, "user:oncall")] * 2
        assert_matches_oracle(servers.mongo_uri, mongo_db, history.roster)
    finally:
        store.close()


# -- MongoDB unavailable ------------------------------------------------------------------


def test_a_projector_pointed_at_a_closed_port_waits_and_commits_nothing(
    servers: Any, mongo_db: str, topic_prefix: str, history: History, tmp_path: Path,
    processes: list[ProjectorProcess],
) -> None:
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"
    project_roster(servers, topics, mongo_db, group, history)
    produce(servers.kafka_bootstrap, topics, history.activity)
    before = committed_offsets(servers.kafka_bootstrap, group)

    nowhere = f"mongodb://127.0.0.1:{closed_port()}/?serverSelectionTimeoutMS=300"
    waiting = ProjectorProcess(servers, mongo_db, topic_prefix, group, tmp_path / "p1.log",
                               mongo_uri=nowhere)
    processes.append(waiting)
    stays_true(lambda: waiting.alive()
               and committed_offsets(servers.kafka_bootstrap, group) == before,
               8, "the waiting projector alive, committing nothing", interval=1.0,
               detail=waiting.tail)
    assert waiting.alive(), waiting.tail()
    assert committed_offsets(servers.kafka_bootstrap, group) == before
    assert waiting.stop() == 0, waiting.tail()
    assert "not available" in waiting.tail()

    healthy = ProjectorProcess(servers, mongo_db, topic_prefix, group, tmp_path / "p2.log")
    processes.append(healthy)
    wait_caught_up(servers.kafka_bootstrap, topics, group, timeout=240, alive=healthy.alive)
    assert healthy.stop() == 0, healthy.tail()
    assert_matches_oracle(servers.mongo_uri, mongo_db, history.all)


def test_mongodb_cut_mid_run_then_a_rebalance_loses_nothing(
    servers: Any, mongo_db: str, topic_prefix: str, history: History
) -> None:
    """The store goes away after the second write: the projector keeps its batch,
    commits no offset, stays alive; a second member joins meanwhile (the stuck
    member's batch is dropped and redone from its first offset); then the store
    comes back and everything converges on the oracle."""
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"
    project_roster(servers, topics, mongo_db, group, history)
    proxy = CuttableProxy(mongo_host_port(servers.mongo_uri))
    cut = threading.Event()

    def cut_after_second_write(writes: int) -> None:
        if writes == 2:
            proxy.cut()
            cut.set()

    through_proxy = MongoReadStore(f"mongodb://127.0.0.1:{proxy.port}/", mongo_db,
                                   server_selection_timeout_ms=400)
    stuck = new_projector(servers, topics, mongo_db, group, store=through_proxy,
                          after_store_commit=cut_after_second_write)
    try:
        with running(stuck) as t1:
            produce(servers.kafka_bootstrap, topics, history.activity)
            wait_until(lambda: cut.is_set() and stuck.stats.store_failures >= 2, 60,
                       "the store to fail under the projector")
            offsets = committed_offsets(servers.kafka_bootstrap, group)
            failures = stuck.stats.store_failures
            stays_true(lambda: t1.is_alive()
                       and committed_offsets(servers.kafka_bootstrap, group) == offsets,
                       3, "the stuck projector alive, committing nothing", interval=1.0)
            assert t1.is_alive()
            assert stuck.stats.store_failures > failures  # still retrying, with backoff
            assert committed_offsets(servers.kafka_bootstrap, group) == offsets
            assert group_lag(servers.kafka_bootstrap, topics, group) > 0

            helper = new_projector(servers, topics, mongo_db, group)
            with running(helper) as t2:
                wait_until(lambda: bool(helper.assignment()), 60, "the rebalance")
                stays_true(lambda: t1.is_alive() and t2.is_alive(), 2,
                           "both members alive while the store is cut")
                proxy.restore()
                wait_caught_up(servers.kafka_bootstrap, topics, group,
                               alive=lambda: t1.is_alive() and t2.is_alive())
            assert stuck.stats.rebalances >= 2
    finally:
        proxy.close()

    assert_matches_oracle(servers.mongo_uri, mongo_db, history.all)
    assert oracle(history.all)  # the oracle is not trivially empty
