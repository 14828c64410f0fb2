"""The Kafka projector against a real broker and a real MongoDB-wire server (FerretDB).

The oracle: the same events folded once, in position order, in memory
(``fold_events(events, ALL_FOLDS, read=nothing)``). Whatever Kafka and the projector
do (batches, partitions, group members, crashes, redeliveries), every read-model
collection in MongoDB must end up equal to it: every document, public fields and
``_streams`` (the per-stream versions each document was built from).

Events come from the real domain (command services over an in-memory ledger, see
:func:`benchmarks.projector_bench.realistic_history`) and are produced with a plain
producer and :func:`infra.kafka.codec.encode`, so these tests do not depend on the
relay. Everything is produced at once, so the four context topics (and their
partitions) reach the projectors in whatever interleaving Kafka gives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pymongo
import pytest
from kafka import KafkaAdminClient, KafkaProducer

from benchmarks.projector_bench import History, realistic_history
from domain.envelope import EventEnvelope, wire_type
from domain.teams.aggregate import Team
from infra.contract import upcasting
from infra.kafka.codec import encode
from infra.kafka.projector import Projector
from infra.kafka.projector.lag import group_lag
from infra.kafka.topics import Topics
from infra.read_store.mongo import MongoReadStore
from projections.engine import DocKey, fold_events
from projections.fold import Document, public
from projections.registry import ALL_FOLDS
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

BOOKKEEPING = frozenset({"checkpoints", "parked", "deadletter_decisions"})
"""Collections that are not read models of events (the oracle has none of them)."""

Extra = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]
"""A raw record to produce: topic, key, value, headers."""


# -- helpers (the fault tests use them too) -------------------------------------------


def create_topics(bootstrap: str, prefix: str, partitions: int = 3) -> Topics:
    topics = Topics(prefix)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="opsledger-tests")
    try:
        admin.create_topics(topics.specs(partitions=partitions), wait_for_metadata=True)
    finally:
        admin.close()
    return topics


def produce(bootstrap: str, topics: Topics, events: Iterable[EventEnvelope] = (),
            extra: Iterable[Extra] = ()) -> None:
    """Events to their context topics, keyed by aggregate (as the relay would), then
    raw records, all acknowledged before returning."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    try:
        futures = []
        for event in events:
            key, value, headers = encode(event)
            futures.append(producer.send(topics.events(event.context), key=key, value=value,
                                         headers=headers))
        for topic, key, value, headers in extra:
            futures.append(producer.send(topic, key=key, value=value, headers=headers))
        producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=60)
    finally:
        producer.close(timeout=10)


def oracle(events: Sequence[EventEnvelope]) -> dict[DocKey, Document]:
    """Every document after folding ``events`` once, in order, from nothing."""
    return fold_events(events, ALL_FOLDS, read=lambda collection, doc_id: None)


def stored(uri: str, db_name: str) -> dict[DocKey, Document]:
    """Every read-model document in the database."""
    with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        db = client[db_name]
        return {
            (name, doc["_id"]): doc
            for name in db.list_collection_names()
            if name not in BOOKKEEPING and not name.startswith("system.")
            for doc in db[name].find()
        }


def _comparable(doc: Document) -> dict[str, Any]:
    return {"public": public(doc), "_streams": doc.get("_streams")}


def assert_matches_oracle(uri: str, db_name: str, events: Sequence[EventEnvelope]) -> None:
    expected = oracle(events)
    actual = stored(uri, db_name)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    differing = [
        key for key in sorted(set(expected) & set(actual))
        if _comparable(expected[key]) != _comparable(actual[key])
    ]
    if missing or extra or differing:
        detail = [f"{len(missing)} missing, {len(extra)} unexpected, "
                  f"{len(differing)} differing of {len(expected)} documents"]
        detail += [f"missing {k}" for k in missing[:5]]
        detail += [f"unexpected {k}" for k in extra[:5]]
        for key in differing[:3]:
            detail.append(f"{key}:\n  expected {_comparable(expected[key])}\n"
                          f"  stored   {_comparable(actual[key])}")
        pytest.fail("\n".join(detail))


