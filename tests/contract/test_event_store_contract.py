"""The event-store contract: one body of tests, run against every recorder.

``popo`` is the in-memory recorder (:mod:`infra.event_store.memory`), ``sqlite`` the
embedded store in a temporary data folder (:func:`infra.event_store.open_ledger`).
A PostgreSQL recorder is added to ``RECORDERS`` and must pass the same tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

import domain.catalog  # noqa: F401  (registers every event class)
from domain.aggregate import LedgerAggregate
from domain.envelope import envelope_of
from domain.errors import ConcurrencyError
from domain.idempotency import IdempotencyRecord
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.aggregate import Team
from domain.teams.service import TeamService
from infra.audit.verify import verify_store
from infra.contract.cloudevents import from_cloudevent, to_cloudevent
from infra.event_store import LedgerRecorder, ledger_recorder, open_ledger
from infra.event_store.hash_chain import GENESIS, envelope_bytes, link
from infra.event_store.log import iter_envelopes, read_envelopes
from infra.event_store.memory import memory_ledger
from infra.personal.mapper import as_is_writer, sealed_reader
from infra.settings import Settings

RECORDERS = ["popo", "sqlite"]
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(params=RECORDERS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    made = memory_ledger() if request.param == "popo" else open_ledger(
        Settings(data_dir=tmp_path / "data"))
    try:
        yield made
    finally:
        made.close()


def ctx(minutes: int = 0, *, key: str | None = None, fingerprint: str = "") -> CommandContext:
    return CommandContext(CommandMeta("user:alice", now=NOW + timedelta(minutes=minutes)),
                          idempotency_key=key, fingerprint=fingerprint)


def form(ledger: Ledger, name: str = "Payments SRE", **kwargs: Any) -> UUID:
    return TeamService(ledger).form(tc.FormTeam(name=name), ctx(**kwargs)).id


def add(ledger: Ledger, team_id: UUID, i: int) -> None:
    """A member joins: the team's event and the member's (private) directory record."""
    TeamService(ledger).add_member(
        tc.AddMember(team_id, f"Ada {i}", f"ada{i}@x.test", "engineer"), ctx(i))


def positions(ledger: Ledger) -> list[int]:
    return [n.id for n in ledger.recorder.select_notifications(1, 10_000)]


def chain(ledger: Ledger) -> list[tuple[int, str, str, str]]:
    return ledger_recorder(ledger).hashes(1, 10_000)


def at_once(command: Callable[[int], None], n: int) -> None:
    """``command(i)`` for i in 0..n-1, each from its own thread, all at once."""
    threads = [threading.Thread(target=command, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)


def test_the_recorder_is_a_ledger_recorder(ledger: Ledger) -> None:
    assert isinstance(ledger.recorder, LedgerRecorder)
    assert ledger_recorder(ledger).hasher is not None


def test_positions_are_gap_free_and_never_reused(ledger: Ledger) -> None:
    team_id = form(ledger)
    for i in range(3):
        add(ledger, team_id, i)
    stale = ledger.load(Team, team_id)
    add(ledger, team_id, 3)
    head = ledger.head_position()

    stale.join(uuid4(), "Bob", "bob@x.test", "engineer", [], ctx(6).meta)
    with pytest.raises(ConcurrencyError):
        ledger.execute(ctx(6), lambda: stale)
    form(ledger, "Another")

    assert positions(ledger) == list(range(1, head + 2))


def test_position_of_names_each_stored_event_and_nothing_else(ledger: Ledger) -> None:
    team_id = form(ledger)
    add(ledger, team_id, 1)
    recorder = ledger_recorder(ledger)

    for n in ledger.recorder.select_notifications(1, 100):
        assert recorder.position_of(n.originator_id, n.originator_version) == n.id
    assert recorder.position_of(team_id, 99) is None
    assert recorder.position_of(UUID(int=0), 1) is None


def test_each_save_extends_the_chain_over_its_public_events(ledger: Ledger) -> None:
    team_id = form(ledger)
    add(ledger, team_id, 1)
    rows = chain(ledger)
    envelopes = list(iter_envelopes(ledger))

    assert [r[0] for r in rows] == [e.position for e in envelopes]
    prev = GENESIS
    for (position, event_id, row_prev, row_hash), envelope in zip(rows, envelopes, strict=True):
        unchained = replace(envelope, prev_hash=None, hash=None)
        assert (position, event_id, row_prev) == (envelope.position, envelope.id, prev)
        assert row_hash == link(prev, envelope_bytes(unchained))
        prev = row_hash
    assert ledger_recorder(ledger).head_hash() == (rows[-1][0], rows[-1][3])
    assert ledger_recorder(ledger).hash_at(rows[-1][0]) == (rows[-1][2], rows[-1][3])
    assert verify_store(ledger).ok


def test_the_chain_is_extended_inside_the_insert_transaction(ledger: Ledger) -> None:
    """A save whose chain cannot be extended stores nothing: no event, no link."""
    form(ledger)
    recorder = ledger_recorder(ledger)
    head, rows, hasher = ledger.head_position(), chain(ledger), recorder.hasher

    def failing(stored: Any, position: int) -> tuple[str, bytes] | None:
        raise RuntimeError("the chain cannot be extended")

    recorder.hasher = failing  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="cannot be extended"):
        form(ledger, "Refused")
    recorder.hasher = hasher

    assert (ledger.head_position(), chain(ledger)) == (head, rows)
    form(ledger, "Accepted")
    assert positions(ledger) == list(range(1, ledger.head_position() + 1))
    assert verify_store(ledger).ok


def test_idempotency_records_are_skipped_but_still_move_the_position(ledger: Ledger) -> None:
    answer = TeamService(ledger).form(tc.FormTeam(name="A"), ctx(key="k-1", fingerprint="f"))
    record_position = ledger.head_position()

    assert record_position == answer.position + 1
    stored = ledger.mapper.to_domain_event(
        ledger.recorder.select_notifications(record_position, 1)[0])
    assert isinstance(stored, IdempotencyRecord.Event)
    assert ledger_recorder(ledger).hash_at(record_position) is None
    assert [r[0] for r in chain(ledger)] == [answer.position]
    envelopes, last = read_envelopes(ledger, 0, 100)
    assert ([e.position for e in envelopes], last) == ([answer.position], record_position)
    assert read_envelopes(ledger, answer.position, 100) == ([], record_position)


def test_stored_events_decode_to_what_was_saved(ledger: Ledger) -> None:
    """Stored, read back and encoded again, every event is what was saved; the log
    reads each public one back as its envelope, with its chain link."""
    team_id = form(ledger)
    add(ledger, team_id, 1)
    links = {row[0]: row for row in chain(ledger)}
    expected = []

    for n in ledger.recorder.select_notifications(1, 100):
        event = sealed_reader(ledger.mapper)(n)  # as stored: personal data sealed
        assert as_is_writer(ledger.mapper)(event).state == n.state
        if isinstance(event, LedgerAggregate.Event):
            envelope = replace(envelope_of(event, n.id), prev_hash=links[n.id][2],
                               hash=links[n.id][3])
            assert from_cloudevent(to_cloudevent(envelope)) == envelope
            expected.append(envelope)
    assert list(iter_envelopes(ledger)) == expected
    assert len(ledger.load(Team, team_id).members) == 1


def test_concurrent_commands_each_get_their_own_position_and_the_chain_verifies(
        ledger: Ledger) -> None:
    """Commands saved at once (one group, on SQLite) are stored as if one by one."""
    answers: list[CommandResult] = []
    lock = threading.Lock()

    def form_one(i: int) -> None:
        answer = TeamService(ledger).form(tc.FormTeam(name=f"Team {i}"), ctx(i))
        with lock:
            answers.append(answer)

    at_once(form_one, 24)

    assert sorted(a.position for a in answers) == positions(ledger) == list(range(1, 25))
    for a in answers:
        assert ledger.recorder.select_notifications(a.position, 1)[0].originator_id == a.id
    assert [r[0] for r in chain(ledger)] == list(range(1, 25))
    assert verify_store(ledger).ok


def test_of_concurrent_commands_on_one_aggregate_one_lands_and_the_others_conflict(
        ledger: Ledger) -> None:
    team_id = form(ledger)
    stale = [ledger.load(Team, team_id) for _ in range(6)]
    outcomes: list[object] = []

    def join(i: int) -> None:
        stale[i].join(uuid4(), f"Ada {i}", f"ada{i}@x.test", "engineer", [], ctx(i).meta)
        try:
            outcomes.append(ledger.execute(ctx(i), lambda: stale[i]))
        except ConcurrencyError as e:
            outcomes.append(e)

    at_once(join, 6)

    landed = [o for o in outcomes if isinstance(o, CommandResult)]
    assert len(landed) == 1 and len(outcomes) == 6
    assert positions(ledger) == [1, 2] and landed[0].position == 2
    assert len(ledger.load(Team, team_id).members) == 1
    assert verify_store(ledger).ok
