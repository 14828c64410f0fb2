"""The outbox relay against a real broker: every stored public event reaches Kafka
exactly once, in order per aggregate, as a valid CloudEvent, and restarts resume.

The oracle is the event store itself: ``iter_envelopes`` + ``codec.encode`` say what
each record must be (key, value bytes, headers). An independent ``read_committed``
consumer reads every event topic from offset 0 and must find exactly that.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2
from kafka.structs import TopicPartition

from domain.envelope import EventEnvelope
from domain.feedback import commands as fc
from domain.feedback.service import FeedbackService
from domain.goals import commands as gc
from domain.goals.service import GoalService
from domain.incidents import commands as ic
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService
from infra.event_store import open_ledger
from infra.event_store.log import iter_envelopes
from infra.kafka.admin import create_topics
from infra.kafka.codec import encode
from infra.kafka.relay import Relay, no_hashes, read_checkpoint
from infra.kafka.relay import fast_path as relay_module
from infra.kafka.relay.fast_path import FastEncoder
from infra.kafka.relay.producer_internals import end_transaction
from infra.kafka.topics import Topics
from infra.settings import Settings
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

CE_REQUIRED = ("specversion", "id", "source", "type", "subject", "time", "position",
               "streamversion", "actor", "correlationid", "causationid", "prevhash", "hash")


# -- helpers (the fault tests use them too) -------------------------------------------


def delete_topics(bootstrap: str, topics: Topics) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="opsledger-tests")
    try:
        existing = set(admin.list_topics())
        names = [t for t in topics.specs() if t in existing]
        if names:
            admin.delete_topics(names)
    finally:
        admin.close()


def ctx(actor: str = "user:test", key: str | None = None) -> CommandContext:
    return CommandContext(CommandMeta(actor), idempotency_key=key, fingerprint=key or "")


def append_history(ledger: Ledger, rounds: int = 1, tag: str = "") -> None:
    """Events in all four contexts, some with idempotency keys (records that are not
    public) and one retried key (which appends nothing)."""
    teams, goals = TeamService(ledger), GoalService(ledger)
    incidents, feedback = IncidentService(ledger), FeedbackService(ledger)
    for r in range(rounds):
        n = f"{tag}{r}-{uuid4().hex[:6]}"
        team = teams.form(tc.FormTeam(f"SRE {n}", "keep it up"), ctx(key=f"form-{n}"))
        again = teams.form(tc.FormTeam(f"SRE {n}", "keep it up"), ctx(key=f"form-{n}"))
        assert again == team  # the retry appended nothing
        ada = teams.add_member(tc.AddMember(team.id, "Ada", f"ada-{n}@example.com", "SRE"),
                               ctx()).id
        bob = teams.add_member(tc.AddMember(team.id, "Bob", f"bob-{n}@example.com", "SRE"),
                               ctx(key=f"bob-{n}")).id
        teams.assign_role(tc.AssignRole(team.id, bob, "Lead SRE", "promotion"), ctx())
        teams.change_lead(tc.ChangeLead(team.id, bob, "new lead"), ctx())
        goal = goals.set_goal(gc.SetGoal(
            team_id=team.id, owner_id=ada, title="Cut MTTR", metric="MTTR", baseline=90,
            target=30, unit="minutes", deadline="2099-12-31"), ctx()).id
        goals.check_in(gc.CheckIn(goal, 60.5, "halfway"), ctx())
        goals.revise_target(gc.ReviseTarget(goal, 20, "stretch"), ctx())
        incident = incidents.open(ic.OpenIncident(team.id, "SEV2", "payments", "checkout down"),
                                  ctx(key=f"inc-{n}")).id
        incidents.acknowledge(ic.Acknowledge(incident), ctx("user:ada"))
        incidents.assign_responder(ic.AssignResponder(incident, ada), ctx())
        incidents.escalate(ic.Escalate(incident, "SEV1", "all regions"), ctx())
        incidents.add_note(ic.AddNote(incident, 'rolled back "v2" — ünïcode ✓\n2nd line'),
                           ctx())
        incidents.mitigate(ic.Mitigate(incident, "rollback done"), ctx())
        incidents.resolve(ic.Resolve(incident, "fixed", "bad config"), ctx())
        incidents.publish_postmortem(ic.PublishPostmortem(
            incident, ["config drift", "no canary"],
            [{"title": "add a canary", "owner_id": str(ada), "due": "2099-01-31"}]), ctx())
        incidents.close(ic.CloseIncident(incident), ctx())
        fb = feedback.give(fc.GiveFeedback("customer", team.id, "slow checkout", score=3,
                                           channel="email"), ctx()).id
        feedback.triage(fc.TriageFeedback(fb, "high", ada), ctx())
        feedback.resolve(fc.ResolveFeedback(fb, "added an index"), ctx())
        feedback.give(fc.GiveFeedback("peer", team.id, "great handover",
                                      subject_member_id=ada), ctx())
        goals.close(gc.CloseGoal(goal, "achieved", "done early"), ctx())
        teams.remove_member(tc.RemoveMember(team.id, ada, "moved on"), ctx())


def append_incidents(ledger: Ledger, n: int) -> None:
    """``n`` incidents of three events each, one command at a time."""
    teams, incidents = TeamService(ledger), IncidentService(ledger)
    team = teams.form(tc.FormTeam(f"Ops {uuid4().hex[:6]}"), ctx()).id
    for i in range(n):
        incident = incidents.open(
            ic.OpenIncident(team, "SEV3", "search", f"slow queries {i}"),
            ctx(key=f"inc-{uuid4().hex}") if i % 3 == 0 else ctx()).id
        incidents.acknowledge(ic.Acknowledge(incident), ctx())
        incidents.add_note(ic.AddNote(incident, f"note {i}"), ctx())


def consume_all(bootstrap: str, topic_names: list[str], timeout: float = 60.0,
                isolation_level: str = "read_committed") -> list[Any]:
    """Every record of the topics, from offset 0 up to their last stable offsets."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        isolation_level=isolation_level, auto_offset_reset="earliest",
        client_id="opsledger-tests-oracle",
    )
    try:
        partitions = [TopicPartition(t, p) for t in topic_names
                      for p in sorted(consumer.partitions_for_topic(t) or ())]
        assert partitions, f"no partitions for {topic_names}"
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, "consuming the topics took too long"
            for tp, batch in consumer.poll(timeout_ms=500).items():
                records += [r for r in batch if r.offset < end[tp]]
        return records
    finally:
        consumer.close()


