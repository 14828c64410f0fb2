"""The ledger's economies, as specifications: what a command reads and checks to do
its work, and what it no longer does."""

from __future__ import annotations

import typing
from uuid import uuid4

import pytest

from domain.errors import NotFoundError
from domain.goals.aggregate import Goal
from domain.ledger import Ledger
from domain.teams import commands as tc
from domain.teams.aggregate import Team
from domain.teams.service import TeamService
from tests.unit.domain.test_ledger import NOW, ctx, form_team


def test_first_gives_the_aggregate_as_its_first_event_left_it(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a command needs to know that a team exists, and since when, without
    loading the team's whole history (a feedback item loads its team)."""
    team_id = form_team(ledger)
    teams = TeamService(ledger)
    for i in range(3):
        teams.add_member(tc.AddMember(team_id, f"Ada {i}", f"ada{i}@x.test", "engineer"),
                         ctx(i + 1))
    read: list[int | None] = []
    select = ledger.recorder.select_events

    def selecting(*args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        read.append(kwargs.get("lte"))
        return select(*args, **kwargs)

    monkeypatch.setattr(ledger.recorder, "select_events", selecting)

    first = ledger.first(Team, team_id)

    assert (first.version, first.members, first.first_occurred_at) == (1, {}, NOW)
    assert read == [1]  # one event asked for, not the history
    with pytest.raises(NotFoundError, match="team"):
        ledger.first(Team, uuid4())
    with pytest.raises(NotFoundError, match="goal"):
        ledger.first(Goal, team_id)


def test_saving_and_loading_ask_no_runtime_protocol_of_aggregates_or_events(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """eventsourcing's save and projection check every aggregate and event against
    runtime protocols (isinstance of a typing.Protocol: dearer than the work itself);
    the ledger's own collect and project by class."""
    checks: list[object] = []
    meta = type(typing.Protocol)
    check: typing.Any = meta.__instancecheck__

    def checking(cls: typing.Any, obj: object) -> bool:
        checks.append(cls)
        return bool(check(cls, obj))

    monkeypatch.setattr(meta, "__instancecheck__", checking)
    team_id = form_team(ledger)
    TeamService(ledger).add_member(tc.AddMember(team_id, "Ada", "ada@x.test", "engineer"),
                                   ctx(1))

    assert ledger.load(Team, team_id).version == 2
    assert not [c for c in checks if c.__module__.startswith("eventsourcing")]
