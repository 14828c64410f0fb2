"""The event store's look-ups of an aggregate's events, as specifications: they take
no connection from eventsourcing's pool, see every committed save at once, reuse their
connections, and end with the store."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import domain.catalog  # noqa: F401  (registers every event class)
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.aggregate import Team
from domain.teams.service import TeamService
from infra.event_store import close_ledger, ledger_recorder, open_ledger
from infra.event_store.readers import ReadConnections
from infra.event_store.sqlite import LedgerSQLiteRecorder
from infra.settings import Settings


def readers_of(ledger: Ledger) -> ReadConnections:
    recorder = ledger_recorder(ledger)
    assert isinstance(recorder, LedgerSQLiteRecorder) and recorder.readers is not None
    return recorder.readers


def test_a_look_up_takes_no_connection_from_the_pool_and_sees_the_save_before_it(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    teams = TeamService(ledger)
    team_id = teams.form(tc.FormTeam(name="Payments SRE"), CommandContext(CommandMeta("u"))).id

    def no_pool(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a look-up asked eventsourcing's pool for a connection")

    monkeypatch.setattr(ledger.recorder.datastore.pool, "get_connection", no_pool)  # type: ignore[attr-defined]
    assert ledger.load(Team, team_id).name == "Payments SRE"
    monkeypatch.undo()
    teams.add_member(tc.AddMember(team_id, "Ada", "ada@x.test", "engineer"),
                     CommandContext(CommandMeta("u")))
    assert len(ledger.load(Team, team_id).members) == 1


def test_look_ups_at_once_reuse_no_more_connections_than_ran_together(ledger: Ledger) -> None:
    team_id = TeamService(ledger).form(tc.FormTeam(name="SRE"),
                                       CommandContext(CommandMeta("u"))).id
    with ThreadPoolExecutor(4) as pool:
        names = list(pool.map(lambda _: ledger.load(Team, team_id).name, range(200)))

    assert names == ["SRE"] * 200
    assert 1 <= len(readers_of(ledger)._idle) <= 4


def test_closing_the_store_closes_its_read_connections(tmp_path: Path) -> None:
    ledger = open_ledger(Settings(data_dir=tmp_path / "data"))
    team_id = TeamService(ledger).form(tc.FormTeam(name="SRE"),
                                       CommandContext(CommandMeta("u"))).id
    ledger.load(Team, team_id)
    readers = readers_of(ledger)
    idle = list(readers._idle)

    close_ledger(ledger)

    assert idle and readers._idle == []
    with pytest.raises(sqlite3.ProgrammingError):
        idle[0].execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError), readers.connection():
        pass