def expected_records(ledger: Ledger) -> list[tuple[EventEnvelope, bytes, bytes, list]]:
    """The oracle: each public event as the relay must publish it, in position order."""
    return [(e, *encode(e)) for e in iter_envelopes(ledger, 0, batch=500)]


def assert_exactly_once(ledger: Ledger, topics: Topics, bootstrap: str) -> list[Any]:
    """Kafka holds every stored public event exactly once, as the oracle says."""
    expected = expected_records(ledger)
    assert expected, "the test appended no events"
    records = consume_all(bootstrap, list(topics.event_topics))
    seen: dict[str, list[Any]] = defaultdict(list)
    for r in records:
        seen[orjson.loads(r.value)["id"]].append(r)
    duplicates = {i: len(rs) for i, rs in seen.items() if len(rs) > 1}
    assert not duplicates, f"published more than once: {list(duplicates.items())[:5]}"
    missing = [e.position for e, *_ in expected if e.id not in seen]
    assert not missing, f"{len(missing)} events never published, positions {missing[:10]}"
    assert len(records) == len(expected), "records that are no stored event were published"

    for envelope, key, value, headers in expected:
        (record,) = seen[envelope.id]
        assert record.topic == topics.events(envelope.context)
        assert record.key == key == envelope.subject.encode()
        assert record.value == value
        assert list(record.headers) == headers
        assert_cloudevent(record, envelope)

    # Per aggregate: one partition (the default partitioner's), stream versions 1..n
    # in offset order.
    partitions = partition_counts(bootstrap, list(topics.event_topics))
    by_subject: dict[str, list[Any]] = defaultdict(list)
    for r in records:
        by_subject[r.key.decode()].append(r)
    for subject, rs in by_subject.items():
        assert len({(r.topic, r.partition) for r in rs}) == 1, f"{subject} spans partitions"
        rs.sort(key=lambda r: r.offset)
        versions = [orjson.loads(r.value)["streamversion"] for r in rs]
        assert versions == list(range(1, len(rs) + 1)), f"{subject}: {versions}"
        assert rs[0].partition == (murmur2(rs[0].key) & 0x7FFFFFFF) % partitions[rs[0].topic]
    return records


