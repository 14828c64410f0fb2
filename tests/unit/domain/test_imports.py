"""Import runs, as specifications: a declared backfill is opened, commands in it
record the run, and finishing it records its counts; a command naming an unknown or
finished run is a clear error that appends nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from domain.envelope import envelope_of
from domain.errors import DomainError, ValidationError
from domain.imports.aggregate import ImportRun, ImportRunFinishedError
from domain.imports.service import ImportService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService
from tests.unit.domain.test_business_time import public_events
from tests.unit.domain.test_ledger import RetryingLedger

NOW = datetime(2025, 3, 3, 14, 30, tzinfo=UTC)
LONG_AGO = datetime(2024, 11, 4, 9, 0, tzinfo=UTC)


def ctx(run: UUID | str | None = None, occurred_at: datetime | None = None,
        actor: str = "user:admin") -> CommandContext:
    return CommandContext(CommandMeta(actor=actor, now=NOW, occurred_at=occurred_at,
                                      import_run_id=str(run) if run else ""))


def opened(ledger: Ledger) -> UUID:
    return ImportService(ledger).open("pagerduty export", "bring 2024 in", ctx()).id


def test_an_import_run_records_who_opened_it_from_where_and_why(ledger: Ledger) -> None:
    run = ImportService(ledger).run(opened(ledger))

    assert (run.source, run.reason, run.opened_by, run.finished) == (
        "pagerduty export", "bring 2024 in", "user:admin", False)
    event = public_events(ledger)[-1]
    assert type(event).__name__ == "ImportRunOpened" and event.meta["actor"] == "user:admin"


@pytest.mark.parametrize(("source", "reason"), [(" ", "why"), ("pd", " ")])
def test_an_import_run_needs_a_source_and_a_reason(ledger: Ledger, source: str,
                                                   reason: str) -> None:
    with pytest.raises(DomainError):
        ImportService(ledger).open(source, reason, ctx())
    assert public_events(ledger) == []


def test_a_command_in_a_run_records_the_run_in_its_event(ledger: Ledger) -> None:
    run_id = opened(ledger)

    TeamService(ledger).form(tc.FormTeam("SRE"), ctx(run_id, LONG_AGO, actor="user:lena"))

    event = public_events(ledger)[-1]
    assert event.meta["import_run_id"] == str(run_id)
    assert envelope_of(event, 2).import_run_id == str(run_id)


def test_a_command_outside_any_run_records_none(ledger: Ledger) -> None:
    TeamService(ledger).form(tc.FormTeam("SRE"), ctx(None, LONG_AGO))

    event = public_events(ledger)[-1]
    assert "import_run_id" not in event.meta  # stored as every event before import runs
    assert envelope_of(event, 1).import_run_id == ""


@pytest.mark.parametrize("run", [uuid4(), "not-a-run"])
def test_a_command_naming_an_unknown_run_is_refused(ledger: Ledger, run: object) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        TeamService(ledger).form(tc.FormTeam("SRE"), ctx(str(run), LONG_AGO))
    assert public_events(ledger) == []


def test_finishing_records_the_events_recorded_in_the_run_per_context(ledger: Ledger) -> None:
    run_id = opened(ledger)
    teams = TeamService(ledger)
    teams.form(tc.FormTeam("SRE"), ctx(run_id, LONG_AGO))
    teams.form(tc.FormTeam("DBA"), ctx(run_id, LONG_AGO))
    teams.form(tc.FormTeam("Not imported"), ctx())  # outside the run: not counted

    ImportService(ledger).finish(run_id, ctx())

    run = ledger.load(ImportRun, run_id)
    assert (run.finished, run.events_recorded, run.by_context) == (True, 2, {"teams": 2})
    event = public_events(ledger)[-1]
    assert type(event).__name__ == "ImportRunFinished"
    assert (event.events_recorded, event.by_context) == (2, {"teams": 2})


def test_a_finished_run_takes_no_more_commands_and_cannot_finish_again(ledger: Ledger) -> None:
    run_id = opened(ledger)
    ImportService(ledger).finish(run_id, ctx())
    before = len(public_events(ledger))

    with pytest.raises(ImportRunFinishedError, match="is finished"):
        TeamService(ledger).form(tc.FormTeam("SRE"), ctx(run_id, LONG_AGO))
    with pytest.raises(ImportRunFinishedError):
        ImportService(ledger).finish(run_id, ctx())
    assert len(public_events(ledger)) == before


def test_a_retried_finish_gets_its_first_answer_and_appends_nothing() -> None:
    ledger = RetryingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    run_id = opened(ledger)
    TeamService(ledger).form(tc.FormTeam("SRE"), ctx(run_id, LONG_AGO))
    first = ImportService(ledger).finish(run_id, keyed("finish-1"))
    before = len(public_events(ledger))

    again = ImportService(ledger).finish(run_id, keyed("finish-1"))

    assert (again.id, again.version, again.position) == (first.id, first.version,
                                                         first.position)
    assert len(public_events(ledger)) == before
    with pytest.raises(ImportRunFinishedError):  # another request is still refused
        ImportService(ledger).finish(run_id, keyed("finish-2"))


def keyed(key: str) -> CommandContext:
    return CommandContext(CommandMeta(actor="user:admin", now=NOW), idempotency_key=key,
                          fingerprint="POST /v1/imports/finish")


def test_a_run_cannot_be_opened_inside_another(ledger: Ledger) -> None:
    run_id = opened(ledger)
    with pytest.raises(ValidationError, match="inside another"):
        ImportService(ledger).open("csv", "nested", ctx(run_id))
