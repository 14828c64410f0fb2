"""Blue/green rebuild of the MongoDB read models, against a real broker and FerretDB.

The oracle is the one of :mod:`tests.integration.test_projector`: every event folded
once, in order, in memory. A generation's collections (``<prefix><collection>``)
must equal it after a rebuild, whatever ran meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymongo
import pytest

from benchmarks.projector_bench import History, realistic_history
from domain.envelope import EventEnvelope
from infra.kafka.topics import Topics
from infra.projecting.rebuild_distributed import RebuildSummary, rebuild_distributed
from infra.read_store.mongo import MongoReadStore
from infra.read_store.mongo_generations import (
    FOLLOW_SECONDS,
    GENERATIONS,
    STORE_COLLECTIONS,
    GenerationError,
)
from infra.settings import Settings
from projections import audit_trail
from projections.engine import DocKey
from projections.fold import Document
from services.api.bootstrap import Runtime
from services.projector.bootstrap import run_projector
from tests.integration.test_projector import (
    BOOKKEEPING,
    HISTORY_EVENTS,
    _comparable,
    create_topics,
    in_thread,
    oracle,
    produce,
    project_history,
    wait_caught_up,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

GRACE = 2.0  # seconds: readers follow within FOLLOW_SECONDS, watchers below within 0.5


@pytest.fixture(scope="module")
def history() -> History:
    return realistic_history(HISTORY_EVENTS, seed=23, members=4)


def settings_for(servers: Any, mongo_db: str, topic_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path, kafka_bootstrap=servers.kafka_bootstrap,
        mongo_uri=servers.mongo_uri, mongo_db=mongo_db, kafka_topic_prefix=topic_prefix,
        projector_group=f"{topic_prefix}-projector", projector_batch=40,
    )


def collections(uri: str, db_name: str) -> set[str]:
    with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        return set(client[db_name].list_collection_names())


def generation_docs(uri: str, db_name: str, prefix: str) -> dict[DocKey, Document]:
    """Every read-model document of generation ``prefix``, keyed by unprefixed name."""
    with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        db = client[db_name]
        return {
            (name.removeprefix(prefix), doc["_id"]): doc
            for name in db.list_collection_names()
            if name.startswith(prefix) and name.removeprefix(prefix) not in BOOKKEEPING
            for doc in db[name].find()
        }


def assert_generation_matches_oracle(uri: str, db_name: str, prefix: str,
                                     events: Sequence[EventEnvelope]) -> None:
    expected = {key: _comparable(doc) for key, doc in oracle(events).items()}
    actual = {key: _comparable(doc)
              for key, doc in generation_docs(uri, db_name, prefix).items()}
    differing = sorted(k for k in expected.keys() | actual.keys()
                       if expected.get(k) != actual.get(k))
    assert not differing, (f"{len(differing)} of {len(expected)} documents differ in "
                           f"generation {prefix!r}, e.g. {differing[:5]}")


def assert_only_generation(uri: str, db_name: str, prefix: str) -> None:
    left = sorted(name for name in collections(uri, db_name)
                  if name != GENERATIONS and not name.startswith(prefix))
    assert not left, f"collections outside generation {prefix!r}: {left}"


@contextmanager
def projector_service(settings: Settings) -> Iterator[threading.Thread]:
    """``run_projector`` in a thread (watching the pointer every 0.5 s) until the
    block ends."""
    with in_thread(lambda stop: run_projector(settings, stop, watch_seconds=0.5),
                   "projector-service") as thread:
        yield thread


def rebuild(settings: Settings) -> RebuildSummary:
    return rebuild_distributed(settings, grace_seconds=GRACE, drain_timeout=30,
                               stall_timeout=60)


# -- the pointer's contract ---------------------------------------------------------------


def team(doc_id: str, version: int, name: str) -> tuple[dict[DocKey, Document], tuple[str, int]]:
    return {("teams", doc_id): {"name": name, "_streams": {doc_id: version}}}, ("p", version)


def test_switch_names_the_active_generation_and_only_inactive_ones_are_dropped(
    servers: Any, mongo_db: str,
) -> None:
    # Given a legacy (unprefixed) generation and a built one beside it
    legacy = MongoReadStore(servers.mongo_uri, mongo_db, prefix="")
    built = MongoReadStore(servers.mongo_uri, mongo_db, prefix="gtest_", client=legacy.client)
    reader = MongoReadStore(servers.mongo_uri, mongo_db, client=legacy.client)
    try:
        legacy.commit(*team("t1", 1, "old"))
        built.commit(*team("t1", 2, "new"))
        assert reader.active_generation() == ("", "")
        assert reader.get("teams", "t1")["name"] == "old"
        with pytest.raises(GenerationError):
            legacy.drop_generation("")

        # When the built one is switched in
        built.switch_generation("gtest_", "-gtest", expected_prefix="")

        # Then it is the active one, for every store, and a follower moves within a second
        assert legacy.active_generation() == ("gtest_", "-gtest")
        wait_until(lambda: reader.get("teams", "t1")["name"] == "new",
                   FOLLOW_SECONDS + 1, "the reader to follow the pointer", interval=0.05)
        assert reader.current_prefix() == "gtest_" and legacy.current_prefix() == ""
        assert reader.checkpoint("p") == 2
        # a switch that expects another generation is refused, and changes nothing
        with pytest.raises(GenerationError):
            legacy.switch_generation("gother_", "-gother", expected_prefix="")
        with pytest.raises(GenerationError):
            legacy.switch_generation("gother_", "-gother", expected_prefix="gnope_")
        assert reader.active_generation() == ("gtest_", "-gtest")
        # the active generation cannot be dropped; the old one can, and only it
        with pytest.raises(GenerationError):
            reader.drop_generation("gtest_")
        dropped = reader.drop_generation("")
        assert set(dropped) == {"teams", "checkpoints"} <= STORE_COLLECTIONS
        assert collections(servers.mongo_uri, mongo_db) == {
            GENERATIONS, "gtest_teams", "gtest_checkpoints"}
        assert reader.get("teams", "t1")["name"] == "new"
    finally:
        built.close()
        reader.close()
        legacy.close()


@pytest.mark.parametrize("prefix", ["", "G1_", "g1", "1g_", "g-1_", "audit_", "team"])
def test_generation_names_are_checked(servers: Any, mongo_db: str, prefix: str) -> None:
    store = MongoReadStore(servers.mongo_uri, mongo_db)
    try:
        with pytest.raises(ValueError):
            store.switch_generation(prefix, "-x")
        if prefix:
            with pytest.raises(ValueError):
                MongoReadStore(servers.mongo_uri, mongo_db, prefix=prefix, client=store.client)
        with pytest.raises(ValueError):
            store.switch_generation("gok_", "bad suffix")
        assert store.active_generation() == ("", "")
    finally:
        store.close()


# -- the rebuild ------------------------------------------------------------------------


def test_rebuild_switches_readers_from_one_complete_generation_to_the_next(
    servers: Any, mongo_db: str, topic_prefix: str, history: History, tmp_path: Path,
) -> None:
    # Given a live (legacy) generation projected from the history
    settings = settings_for(servers, mongo_db, topic_prefix, tmp_path)
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    project_history(servers, topics, mongo_db, settings.projector_group, history)
    audit_records = sum(1 for c, _ in oracle(history.all) if c == audit_trail.COLLECTION)
    last = history.all[-1]
    reader = MongoReadStore(servers.mongo_uri, mongo_db)
    api = Runtime.open(settings, follow=False)  # what /readyz reports as applied
    assert api.applied_position() == last.position
    seen: list[tuple[str, int, bool]] = []  # (generation, audit records, last event found)
    stop = threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            prefix = reader.current_prefix()
            page = reader.find(audit_trail.COLLECTION, {}, limit=audit_records + 10)
            seen.append((prefix, len(page.items), reader.has_position(last.position)))
            time.sleep(0.05)

    thread = threading.Thread(target=keep_reading, name="reader", daemon=True)
    thread.start()
    try:
        # When the read models are rebuilt while the reader keeps querying
        summary = rebuild(settings)
        time.sleep(FOLLOW_SECONDS + 0.5)  # the reader's answers after the switch, too
        applied_after = api.applied_position()
    finally:
        stop.set()
        thread.join(timeout=30)
        reader.close()
        api.close()

    # Then every read answered from a complete generation, the old one and then the new
    assert seen and all(count == audit_records and found for _, count, found in seen), (
        [s for s in seen if s[1] != audit_records or not s[2]][:5])
    generations = [prefix for prefix, _, _ in seen]
    assert generations[0] == "" and generations[-1] == summary.prefix
    assert set(generations) == {"", summary.prefix}
    # and the new generation equals the oracle, and the old one is gone
    assert summary.events == len(history.all)
    assert summary.old_prefix == "" and summary.kept_reason is None
    assert applied_after == last.position  # the new generation's checkpoint
    assert {"teams", "audit_trail", "checkpoints"} <= set(summary.dropped)
    assert_generation_matches_oracle(servers.mongo_uri, mongo_db, summary.prefix, history.all)
    assert_only_generation(servers.mongo_uri, mongo_db, summary.prefix)


def test_a_running_projector_moves_to_the_new_generation_and_loses_nothing(
    servers: Any, mongo_db: str, topic_prefix: str, history: History, tmp_path: Path,
) -> None:
    # Given the projector service projecting the first third of the history
    settings = settings_for(servers, mongo_db, topic_prefix, tmp_path)
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    events = history.all
    before, during, after = events[: len(events) // 3], events[len(events) // 3 : 2 * len(
        events) // 3], events[2 * len(events) // 3 :]
    with projector_service(settings) as service:
        produce(servers.kafka_bootstrap, topics, before)
        wait_caught_up(servers.kafka_bootstrap, topics, settings.projector_group,
                       alive=service.is_alive)

        # When a rebuild runs while more events arrive, and more arrive after it
        producer = threading.Thread(target=produce_later, args=(servers, topics, during),
                                    daemon=True)
        producer.start()
        summary = rebuild(settings)
        producer.join(timeout=60)
        produce(servers.kafka_bootstrap, topics, after)

        # Then the service, alone in the new group now, applies them all
        wait_caught_up(servers.kafka_bootstrap, topics, summary.group, alive=service.is_alive)
        assert members(servers, summary.group) == 1
    assert summary.kept_reason is None, summary.kept_reason
    assert_generation_matches_oracle(servers.mongo_uri, mongo_db, summary.prefix, events)
    assert_only_generation(servers.mongo_uri, mongo_db, summary.prefix)


def produce_later(servers: Any, topics: Topics, events: Sequence[EventEnvelope]) -> None:
    time.sleep(0.5)  # the rebuild is under way by then
    produce(servers.kafka_bootstrap, topics, events)


def members(servers: Any, group: str) -> int:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=servers.kafka_bootstrap,
                             client_id="opsledger-tests")
    try:
        return len(admin.describe_groups([group])[group]["members"])
    finally:
        admin.close()