def partition_counts(bootstrap: str, topic_names: list[str]) -> dict[str, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        return {t: len(consumer.partitions_for_topic(t) or ()) for t in topic_names}
    finally:
        consumer.close()


def assert_cloudevent(record: Any, envelope: EventEnvelope) -> None:
    ce = orjson.loads(record.value)
    assert ce["specversion"] == "1.0"
    assert ce["id"] == envelope.id and UUID(ce["id"])
    assert ce["source"] == f"urn:opsledger:{envelope.context}"
    assert ce["type"] == f"opsledger.{envelope.context}.{envelope.name}.v1"
    assert ce["subject"] == envelope.subject
    assert ce["time"].endswith("Z")
    assert ce["position"] == envelope.position
    assert ce["streamversion"] == envelope.stream_version
    assert ce["actor"].startswith("user:")
    assert ce["correlationid"] and ce["causationid"]
    assert len(ce["hash"]) == 64 and len(ce["prevhash"]) == 64
    assert ce["data"] == envelope.data
    headers = dict(record.headers)
    assert headers["content-type"].startswith(b"application/cloudevents+json")
    for attribute in CE_REQUIRED:
        assert headers[f"ce_{attribute}"] == str(ce[attribute]).encode(), attribute


def drain(relay: Relay, timeout: float = 60.0) -> int:
    """Run ``relay`` batch by batch until it has committed the head; events published."""
    head = relay.ledger.head_position()
    published = 0
    deadline = time.monotonic() + timeout
    while True:
        published += relay.run_once()
        if relay.position >= head:
            return published
        assert time.monotonic() < deadline, "the relay did not catch up in time"


# -- fixtures ------------------------------------------------------------------------


@dataclass
class Env:
    settings: Settings
    ledger: Ledger
    topics: Topics
    bootstrap: str

    def relay(self, **options: Any) -> Relay:
        options.setdefault("batch_size", 7)
        return Relay(self.ledger, self.bootstrap, self.topics,
                     transactional_id=f"{self.topics.prefix}-relay", **options)


@pytest.fixture
def env(tmp_path: Path, servers: Any, topic_prefix: str) -> Iterator[Env]:
    settings = Settings(data_dir=tmp_path / "data", kafka_bootstrap=servers.kafka_bootstrap,
                        kafka_topic_prefix=topic_prefix)
    topics = Topics(topic_prefix)
    create_topics(servers.kafka_bootstrap, topics, partitions=3)
    ledger = open_ledger(settings)
    try:
        yield Env(settings, ledger, topics, servers.kafka_bootstrap)
    finally:
        ledger.close()
        delete_topics(servers.kafka_bootstrap, topics)


# -- tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "reference-path"])
def test_every_public_event_is_published_exactly_once_in_order(env: Env, fast: bool) -> None:
    append_history(env.ledger, rounds=3)
    head = env.ledger.head_position()
    public = len(expected_records(env.ledger))
    assert public < head  # idempotency records are in the log too

    with env.relay(fast=fast) as relay:
        published = drain(relay)
        assert (published, relay.position, relay.lag()) == (public, head, 0)
        assert relay.published == public
        assert relay.fast is fast  # and the fast path never fell back

    assert_exactly_once(env.ledger, env.topics, env.bootstrap)
    assert read_checkpoint(env.bootstrap, env.topics.relay_checkpoint) == head


def test_the_fast_path_encodes_every_event_as_the_reference_path_does(env: Env) -> None:
    """Byte for byte (key, value, headers as record bytes), event by event, without
    falling back to the reference path for any of the domain's events."""
    append_history(env.ledger, rounds=2)
    encoder = FastEncoder(env.ledger, env.topics, no_hashes)
    assert FastEncoder.usable(env.ledger)
    public = 0
    links = {row[0]: row for row in env.ledger.recorder.hashes(1, 10_000)}
    for n in env.ledger.recorder.select_notifications(1, 10_000):
        cls = encoder._event_class(n.topic)
        if not cls.public:
            continue
        assert encoder._encode(n, cls, links[n.id]) == encoder._reference(n.id), n.topic
        public += 1
    assert public == len(expected_records(env.ledger))


def test_a_fast_path_that_disagrees_falls_back_to_the_reference_path(
        env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    append_history(env.ledger)
    real = relay_module.cloudevent_tail
    monkeypatch.setattr(relay_module, "cloudevent_tail",
                        lambda key, value, ce: real(key, value.replace(b"SRE", b"ERS"), ce))
    with env.relay(fast=True) as relay:
        drain(relay)
        assert not relay.fast
    assert "leaving the fast path" in caplog.text
    assert_exactly_once(env.ledger, env.topics, env.bootstrap)


def test_idempotency_records_are_passed_over_even_as_a_whole_batch(env: Env) -> None:
    """A batch of nothing but idempotency records publishes no event but moves on."""
    append_history(env.ledger)
    with env.relay(batch_size=1) as relay:
        positions = []
        while relay.position < env.ledger.head_position():
            relay.run_once()
            positions.append(relay.position)
        assert positions == list(range(1, env.ledger.head_position() + 1))
        assert relay.published == len(expected_records(env.ledger))
    assert_exactly_once(env.ledger, env.topics, env.bootstrap)


def test_restart_publishes_nothing_again_and_then_the_new_events(env: Env) -> None:
    append_history(env.ledger, rounds=2)
    with env.relay() as relay:
        drain(relay)
    first = consume_all(env.bootstrap, list(env.topics.event_topics))

    with env.relay() as again:
        assert again.run_once() == 0
        assert again.position == env.ledger.head_position()
    assert len(consume_all(env.bootstrap, list(env.topics.event_topics))) == len(first)

    append_history(env.ledger, rounds=1, tag="later")
    with env.relay() as third:
        published = drain(third)
    records = assert_exactly_once(env.ledger, env.topics, env.bootstrap)
    assert published == len(records) - len(first) > 0
    assert read_checkpoint(env.bootstrap, env.topics.relay_checkpoint) == \
        env.ledger.head_position()


def test_run_follows_new_events_until_stopped(env: Env) -> None:
    append_history(env.ledger)
    relay = env.relay(batch_size=50, progress_every=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for _ in range(3):
            append_incidents(env.ledger, 5)
            wait_until(lambda: relay.position == env.ledger.head_position(), 30,
                       "the relay to follow new events")
        assert relay.lag() == 0
        assert relay.events_per_second(window=60) > 0
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive(), "the relay did not stop"
    assert not relay.connected
    assert_exactly_once(env.ledger, env.topics, env.bootstrap)


def test_a_zombie_relay_is_fenced_and_its_open_transaction_aborted(env: Env) -> None:
    """A relay that stalls mid-transaction (a zombie) while its successor starts: the
    successor's init_transactions() aborts the zombie's records, and the zombie can no
    longer commit them."""
    append_history(env.ledger)
    zombie = env.relay(batch_size=10)
    zombie.connect()
    batch = zombie.read_batch(zombie.position)
    producer = zombie._producer
    assert producer is not None and batch.events
    producer.begin_transaction()
    if batch.fast:
        zombie._appender.append(batch.records)  # type: ignore[union-attr]
    else:
        for topic, key, value, headers in batch.records:
            producer.send(topic, value, key=key, headers=headers)
    producer.flush(timeout=30)  # written to the log, not committed

    with env.relay() as successor:
        drain(successor)

    with pytest.raises(KafkaError):  # fenced: ProducerFencedError or InvalidProducerEpoch
        end_transaction(producer, commit=True, timeout=30)
    zombie.close()

    assert_exactly_once(env.ledger, env.topics, env.bootstrap)
    uncommitted = consume_all(env.bootstrap, list(env.topics.event_topics),
                              isolation_level="read_uncommitted")
    assert len(uncommitted) == len(expected_records(env.ledger)) + batch.events


def test_a_different_position_layout_is_reported_not_skipped(env: Env) -> None:
    """A relay pointed at topics whose checkpoint is past this store's head says so."""
    append_history(env.ledger)
    with env.relay() as relay:
        drain(relay)
    other = open_ledger(Settings(data_dir=env.settings.data_dir.parent / "other"))
    try:
        relay = Relay(other, env.bootstrap, env.topics,
                      transactional_id=f"{env.topics.prefix}-relay")
        with relay:
            assert relay.run_once() == 0
            assert relay.position == env.ledger.head_position() > other.head_position()
    finally:
        other.close()


def test_run_relay_creates_the_topics_and_stops_cleanly(tmp_path: Path, servers: Any,
                                                       topic_prefix: str) -> None:
    from services.relay.bootstrap import run_relay

    settings = Settings(data_dir=tmp_path / "data", kafka_bootstrap=servers.kafka_bootstrap,
                        kafka_topic_prefix=topic_prefix, relay_batch=20)
    topics = Topics(topic_prefix)
    ledger = open_ledger(settings)
    try:
        append_history(ledger, rounds=2)
        stop = threading.Event()
        thread = threading.Thread(target=run_relay, args=(settings, stop), daemon=True)
        thread.start()
        try:
            wait_until(
                lambda: _checkpoint_or_zero(servers.kafka_bootstrap, topics) ==
                ledger.head_position(), 60, "run_relay to publish everything")
        finally:
            stop.set()
            thread.join(30)
        assert not thread.is_alive()
        assert_exactly_once(ledger, topics, servers.kafka_bootstrap)
        assert create_topics(servers.kafka_bootstrap, topics) == []  # idempotent
    finally:
        ledger.close()
        delete_topics(servers.kafka_bootstrap, topics)


def _checkpoint_or_zero(bootstrap: str, topics: Topics) -> int:
    try:
        return read_checkpoint(bootstrap, topics.relay_checkpoint, timeout=5)
    except Exception:
        return 0  # the topic may not exist yet


def test_the_relay_service_needs_a_kafka_bootstrap(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    from services.relay.__main__ import main

    assert main(["--data-dir", str(tmp_path)]) == 2
    assert "OPSLEDGER_KAFKA_BOOTSTRAP" in capsys.readouterr().err
