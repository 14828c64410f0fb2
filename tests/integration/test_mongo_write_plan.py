"""The MongoDB adapter's write plan on the real MongoDB-wire server: which commands a
commit sends, given what the store has seen stored, and that the reads a batch makes
run side by side. The results themselves are the contract suite's
(tests/contract/test_read_store_contract.py); these say how many round trips and of
what kind, which is what the projector's speed on FerretDB depends on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
from pymongo import monitoring

from infra.read_store.mongo import MongoReadStore
from projections.fold import Document

pytestmark = pytest.mark.integration


class Commands(monitoring.CommandListener):
    """The write commands sent (name, collection, statements), and the threads that
    sent each find."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, int]] = []
        self.find_threads: set[str] = set()
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        with self._lock:
            if name in ("insert", "update"):
                batch = event.command.get("documents" if name == "insert" else "updates", [])
                self.writes.append((name, str(event.command[name]), len(batch)))
            elif name == "find":
                self.find_threads.add(threading.current_thread().name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def on(self, collection: str) -> list[tuple[str, int]]:
        return [(name, n) for name, target, n in self.writes if target == collection]


@pytest.fixture
def watched(servers: Any, mongo_db: str) -> Iterator[tuple[MongoReadStore, Commands]]:
    commands = Commands()
    client: pymongo.MongoClient = pymongo.MongoClient(
        servers.mongo_uri, event_listeners=[commands], serverSelectionTimeoutMS=5000)
    store = MongoReadStore(servers.mongo_uri, mongo_db, prefix="", client=client)
    try:
        yield store, commands
    finally:
        store.close()
        client.close()


def member(doc_id: str, **streams: int) -> Document:
    """A shared document (members): several streams feed it, nobody owns it."""
    return {"id": doc_id, "team_id": "t", "_streams": dict(streams), "_position": 1}


def test_a_document_read_as_stored_is_replaced_under_the_guard_without_an_insert(
    watched: tuple[MongoReadStore, Commands], servers: Any, mongo_db: str,
) -> None:
    store, commands = watched
    # Given a member another writer stored (this store has not written it)
    other = MongoReadStore(servers.mongo_uri, mongo_db, prefix="")
    other.commit({("members", "m-1"): member("m-1", **{"team-a": 1})}, ("other", 1))
    other.close()
    # that this store's batch read
    assert set(store.get_many("members", ["m-1", "m-2"])) == {"m-1"}
    commands.writes.clear()

    # When it commits a newer copy of it, and a member it read as absent
    newer = member("m-1", **{"team-a": 1, "team-b": 1})
    uncertain = store.commit({("members", "m-1"): newer,
                              ("members", "m-2"): member("m-2", **{"team-b": 1})},
                             ("p", 2))

    # Then the stored one is only replaced (under the guard), the absent one inserted
    assert sorted(commands.on("members")) == [("insert", 1), ("update", 1)]
    assert store.get("members", "m-1") == {**newer, "_id": "m-1"}
    assert ("members", "m-1") in uncertain  # the guard may have kept the stored copy
    assert ("members", "m-2") not in uncertain


def test_a_document_the_store_wrote_is_not_inserted_again(
    watched: tuple[MongoReadStore, Commands],
) -> None:
    store, commands = watched
    store.commit({("members", "m-1"): member("m-1", **{"team-a": 1})}, ("p", 1))
    commands.writes.clear()

    stale = member("m-1", **{"team-a": 0})
    store.commit({("members", "m-1"): member("m-1", **{"team-a": 2})}, ("p", 2))
    store.commit({("members", "m-1"): stale}, ("p", 3))

    assert commands.on("members") == [("update", 1), ("update", 1)]
    assert store.get("members", "m-1")["_streams"] == {"team-a": 2}  # type: ignore[index]


def test_the_reads_of_a_batch_run_side_by_side_on_ferretdb(
    watched: tuple[MongoReadStore, Commands],
) -> None:
    store, commands = watched
    if not store.is_ferretdb:
        pytest.skip("MongoDB reads a batch with one $in per chunk")
    ids = [f"g-{i:03d}" for i in range(80)]
    store.commit({("goals", i): {"id": i, "_streams": {i: 1}} for i in ids[::2]}, ("p", 1))
    commands.find_threads.clear()

    found = store.get_many("goals", ids)

    assert sorted(found) == ids[::2]
    assert all(found[i]["id"] == i for i in found)
    assert len({t for t in commands.find_threads if t.startswith("mongo-reader")}) > 1


def test_within_a_rank_the_largest_job_goes_first(servers: Any, mongo_db: str) -> None:
    commands = Commands()
    client: pymongo.MongoClient = pymongo.MongoClient(
        servers.mongo_uri, event_listeners=[commands], serverSelectionTimeoutMS=5000)
    store = MongoReadStore(servers.mongo_uri, mongo_db, prefix="", client=client, writers=1)
    try:
        # timeline and compliance_history share a rank (no fold looks them up)
        changes: dict[tuple[str, str], Document] = {
            ("timeline", "e-1"): {"id": "e-1"},
            **{("compliance_history", f"h-{i}"): {"id": f"h-{i}"} for i in range(5)},
        }
        store.commit(changes, ("p", 1))
    finally:
        store.close()
        client.close()

    assert [(c, n) for _, c, n in commands.writes[:2]] == [
        ("compliance_history", 5), ("timeline", 1)]