def wait_caught_up(bootstrap: str, topics: Topics, group: str, timeout: float = 120,
                   alive: Callable[[], bool] = lambda: True) -> None:
    def caught_up() -> bool:
        if not alive():
            pytest.fail("the projector died while catching up")
        return group_lag(bootstrap, topics, group) == 0

    wait_until(caught_up, timeout, f"group {group} to reach lag 0", interval=0.3)


def new_projector(servers: Any, topics: Topics, db_name: str, group: str, *,
                  batch_size: int = 40, store: MongoReadStore | None = None,
                  **kwargs: Any) -> Projector:
    return Projector(
        servers.kafka_bootstrap, topics, store or MongoReadStore(servers.mongo_uri, db_name),
        ALL_FOLDS, group_id=group, batch_size=batch_size, poll_timeout_ms=200,
        backoff_initial=0.1, backoff_max=1.0, **kwargs,
    )


@contextmanager
def in_thread(run: Callable[[threading.Event], None], name: str) -> Iterator[threading.Thread]:
    """``run(stop)`` in a thread until the block ends; its exception, if any, is
    raised here rather than swallowed by the thread."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run(stop)
        except BaseException as e:  # reported by the test
            errors.append(e)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive(), f"{name} did not stop"
    if errors:
        raise errors[0]


@contextmanager
def running(projector: Projector) -> Iterator[threading.Thread]:
    """``projector.run`` in a thread until the block ends; then closed."""
    try:
        with in_thread(projector.run, "projector-under-test") as thread:
            yield thread
    finally:
        projector.close()
        projector.store.close()


def project_history(servers: Any, topics: Topics, db_name: str, group: str,
                    history: History, projector: Projector | None = None) -> Projector:
    """Produce the whole history, project it until the group's lag is 0."""
    projector = projector or new_projector(servers, topics, db_name, group)
    with running(projector) as thread:
        produce(servers.kafka_bootstrap, topics, history.all)
        wait_caught_up(servers.kafka_bootstrap, topics, group, alive=thread.is_alive)
    return projector


HISTORY_EVENTS = 260
"""Small on purpose: FerretDB v1 (SQLite) scans a whole collection for every filtered
read or write, so a projection pass costs O(events x collection size)."""


@pytest.fixture(scope="module")
def history() -> History:
    return realistic_history(HISTORY_EVENTS, seed=11, members=4)


# -- the tests ---------------------------------------------------------------------------


def test_projector_folds_the_topics_into_mongodb_like_a_clean_replay(
    servers: Any, mongo_db: str, topic_prefix: str, history: History
) -> None:
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"

    projector = project_history(servers, topics, mongo_db, group, history)

    assert_matches_oracle(servers.mongo_uri, mongo_db, history.all)
    assert projector.stats.records == len(history.all)
    assert projector.stats.dead_lettered == 0
    assert projector.stats.batches >= len(history.all) // 40
    store = MongoReadStore(servers.mongo_uri, mongo_db)
    try:
        # The checkpoint (informational) holds the highest position applied.
        assert store.checkpoint(group) == max(e.position for e in history.all)
    finally:
        store.close()


