"""The team of a stored event, from the event store: each stream read once, then cached."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from uuid import uuid4

import pytest

import domain.catalog  # noqa: F401  (registers every event class)
from domain.incidents import commands as ic
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService
from infra.event_store.log import iter_envelopes
from infra.event_store.stream_teams import StreamTeams, stream_teams

CTX = CommandContext(CommandMeta("user:admin"))


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    app = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def an_incident_of_a_new_team(ledger: Ledger) -> tuple[str, str]:
    team = TeamService(ledger).form(tc.FormTeam("SRE"), CTX).id
    incidents = IncidentService(ledger)
    incident = incidents.open(ic.OpenIncident(team, "SEV2", "api", "5xx"), CTX).id
    incidents.acknowledge(ic.Acknowledge(incident), CTX)
    return str(team), str(incident)


def test_each_event_belongs_to_its_streams_team(ledger: Ledger) -> None:
    team, incident = an_incident_of_a_new_team(ledger)
    teams = StreamTeams(ledger)

    found = {(e.subject, e.stream_version): teams.team_of(e) for e in iter_envelopes(ledger)}

    assert found == {(team, 1): team, (incident, 1): team, (incident, 2): team}


def test_a_later_event_reads_its_streams_creating_event_once(ledger: Ledger) -> None:
    team, _ = an_incident_of_a_new_team(ledger)
    acknowledged = [e for e in iter_envelopes(ledger) if e.stream_version == 2]
    teams = StreamTeams(ledger)

    assert [teams.team_of(acknowledged[0]) for _ in range(5)] == [team] * 5
    assert teams.store_reads == 1


def test_the_cache_is_bounded(ledger: Ledger) -> None:
    streams = [an_incident_of_a_new_team(ledger) for _ in range(3)]
    later = [e for e in iter_envelopes(ledger) if e.stream_version == 2]
    teams = StreamTeams(ledger, max_streams=2)

    assert [teams.team_of(e) for e in later] == [team for team, _ in streams]
    assert teams.team_of(later[0]) == streams[0][0]  # forgotten, so read again
    assert teams.store_reads == 4


def test_events_of_no_known_team_context_belong_to_no_team(ledger: Ledger) -> None:
    an_incident_of_a_new_team(ledger)
    event = next(iter_envelopes(ledger))
    teams = StreamTeams(ledger)

    assert teams.team_of(replace(event, context="access", subject=str(uuid4()))) is None
    assert teams.store_reads == 0


def test_one_cache_per_ledger(ledger: Ledger) -> None:
    assert stream_teams(ledger) is stream_teams(ledger)
