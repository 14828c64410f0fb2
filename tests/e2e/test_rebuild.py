"""Blue/green rebuild of the live read models: built beside the old ones while they
serve, switched atomically, with writes going on throughout."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.ledger import CommandContext
from domain.meta import CommandMeta
from domain.teams import commands as tc
from infra.event_store.log import iter_envelopes
from infra.projecting.rebuild_embedded import rebuild_embedded
from infra.projecting.replay import replay
from infra.read_store.sqlite import SQLiteReadStore
from infra.settings import Settings
from projections.catalog import INDEXED_FIELDS
from services.api.bootstrap import Runtime

TOKENS = ('{"rebuild-test-token-00": '
          '{"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}}')


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(Settings(data_dir=tmp_path / "data", tokens=TOKENS))
    yield rt
    rt.close()


def everything(store: SQLiteReadStore) -> dict[str, list[dict[str, object]]]:
    return {c: sorted(store.iter_find(c, {}), key=lambda d: d["_id"]) for c in INDEXED_FIELDS}


def test_rebuild_switches_in_a_fresh_generation_without_downtime(
    runtime: Runtime, tmp_path: Path
) -> None:
    ctx = CommandContext(CommandMeta("user:lead"))
    team = runtime.teams.form(tc.FormTeam("Platform"), ctx)
    for n in range(30):
        runtime.teams.add_member(tc.AddMember(team.id, f"M{n}", f"m{n}@example.com", "SRE"), ctx)
    assert runtime.wait_for(runtime.ledger.head_position(), 10)
    live: SQLiteReadStore = runtime.sealed_store  # type: ignore[assignment]
    with sqlite3.connect(live.path) as db:  # a read model gone wrong (say, an old fold bug)
        db.execute("UPDATE c_teams SET body = json_set(body, '$.name', 'WRONG')")
    assert live.get("teams", str(team.id))["name"] == "WRONG"  # type: ignore[index]

    stop = threading.Event()
    failures: list[BaseException] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                assert len(live.find("teams", {}).items) == 1
                reads += 1
            except BaseException as e:  # any failed read is downtime
                failures.append(e)
                return

    def writer() -> None:
        for n in range(30, 60):
            runtime.teams.add_member(
                tc.AddMember(team.id, f"M{n}", f"m{n}@example.com", "SRE"), ctx)

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    stats, switched = rebuild_embedded(runtime.ledger, live, batch=5)
    threads[1].join(timeout=60)
    stop.set()
    threads[0].join(timeout=10)

    assert not failures, failures
    assert reads > 0
    assert stats.events >= 31
    assert switched >= stats.last_position
    assert runtime.wait_for(runtime.ledger.head_position(), 10)
    assert live.get("teams", str(team.id))["name"] == "Platform"  # type: ignore[index]
    oracle = SQLiteReadStore(tmp_path / "oracle.sqlite")
    replay(iter_envelopes(runtime.ledger), oracle)
    assert everything(live) == everything(oracle)
    assert len(live.get("teams", str(team.id))["roster"]) == 60  # type: ignore[index]