def test_two_projectors_in_one_group_share_the_partitions(
    servers: Any, mongo_db: str, topic_prefix: str, history: History
) -> None:
    topics = create_topics(servers.kafka_bootstrap, topic_prefix, partitions=3)
    group = f"{topic_prefix}-projector"
    first = new_projector(servers, topics, mongo_db, group)
    second = new_projector(servers, topics, mongo_db, group)

    with running(first) as t1, running(second) as t2:
        partitions = 3 * len(topics.event_topics)
        seen: list[tuple[frozenset[Any], frozenset[Any]]] = []

        def shared_and_settled() -> bool:
            """Both hold partitions, all of them between them, and the same ones for
            the last few looks: a group still rebalancing could give one member all."""
            now = (frozenset(first.assignment()), frozenset(second.assignment()))
            seen.append(now)
            covered = bool(now[0]) and bool(now[1]) and len(now[0] | now[1]) == partitions
            return covered and len(seen) >= 6 and len(set(seen[-6:])) == 1

        wait_until(shared_and_settled, 90, "both members to hold partitions, settled")
        assert not first.assignment() & second.assignment()
        produce(servers.kafka_bootstrap, topics, history.all)
        wait_caught_up(servers.kafka_bootstrap, topics, group,
                       alive=lambda: t1.is_alive() and t2.is_alive())

    assert_matches_oracle(servers.mongo_uri, mongo_db, history.all)
    assert first.stats.records > 0 and second.stats.records > 0
    assert first.stats.records + second.stats.records == len(history.all)


def test_an_upcaster_brings_old_events_to_the_version_the_folds_know(
    servers: Any, mongo_db: str, topic_prefix: str, history: History,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A v1 ``TeamFormed`` from a producer that left out the optional ``mission``,
    read by a build whose ``TeamFormed`` is v2 (mission always present)."""
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"
    roster = [e for e in history.roster if e.context == "teams"]
    old = [replace(e, data={k: v for k, v in e.data.items() if k != "mission"})
           if e.name == "TeamFormed" else e for e in roster]
    monkeypatch.setattr(Team.TeamFormed, "class_version", 2, raising=False)
    v1 = wire_type("teams", "TeamFormed", 1)

    def mission_defaults_to_empty(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "mission": data.get("mission", "")}

    with upcasting.registered(v1, mission_defaults_to_empty):
        upcast = [upcasting.upcast(e) for e in old]
        assert {e.type for e in upcast if e.name == "TeamFormed"} == {
            wire_type("teams", "TeamFormed", 2)}
        projector = new_projector(servers, topics, mongo_db, group)
        with running(projector) as thread:
            produce(servers.kafka_bootstrap, topics, old)
            wait_caught_up(servers.kafka_bootstrap, topics, group, alive=thread.is_alive)

    assert projector.stats.dead_lettered == 0
    assert_matches_oracle(servers.mongo_uri, mongo_db, upcast)
    teams = [doc for (c, _), doc in stored(servers.mongo_uri, mongo_db).items() if c == "teams"]
    assert teams and all(doc["mission"] == "" for doc in teams)
    # Removed again: the chain now has a missing link, which is poison, not a guess.
    assert v1 not in upcasting.registered_types()
    with pytest.raises(upcasting.UpcastError):
        upcasting.upcast(old[0])


def test_known_types_pass_through_and_unknown_types_are_refused(history: History) -> None:
    event = history.activity[0]
    assert upcasting.upcast(event) is event
    unknown_name = replace(event, name="IncidentSnoozed",
                           type=wire_type(event.context, "IncidentSnoozed", 1))
    with pytest.raises(upcasting.UnknownEventTypeError):
        upcasting.upcast(unknown_name)
    newer = replace(event, schema_version=2, type=wire_type(event.context, event.name, 2))
    with pytest.raises(upcasting.UnknownEventTypeError):
        upcasting.upcast(newer)
    with pytest.raises(ValueError, match="not older"):
        upcasting.register(event.type, lambda data: data)


def test_the_projector_service_refuses_to_start_without_kafka_and_mongodb(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.projector.__main__ import main

    monkeypatch.delenv("OPSLEDGER_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.delenv("OPSLEDGER_MONGO_URI", raising=False)
    assert main([]) == 2
    error = capsys.readouterr().err
    assert "OPSLEDGER_KAFKA_BOOTSTRAP" in error and "OPSLEDGER_MONGO_URI" in error
