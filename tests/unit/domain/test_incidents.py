"""Incidents, as specifications: given these events, when this command, then these
events (or this error)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.envelope import envelope_of
from domain.errors import DomainError, NotFoundError, ValidationError
from domain.incidents import commands as c
from domain.incidents.aggregate import Incident
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
INCIDENT_ID = UUID("00000000-0000-4000-8000-0000000000b1")
TEAM_ID = UUID("00000000-0000-4000-8000-00000000000a")
ADA = UUID("00000000-0000-4000-8000-000000000001")
BOB = UUID("00000000-0000-4000-8000-000000000002")
ITEM = {"title": "Add a canary", "owner_id": str(ADA), "due": "2025-04-01"}


def meta(minutes: int = 0, actor: str = "user:oncall") -> CommandMeta:
    return CommandMeta(actor=actor, now=NOW + timedelta(minutes=minutes))


def then(incident: Incident) -> list[tuple[str, dict[str, Any]]]:
    """The events the last command(s) recorded, as (name, wire data)."""
    return [(type(e).__name__, envelope_of(e, 0).data) for e in incident.collect_events()]


def given(severity: str = "SEV3", *steps: str) -> Incident:
    """An incident opened at NOW, then taken through ``steps`` one minute apart."""
    incident = Incident.open(INCIDENT_ID, TEAM_ID, severity, "payments-api", "5xx spike", meta())
    actions: dict[str, Callable[[CommandMeta], None]] = {
        "acknowledged": incident.acknowledge,
        "mitigated": lambda m: incident.mitigate("rolled back", m),
        "resolved": lambda m: incident.resolve("fixed config", "bad deploy", m),
        "postmortem": lambda m: incident.publish_postmortem(["bad deploy"], [ITEM], m),
        "closed": incident.close,
    }
    for minute, step in enumerate(steps, start=1):
        actions[step](meta(minute))
    incident.collect_events()
    return incident


def given_closed() -> Incident:
    return given("SEV3", "acknowledged", "resolved", "closed")


# -- opening -----------------------------------------------------------------------


def test_opening_records_severity_service_and_summary() -> None:
    incident = Incident.open(INCIDENT_ID, TEAM_ID, "SEV2", " payments-api ", "5xx spike", meta())

    assert then(incident) == [("IncidentOpened", {
        "team_id": str(TEAM_ID), "severity": "SEV2", "service": "payments-api",
        "summary": "5xx spike",
    })]
    assert (incident.status, incident.opened_at) == ("open", NOW)
    assert incident.acknowledged_at is None


def test_severity_is_normalised_to_upper_case() -> None:
    incident = Incident.open(INCIDENT_ID, TEAM_ID, "sev1", "payments-api", "down", meta())

    assert incident.severity == "SEV1"


@pytest.mark.parametrize("severity", ["SEV0", "SEV5", "critical", ""])
def test_an_unknown_severity_is_refused(severity: str) -> None:
    with pytest.raises(ValidationError, match="severity"):
        Incident.open(INCIDENT_ID, TEAM_ID, severity, "payments-api", "down", meta())


@pytest.mark.parametrize(("service", "summary"), [(" ", "down"), ("payments-api", "")])
def test_an_incident_needs_a_service_and_a_summary(service: str, summary: str) -> None:
    with pytest.raises(DomainError):
        Incident.open(INCIDENT_ID, TEAM_ID, "SEV3", service, summary, meta())


# -- acknowledging -----------------------------------------------------------------


def test_acknowledging_an_open_incident_stamps_the_time() -> None:
    incident = given("SEV1")

    incident.acknowledge(meta(4))

    assert then(incident) == [("IncidentAcknowledged", {})]
    assert incident.status == "acknowledged"
    assert incident.acknowledged_at == NOW + timedelta(minutes=4)


def test_an_incident_cannot_be_acknowledged_twice() -> None:
    incident = given("SEV3", "acknowledged")

    with pytest.raises(DomainError, match="already acknowledged"):
        incident.acknowledge(meta(5))
    assert then(incident) == []


def test_a_resolved_incident_cannot_be_acknowledged() -> None:
    incident = given("SEV3", "acknowledged", "resolved")

    with pytest.raises(DomainError):
        incident.acknowledge(meta(5))


# -- mitigating ----------------------------------------------------------------------


def test_mitigating_an_acknowledged_incident_records_the_summary() -> None:
    incident = given("SEV2", "acknowledged")

    incident.mitigate("rolled back to v41", meta(9))

    assert then(incident) == [("IncidentMitigated", {"summary": "rolled back to v41"})]
    assert (incident.status, incident.mitigated_at) == ("mitigated", NOW + timedelta(minutes=9))


def test_an_unacknowledged_incident_must_be_acknowledged_before_mitigation() -> None:
    incident = given("SEV2")

    with pytest.raises(DomainError, match="acknowledged first"):
        incident.mitigate("rolled back", meta(3))


def test_an_incident_cannot_be_mitigated_twice() -> None:
    incident = given("SEV2", "acknowledged", "mitigated")

    with pytest.raises(DomainError, match="already mitigated"):
        incident.mitigate("rolled back again", meta(9))


def test_a_resolved_incident_cannot_be_mitigated() -> None:
    incident = given("SEV2", "acknowledged", "resolved")

    with pytest.raises(DomainError, match="already resolved"):
        incident.mitigate("rolled back", meta(9))


def test_a_mitigation_needs_a_summary() -> None:
    incident = given("SEV2", "acknowledged")

    with pytest.raises(DomainError, match="summary"):
        incident.mitigate("  ", meta(9))


# -- resolving -----------------------------------------------------------------------


@pytest.mark.parametrize("steps", [("acknowledged",), ("acknowledged", "mitigated")])
def test_an_acknowledged_or_mitigated_incident_can_be_resolved(steps: tuple[str, ...]) -> None:
    incident = given("SEV3", *steps)

    incident.resolve("fixed the pool size", "connection pool exhausted", meta(30))

    assert then(incident) == [("IncidentResolved", {
        "summary": "fixed the pool size", "root_cause": "connection pool exhausted",
    })]
    assert (incident.status, incident.resolved_at) == ("resolved", NOW + timedelta(minutes=30))


def test_the_root_cause_may_be_left_for_the_postmortem() -> None:
    incident = given("SEV3", "acknowledged")

    incident.resolve("restarted", "", meta(30))

    assert then(incident)[0][1]["root_cause"] == ""


def test_an_unacknowledged_incident_cannot_be_resolved() -> None:
    incident = given("SEV3")

    with pytest.raises(DomainError, match="acknowledged first"):
        incident.resolve("restarted", "", meta(30))


def test_an_incident_cannot_be_resolved_twice() -> None:
    incident = given("SEV3", "acknowledged", "resolved")

    with pytest.raises(DomainError, match="already resolved"):
        incident.resolve("restarted", "", meta(30))


def test_a_resolution_needs_a_summary() -> None:
    incident = given("SEV3", "acknowledged")

    with pytest.raises(DomainError, match="summary"):
        incident.resolve(" ", "", meta(30))


# -- postmortems ---------------------------------------------------------------------


def test_publishing_a_postmortem_records_causes_and_action_items() -> None:
    incident = given("SEV1", "acknowledged", "resolved")

    incident.publish_postmortem(
        [" bad deploy ", "no canary"],
        [{"title": " Add a canary ", "owner_id": ADA, "due": "2025-04-01"}], meta(60),
    )

    assert then(incident) == [("PostmortemPublished", {
        "causes": ["bad deploy", "no canary"],
        "action_items": [{"title": "Add a canary", "owner_id": str(ADA), "due": "2025-04-01"}],
    })]
    assert incident.postmortem is not None


def test_a_postmortem_may_have_no_action_items() -> None:
    incident = given("SEV3", "acknowledged", "resolved")

    incident.publish_postmortem(["cosmic ray"], [], meta(60))

    assert then(incident)[0][1]["action_items"] == []


@pytest.mark.parametrize("steps", [(), ("acknowledged",), ("acknowledged", "mitigated")])
def test_a_postmortem_waits_for_the_resolution(steps: tuple[str, ...]) -> None:
    incident = given("SEV1", *steps)

    with pytest.raises(DomainError, match="follows its resolution"):
        incident.publish_postmortem(["bad deploy"], [ITEM], meta(60))


def test_a_second_postmortem_is_refused() -> None:
    incident = given("SEV1", "acknowledged", "resolved", "postmortem")

    with pytest.raises(DomainError, match="already has a published postmortem"):
        incident.publish_postmortem(["another view"], [], meta(90))


@pytest.mark.parametrize("causes", [[], ["  ", ""]])
def test_a_postmortem_needs_at_least_one_cause(causes: list[str]) -> None:
    incident = given("SEV1", "acknowledged", "resolved")

    with pytest.raises(DomainError, match="at least one cause"):
        incident.publish_postmortem(causes, [ITEM], meta(60))


@pytest.mark.parametrize(("item", "problem"), [
    ({**ITEM, "title": " "}, "title"),
    ({"owner_id": str(ADA), "due": "2025-04-01"}, "title"),
    ({**ITEM, "owner_id": ""}, "owner_id"),
    ({**ITEM, "due": "2025-02-30"}, "due"),
    ({**ITEM, "due": "soon"}, "due"),
    ({"title": "Add a canary", "owner_id": str(ADA)}, "due"),
    ({**ITEM, "priority": "high"}, "unknown fields"),
    ("Add a canary", "object"),
])
def test_each_action_item_needs_a_title_an_owner_and_a_due_date(item: Any, problem: str) -> None:
    incident = given("SEV1", "acknowledged", "resolved")

    with pytest.raises(ValidationError, match=problem):
        incident.publish_postmortem(["bad deploy"], [ITEM, item], meta(60))
    assert then(incident) == []


# -- closing -------------------------------------------------------------------------


@pytest.mark.parametrize("severity", ["SEV1", "SEV2"])
def test_sev1_and_sev2_cannot_close_without_postmortem(severity: str) -> None:
    incident = given(severity, "acknowledged", "resolved")

    with pytest.raises(DomainError, match="needs a published postmortem"):
        incident.close(meta(60))
    assert then(incident) == []


def test_sev1_closes_once_its_postmortem_is_published() -> None:
    incident = given("SEV1", "acknowledged", "resolved", "postmortem")

    incident.close(meta(120))

    assert then(incident) == [("IncidentClosed", {})]
    assert (incident.status, incident.closed_at) == ("closed", NOW + timedelta(minutes=120))


@pytest.mark.parametrize("severity", ["SEV3", "SEV4"])
def test_minor_incidents_close_without_a_postmortem(severity: str) -> None:
    incident = given(severity, "acknowledged", "resolved")

    incident.close(meta(60))

    assert then(incident) == [("IncidentClosed", {})]


@pytest.mark.parametrize("steps", [(), ("acknowledged",), ("acknowledged", "mitigated")])
def test_only_a_resolved_incident_can_be_closed(steps: tuple[str, ...]) -> None:
    incident = given("SEV4", *steps)

    with pytest.raises(DomainError, match="only a resolved incident is closed"):
        incident.close(meta(60))


def test_an_incident_cannot_be_closed_twice() -> None:
    incident = given_closed()

    with pytest.raises(DomainError, match="closed"):
        incident.close(meta(90))


# -- escalating ----------------------------------------------------------------------


def test_escalating_raises_the_severity_and_keeps_where_it_came_from() -> None:
    incident = given("SEV3", "acknowledged")

    incident.escalate("SEV1", "card payments fail in every region", meta(10))

    assert then(incident) == [("IncidentEscalated", {
        "from_severity": "SEV3", "to_severity": "SEV1",
        "reason": "card payments fail in every region",
    })]
    assert incident.severity == "SEV1"


@pytest.mark.parametrize("severity", ["SEV3", "SEV4"])
def test_escalation_must_raise_the_severity(severity: str) -> None:
    incident = given("SEV3")

    with pytest.raises(DomainError, match="raise severity"):
        incident.escalate(severity, "second opinion", meta(10))


def test_an_escalation_needs_a_reason() -> None:
    incident = given("SEV3")

    with pytest.raises(DomainError, match="needs a reason"):
        incident.escalate("SEV2", "  ", meta(10))


def test_escalation_to_an_unknown_severity_is_refused() -> None:
    incident = given("SEV3")

    with pytest.raises(ValidationError, match="severity"):
        incident.escalate("SEV0", "very bad", meta(10))


def test_a_resolved_incident_cannot_be_escalated() -> None:
    incident = given("SEV3", "acknowledged", "resolved")

    with pytest.raises(DomainError, match="can't be escalated"):
        incident.escalate("SEV1", "it was worse than we thought", meta(40))


def test_an_incident_escalated_to_sev2_needs_a_postmortem_to_close() -> None:
    incident = given("SEV4", "acknowledged")
    incident.escalate("SEV2", "customers noticed", meta(5))
    incident.resolve("fixed", "", meta(30))
    incident.collect_events()

    with pytest.raises(DomainError, match="SEV2 incident needs a published postmortem"):
        incident.close(meta(60))


# -- responders and notes ----------------------------------------------------------


@pytest.mark.parametrize(
    "steps", [(), ("acknowledged",), ("acknowledged", "mitigated"), ("acknowledged", "resolved")]
)
def test_responders_and_notes_are_welcome_until_the_incident_closes(
    steps: tuple[str, ...],
) -> None:
    incident = given("SEV2", *steps)

    incident.assign_responder(ADA, meta(50))
    incident.add_note("  paged the DBA  ", meta(51))

    assert then(incident) == [
        ("ResponderAssigned", {"responder_id": str(ADA)}),
        ("TimelineNoteAdded", {"text": "paged the DBA"}),
    ]
    assert incident.responders == [str(ADA)]
    assert incident.notes[0]["text"] == "paged the DBA"


def test_the_same_responder_is_not_assigned_twice() -> None:
    incident = given("SEV2")
    incident.assign_responder(ADA, meta(1))
    incident.collect_events()

    with pytest.raises(DomainError, match="already responds"):
        incident.assign_responder(ADA, meta(2))
    incident.assign_responder(BOB, meta(2))
    assert incident.responders == [str(ADA), str(BOB)]


def test_a_note_needs_text() -> None:
    incident = given("SEV2")

    with pytest.raises(DomainError, match="text"):
        incident.add_note("   ", meta(1))


# -- nothing changes after close -----------------------------------------------------

AFTER_CLOSE: dict[str, Callable[[Incident], None]] = {
    "acknowledge": lambda i: i.acknowledge(meta(99)),
    "assign_responder": lambda i: i.assign_responder(BOB, meta(99)),
    "escalate": lambda i: i.escalate("SEV1", "late news", meta(99)),
    "add_note": lambda i: i.add_note("one more thing", meta(99)),
    "mitigate": lambda i: i.mitigate("rolled back", meta(99)),
    "resolve": lambda i: i.resolve("fixed", "", meta(99)),
    "publish_postmortem": lambda i: i.publish_postmortem(["bad deploy"], [ITEM], meta(99)),
    "close": lambda i: i.close(meta(99)),
}


@pytest.mark.parametrize("command", sorted(AFTER_CLOSE))
def test_nothing_changes_after_close(command: str) -> None:
    incident = given_closed()

    with pytest.raises(DomainError, match="is closed"):
        AFTER_CLOSE[command](incident)
    assert then(incident) == []
    assert incident.status == "closed"


# -- through the ledger ------------------------------------------------------------


def test_a_sev1_lives_through_the_ledger_and_folds_back_the_same(ledger: Ledger) -> None:
    teams = TeamService(ledger)
    team = teams.form(tc.FormTeam(name="Payments SRE"), CommandContext(meta()))
    teams.add_member(tc.AddMember(team.id, "Ada", "ada@x.test", "engineer", ADA),
                     CommandContext(meta()))  # the responder and action-item owner
    incidents = IncidentService(ledger)

    opened = incidents.open(
        c.OpenIncident(team.id, "SEV2", "payments-api", "5xx spike"), CommandContext(meta())
    )
    iid = opened.id
    incidents.acknowledge(c.Acknowledge(iid), CommandContext(meta(3)))
    incidents.assign_responder(c.AssignResponder(iid, ADA), CommandContext(meta(4)))
    incidents.escalate(c.Escalate(iid, "SEV1", "all regions"), CommandContext(meta(5)))
    incidents.add_note(c.AddNote(iid, "rollback started"), CommandContext(meta(6)))
    incidents.mitigate(c.Mitigate(iid, "rolled back"), CommandContext(meta(10)))
    incidents.resolve(c.Resolve(iid, "config fixed"), CommandContext(meta(40)))
    incidents.publish_postmortem(
        c.PublishPostmortem(iid, ["bad config"], [ITEM]), CommandContext(meta(600))
    )
    closed = incidents.close(c.CloseIncident(iid), CommandContext(meta(601)))

    incident = ledger.load(Incident, iid)
    assert closed.version == 9
    assert (incident.status, incident.severity, incident.root_cause) == ("closed", "SEV1", "")
    assert incident.acknowledged_at - incident.opened_at == timedelta(minutes=3)
    assert incident.resolved_at - incident.opened_at == timedelta(minutes=40)
    assert incident.postmortem is not None
    assert incident.postmortem["action_items"] == [ITEM]


def test_opening_an_incident_for_an_unknown_team_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError, match="team"):
        IncidentService(ledger).open(
            c.OpenIncident(uuid4(), "SEV1", "payments-api", "down"), CommandContext(meta())
        )


def test_acknowledging_an_unknown_incident_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError, match="incident"):
        IncidentService(ledger).acknowledge(c.Acknowledge(uuid4()), CommandContext(meta()))
