"""Incident times that tell the truth, as specifications: when the impact began,
reopening a resolution that did not hold, and closing a duplicate of another incident.
Given these events, when this command, then these events (or this error)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.envelope import envelope_of
from domain.errors import DomainError, NotFoundError, OutOfOrderError, ValidationError
from domain.incidents import commands as c
from domain.incidents.aggregate import Incident
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService

OPENED = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
INCIDENT_ID = UUID("00000000-0000-4000-8000-0000000000b1")
ORIGINAL_ID = UUID("00000000-0000-4000-8000-0000000000b2")
TEAM_ID = UUID("00000000-0000-4000-8000-00000000000a")


def meta(minutes: int = 0) -> CommandMeta:
    return CommandMeta(actor="user:oncall", now=OPENED + timedelta(minutes=minutes))


def then(incident: Incident) -> list[tuple[str, dict[str, Any]]]:
    return [(type(e).__name__, envelope_of(e, 0).data) for e in incident.collect_events()]


def given(*steps: str, incident_id: UUID = INCIDENT_ID) -> Incident:
    """A SEV3 incident opened at 14:00, then taken through ``steps`` a minute apart."""
    incident = Incident.open(incident_id, TEAM_ID, "SEV3", "payments-api", "5xx", meta())
    for minute, step in enumerate(steps, start=1):
        m = meta(minute)
        if step == "acknowledged":
            incident.acknowledge(m)
        elif step == "mitigated":
            incident.mitigate("rolled back", m)
        elif step == "resolved":
            incident.resolve("fixed", "deploy", m)
        elif step == "closed":
            incident.close(m)
        elif step == "reopened":
            incident.reopen("it came back", m)
    incident.collect_events()
    return incident


# -- when the impact began -----------------------------------------------------------------


def test_the_impact_may_have_begun_before_the_opening() -> None:
    incident = given("acknowledged")

    incident.record_impact_start(OPENED - timedelta(minutes=20), "dashboards show it", meta(5))

    assert then(incident) == [("ImpactStartRecorded", {
        "started_at": "2025-03-03T13:40:00.000000Z", "reason": "dashboards show it"})]
    assert incident.impact_started_at == OPENED - timedelta(minutes=20)


def test_the_impact_may_have_begun_at_the_opening() -> None:
    incident = given()

    incident.record_impact_start(OPENED, "paged at once", meta(1))

    assert incident.impact_started_at == OPENED


def test_an_impact_that_began_after_the_opening_is_out_of_order() -> None:
    incident = given()

    with pytest.raises(OutOfOrderError, match="after it was opened at 2025-03-03T14:00"):
        incident.record_impact_start(OPENED + timedelta(seconds=1), "later", meta(1))
    assert then(incident) == []


def test_an_impact_start_needs_a_reason() -> None:
    with pytest.raises(DomainError, match="needs a reason"):
        given().record_impact_start(OPENED, "  ", meta(1))


def test_an_impact_start_is_learnt_even_after_the_close() -> None:
    incident = given("acknowledged", "resolved", "closed")

    incident.record_impact_start(OPENED - timedelta(hours=1), "found at the review", meta(9))

    assert [name for name, _ in then(incident)] == ["ImpactStartRecorded"]


# -- reopening -----------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [("acknowledged", "resolved"),
                                   ("acknowledged", "resolved", "closed")])
def test_a_resolved_or_closed_incident_is_open_again(steps: tuple[str, ...]) -> None:
    incident = given(*steps)

    incident.reopen("errors are back", meta(9))

    assert then(incident) == [("IncidentReopened", {"reason": "errors are back"})]
    assert (incident.status, incident.resolved_at, incident.closed_at) == ("open", None, None)


@pytest.mark.parametrize("steps", [(), ("acknowledged",), ("acknowledged", "mitigated")])
def test_only_a_resolved_or_closed_incident_is_reopened(steps: tuple[str, ...]) -> None:
    with pytest.raises(DomainError, match="only a resolved or closed incident"):
        given(*steps).reopen("again", meta(9))


def test_a_reopening_needs_a_reason() -> None:
    with pytest.raises(DomainError, match="needs a reason"):
        given("acknowledged", "resolved").reopen(" ", meta(9))


def test_a_reopened_incident_is_acknowledged_and_resolved_again() -> None:
    incident = given("acknowledged", "resolved", "reopened")

    incident.acknowledge(meta(10))
    incident.resolve("fixed for good", "deploy", meta(11))

    assert [name for name, _ in then(incident)] == ["IncidentAcknowledged", "IncidentResolved"]
    assert incident.resolved_at == OPENED + timedelta(minutes=11)


def test_a_reopening_before_the_resolution_is_out_of_order() -> None:
    with pytest.raises(OutOfOrderError):
        given("acknowledged", "resolved").reopen("again", meta(1))


# -- duplicates ----------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [(), ("acknowledged",), ("acknowledged", "resolved")])
def test_an_incident_is_closed_as_a_duplicate_of_another(steps: tuple[str, ...]) -> None:
    original = given(incident_id=ORIGINAL_ID)
    incident = given(*steps)

    incident.mark_duplicate(original, "same outage", meta(9))

    assert then(incident) == [("IncidentMarkedDuplicate", {
        "of_incident_id": str(ORIGINAL_ID), "reason": "same outage"})]
    assert (incident.status, incident.duplicate_of) == ("closed", str(ORIGINAL_ID))


def test_a_sev1_duplicate_closes_without_its_own_postmortem() -> None:
    original = given(incident_id=ORIGINAL_ID)
    incident = Incident.open(INCIDENT_ID, TEAM_ID, "SEV1", "payments-api", "down", meta())

    incident.mark_duplicate(original, "same outage", meta(1))

    assert incident.status == "closed"


def test_an_incident_is_not_a_duplicate_of_itself() -> None:
    incident = given()

    with pytest.raises(ValidationError, match="duplicate of itself"):
        incident.mark_duplicate(incident, "oops", meta(1))


def test_a_duplicate_of_a_duplicate_names_the_original_instead() -> None:
    first = given(incident_id=UUID(int=7))
    original = given(incident_id=ORIGINAL_ID)
    original.mark_duplicate(first, "same outage", meta(2))

    with pytest.raises(DomainError, match=f"itself a duplicate of {UUID(int=7)}"):
        given().mark_duplicate(original, "same outage", meta(3))


def test_a_closed_incident_is_not_closed_again_as_a_duplicate() -> None:
    original = given(incident_id=ORIGINAL_ID)

    with pytest.raises(DomainError, match="is closed"):
        given("acknowledged", "resolved", "closed").mark_duplicate(original, "same", meta(9))


def test_a_duplicate_needs_a_reason() -> None:
    with pytest.raises(DomainError, match="needs a reason"):
        given().mark_duplicate(given(incident_id=ORIGINAL_ID), "", meta(1))


def test_a_duplicate_is_not_reopened_the_original_is() -> None:
    incident = given()
    incident.mark_duplicate(given(incident_id=ORIGINAL_ID), "same outage", meta(1))

    with pytest.raises(DomainError, match="the original is the one to reopen"):
        incident.reopen("not the same after all", meta(2))


# -- through the service (the original must exist) -----------------------------------------


def at(minutes: int) -> CommandContext:
    return CommandContext(meta(minutes))


def test_the_original_must_exist(ledger: Ledger) -> None:
    TeamService(ledger).form(tc.FormTeam("SRE", team_id=TEAM_ID), at(-60))
    incidents = IncidentService(ledger)
    incidents.open(c.OpenIncident(TEAM_ID, "SEV3", "api", "5xx", INCIDENT_ID), at(0))

    with pytest.raises(NotFoundError, match=str(ORIGINAL_ID)):
        incidents.mark_duplicate(c.MarkDuplicate(INCIDENT_ID, ORIGINAL_ID, "same"), at(1))
    with pytest.raises(ValidationError, match="itself"):
        incidents.mark_duplicate(c.MarkDuplicate(INCIDENT_ID, INCIDENT_ID, "same"), at(1))

    incidents.open(c.OpenIncident(TEAM_ID, "SEV3", "api", "5xx", ORIGINAL_ID), at(1))
    incidents.mark_duplicate(c.MarkDuplicate(INCIDENT_ID, ORIGINAL_ID, "same"), at(2))
    assert ledger.load(Incident, INCIDENT_ID).duplicate_of == str(ORIGINAL_ID)


def test_impact_start_and_reopen_through_the_service(ledger: Ledger) -> None:
    TeamService(ledger).form(tc.FormTeam("SRE", team_id=TEAM_ID), at(-60))
    incidents = IncidentService(ledger)
    incidents.open(c.OpenIncident(TEAM_ID, "SEV3", "api", "5xx", INCIDENT_ID), at(0))
    incidents.record_impact_start(
        c.RecordImpactStart(INCIDENT_ID, OPENED - timedelta(minutes=7), "graphs"), at(1))
    incidents.acknowledge(c.Acknowledge(INCIDENT_ID), at(2))
    incidents.resolve(c.Resolve(INCIDENT_ID, "fixed"), at(3))
    incidents.reopen(c.Reopen(INCIDENT_ID, "back"), at(4))

    incident = ledger.load(Incident, INCIDENT_ID)
    assert (incident.status, incident.impact_started_at) == (
        "open", OPENED - timedelta(minutes=7))
