"""Commands saved together through the SQLite event store's group commit: in one
group, a conflicting command fails exactly as it would alone (ConcurrencyError, or
the first answer of an idempotent retry), the others land, and positions and the
hash chain stay gap-free; closing the ledger stores the commands still waiting."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

import domain.catalog  # noqa: F401  (registers every event class)
from domain.errors import ConcurrencyError
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.aggregate import Team
from domain.teams.service import TeamService
from infra.audit.verify import verify_store
from infra.event_store import ledger_recorder, open_ledger
from infra.event_store.group_commit import GroupCommitWriter
from infra.event_store.sqlite import LedgerSQLiteRecorder
from infra.settings import Settings
from tests.support.group_commit import Call, WriteLock, grouped
from tests.support.waiting import wait_until

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def ctx(minutes: int = 0, *, key: str | None = None) -> CommandContext:
    return CommandContext(CommandMeta("user:alice", now=NOW + timedelta(minutes=minutes)),
                          idempotency_key=key, fingerprint="f" if key else "")


def writer_of(ledger: Ledger) -> GroupCommitWriter:
    recorder = ledger_recorder(ledger)
    assert isinstance(recorder, LedgerSQLiteRecorder) and recorder.writer is not None
    return recorder.writer


def form(ledger: Ledger, name: str, **kwargs: object) -> CommandResult:
    return TeamService(ledger).form(tc.FormTeam(name=name), ctx(**kwargs))  # type: ignore[arg-type]


def positions(ledger: Ledger) -> list[int]:
    return [n.id for n in ledger.recorder.select_notifications(1, 1000)]


def test_in_one_group_a_conflicting_command_fails_alone_and_the_others_land(
        ledger: Ledger, settings: Settings) -> None:
    team_id = form(ledger, "Payments SRE").id
    first, stale = ledger.load(Team, team_id), ledger.load(Team, team_id)
    first.join(uuid4(), "Ada", "ada@x.test", "engineer", [], ctx(1).meta)
    stale.join(uuid4(), "Bob", "bob@x.test", "engineer", [], ctx(2).meta)

    head, (lands, conflicts, other) = grouped(
        writer_of(ledger), settings.event_store_path, lambda: form(ledger, "Before"),
        [lambda: ledger.execute(ctx(1), lambda: first),
         lambda: ledger.execute(ctx(2), lambda: stale),
         lambda: form(ledger, "After")])

    assert isinstance(conflicts.error, ConcurrencyError)
    assert (head.result.position, lands.result.position, other.result.position) == (2, 3, 4)
    assert writer_of(ledger).stats.largest == 3
    assert [m["name"] for m in ledger.load(Team, team_id).members.values()] == ["Ada"]
    assert positions(ledger) == [1, 2, 3, 4]
    assert verify_store(ledger).ok


def test_a_retry_in_the_same_group_as_its_first_try_gets_the_first_answer(
        ledger: Ledger, settings: Settings) -> None:
    _, (first, retry) = grouped(
        writer_of(ledger), settings.event_store_path, lambda: form(ledger, "Before"),
        [lambda: form(ledger, "Payments SRE", key="k-1"),
         lambda: form(ledger, "Payments SRE", key="k-1")])

    assert (first.error, retry.error) == (None, None)
    assert retry.result == first.result
    assert positions(ledger) == [1, 2, 3]  # one team and its idempotency record
    assert verify_store(ledger).ok


def test_closing_the_ledger_stores_the_commands_still_waiting(settings: Settings) -> None:
    ledger = open_ledger(settings)
    writer = writer_of(ledger)
    lock = WriteLock(settings.event_store_path)
    calls = [Call(lambda i=i: form(ledger, f"Team {i}")) for i in range(3)]  # type: ignore[misc]
    wait_until(lambda: writer.stats.taken + writer.pending() == 3, 10, "three saves", 0.02)
    closing = Call(ledger.close)

    lock.release()

    assert closing.join().error is None
    assert sorted(c.join().result.position for c in calls) == [1, 2, 3]
    reopened = open_ledger(settings)
    assert positions(reopened) == [1, 2, 3] and verify_store(reopened).ok
    reopened.close()


def test_a_command_that_saved_something_answers_without_asking_for_the_head(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """The head (MAX(rowid) in a transaction of its own) was asked on every command,
    though only one that changed nothing answers with it."""
    asked: list[int] = []
    recorder = ledger.recorder
    head = recorder.max_notification_id
    monkeypatch.setattr(recorder, "max_notification_id",
                        lambda: asked.append(1) or head())

    answer = form(ledger, "Payments SRE")

    assert (answer.position, asked) == (1, [])


def test_a_recorder_dropped_without_closing_stops_its_writer(tmp_path: Path) -> None:
    def writers() -> int:
        return sum(t.name == "opsledger-event-writer" for t in threading.enumerate())

    before = writers()
    recorder = LedgerSQLiteRecorder(SQLiteDatastore(str(tmp_path / "events.db")))
    recorder.create_table()
    recorder.insert_events([StoredEvent(uuid4(), 1, "topic", b"{}")])
    assert writers() == before + 1

    del recorder
    gc.collect()

    wait_until(lambda: writers() == before, 10, "the writer to stop", 0.02)
