"""The embedded follower fed by the event writer: what a group commits is handed to
the follower as the very envelopes the log reads back (chain links, private records
passed over), so it folds them without reading the store; a gap (another process
wrote) sends it to the store, and the read models end the same either way."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

import domain.catalog  # noqa: F401  (registers every event class)
from domain.errors import ConcurrencyError
from domain.feedback import commands as fc
from domain.feedback.service import FeedbackService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.aggregate import Team
from domain.teams.service import TeamService
from infra.event_store import close_ledger, ledger_recorder, open_ledger
from infra.event_store.log import read_envelopes
from infra.event_store.sqlite import LedgerSQLiteRecorder
from infra.projecting.follower import EmbeddedFollower
from infra.read_store.sqlite import SQLiteReadStore
from infra.settings import Settings
from projections.registry import ALL_FOLDS
from tests.support.group_commit import grouped
from tests.support.waiting import wait_until

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def ctx(minutes: int = 0, *, key: str | None = None) -> CommandContext:
    return CommandContext(CommandMeta("user:alice", now=NOW + timedelta(minutes=minutes)),
                          idempotency_key=key, fingerprint="f" if key else "")


def recorder_of(ledger: Ledger) -> LedgerSQLiteRecorder:
    recorder = ledger_recorder(ledger)
    assert isinstance(recorder, LedgerSQLiteRecorder)
    return recorder


def some_commands(ledger: Ledger, minutes: int = 0) -> None:
    """Events with personal data (sealed), an idempotency record, a private record."""
    teams, feedback = TeamService(ledger), FeedbackService(ledger)
    team = teams.form(tc.FormTeam(name="Payments SRE"), ctx(minutes, key=f"k{minutes}")).id
    teams.add_member(tc.AddMember(team, "Ada Lovelace", "ada@x.test", "engineer"),
                     ctx(minutes + 1))
    feedback.give(fc.GiveFeedback("customer", team, "slow checkout", channel="email",
                                  score=3, customer={"name": "Cy", "email": "cy@x.test"}),
                  ctx(minutes + 2))


def documents(path: Path) -> dict[str, list[object]]:
    store = SQLiteReadStore(path)
    try:
        return {c: sorted(map(str, store.find(c, {}, limit=1000).items))
                for c in ("teams", "members", "feedback", "audit_trail", "timeline")}
    finally:
        store.close()


def test_the_feed_holds_exactly_what_the_log_reads_back(ledger: Ledger) -> None:
    feed = recorder_of(ledger).committed_feed()
    assert feed is not None

    some_commands(ledger)

    taken = feed.take(0, 1000)
    assert taken is not None
    assert taken == read_envelopes(ledger, 0, 1000)
    assert all(e.hash and e.prev_hash for e in taken[0])


def test_a_command_that_fails_in_its_group_leaves_nothing_in_the_feed(
        ledger: Ledger, settings: Settings) -> None:
    feed = recorder_of(ledger).committed_feed()
    assert feed is not None
    team_id = TeamService(ledger).form(tc.FormTeam(name="Payments SRE"), ctx()).id
    first, stale = ledger.load(Team, team_id), ledger.load(Team, team_id)
    first.join(uuid4(), "Ada", "ada@x.test", "engineer", [], ctx(1).meta)
    stale.join(uuid4(), "Bob", "bob@x.test", "engineer", [], ctx(2).meta)

    _, (lands, conflicts) = grouped(
        recorder_of(ledger).writer,  # type: ignore[arg-type]
        settings.event_store_path,
        lambda: TeamService(ledger).form(tc.FormTeam(name="Before"), ctx()),
        [lambda: ledger.execute(ctx(1), lambda: first),
         lambda: ledger.execute(ctx(2), lambda: stale)])

    assert isinstance(conflicts.error, ConcurrencyError) and lands.error is None
    assert feed.take(0, 1000) == read_envelopes(ledger, 0, 1000)


def test_the_follower_folds_what_was_committed_without_reading_it_back(
        ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    follower = EmbeddedFollower(ledger, SQLiteReadStore(tmp_path / "fed.sqlite"), ALL_FOLDS,
                                poll_interval=60)
    reads: list[int] = []  # the follower's reads of the log (the directory reads it too)
    select = ledger.recorder.select_notifications

    def counted(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "opsledger-follower":
            reads.append(1)
        return select(*args, **kwargs)

    monkeypatch.setattr(ledger.recorder, "select_notifications", counted)
    follower.start()
    try:
        wait_until(lambda: reads == [1], 10, "the follower's first look at the store", 0.02)

        some_commands(ledger)

        wait_until(lambda: follower.position == 5, 10, "the follower", 0.02)
        assert reads == [1] and follower.fed == 5
    finally:
        follower.stop()
    monkeypatch.undo()
    EmbeddedFollower(ledger, SQLiteReadStore(tmp_path / "read.sqlite"), ALL_FOLDS).catch_up()
    assert documents(tmp_path / "fed.sqlite") == documents(tmp_path / "read.sqlite")


def test_after_another_process_wrote_the_follower_reads_the_gap_from_the_store(
        ledger: Ledger, settings: Settings, tmp_path: Path) -> None:
    follower = EmbeddedFollower(ledger, SQLiteReadStore(tmp_path / "fed.sqlite"), ALL_FOLDS)
    some_commands(ledger)
    other = open_ledger(settings)  # another process's ledger on the same files
    try:
        some_commands(other, minutes=10)
    finally:
        close_ledger(other)
    some_commands(ledger, minutes=20)

    follower.catch_up()

    assert (follower.position, follower.fed) == (16, 5)  # 6.. read from the store
    EmbeddedFollower(ledger, SQLiteReadStore(tmp_path / "read.sqlite"), ALL_FOLDS).catch_up()
    assert documents(tmp_path / "fed.sqlite") == documents(tmp_path / "read.sqlite")


def test_a_reader_waiting_for_another_process_s_write_gets_it_before_the_next_poll(
        ledger: Ledger, settings: Settings, tmp_path: Path) -> None:
    follower = EmbeddedFollower(ledger, SQLiteReadStore(tmp_path / "fed.sqlite"), ALL_FOLDS,
                                poll_interval=60)
    follower.start()
    try:
        some_commands(ledger)
        assert follower.wait_for(5, 10)
        other = open_ledger(settings)
        try:
            some_commands(other, minutes=10)
        finally:
            close_ledger(other)

        assert follower.wait_for(11, 10)
    finally:
        follower.stop()
