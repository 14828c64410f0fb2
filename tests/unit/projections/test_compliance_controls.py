"""Compliance controls: given these events and this clock, then these findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from domain.incidents.action_items import postmortem_item_id
from projections.compliance_controls import Thresholds, add_working_days, evaluate
from projections.fold import Document
from projections.times import parse_time
from tests.unit.projections.builders import (
    ADA,
    BOB,
    GOAL,
    INCIDENT,
    TEAM,
    a_team,
    ev,
    joined,
    project,
    team_formed,
)

Step = tuple[str, str, dict[str, Any]]


def incident(severity: str, opened_at: str, *steps: Step) -> tuple[Document, list[str]]:
    """The incident view after opening and ``steps`` (name, time, data); its event ids."""
    events = [ev("incidents", "IncidentOpened", INCIDENT, 1, 1, opened_at, team_id=TEAM,
                 severity=severity, service="payments-api", summary="5xx spike")]
    for version, (name, time, data) in enumerate(steps, start=2):
        events.append(ev("incidents", name, INCIDENT, version, version, time, **data))
    doc = project(*events).get("incidents", INCIDENT)
    assert doc is not None
    return doc, [e.id for e in events]


def findings(now: str, incidents: Sequence[Document] = (), goals: Sequence[Document] = (),
             role_changes: Sequence[Document] = (), members: Sequence[Document] = (),
             control: str | None = None) -> list[dict[str, Any]]:
    found = evaluate(incidents, goals, role_changes, members, now, Thresholds())
    return [f for f in found if control is None or f["control"] == control]


def acked(time: str) -> Step:
    return ("IncidentAcknowledged", time, {})


# -- ack_sla --------------------------------------------------------------------------


def test_a_sev1_acknowledged_within_15_minutes_is_fine() -> None:
    doc, _ = incident("SEV1", "2026-11-23T10:00:00Z", acked("2026-11-23T10:15:00Z"))

    assert findings("2026-11-23T12:00:00Z", [doc], control="ack_sla") == []


def test_an_unacknowledged_sev1_is_open_once_its_sla_has_passed() -> None:
    doc, ids = incident("SEV1", "2026-11-23T10:00:00Z")

    assert findings("2026-11-23T10:14:59Z", [doc], control="ack_sla") == []
    assert findings("2026-11-23T10:20:00Z", [doc], control="ack_sla") == [{
        "id": f"ack_sla:{INCIDENT}", "control": "ack_sla", "subject_id": INCIDENT,
        "team_id": TEAM, "status": "open", "opened_at": "2026-11-23T10:15:00Z",
        "resolved_at": None,
        "summary": "SEV1 incident on payments-api not acknowledged; the SLA is 15 minutes",
        "evidence_event_ids": [ids[0]], "severity": "SEV1", "breached_by_seconds": 300.0,
    }]


def test_a_late_acknowledgement_resolves_the_breach_but_it_stays_on_record() -> None:
    doc, ids = incident("SEV1", "2026-11-23T10:00:00Z", acked("2026-11-23T10:20:00Z"))

    [finding] = findings("2026-11-24T10:00:00Z", [doc], control="ack_sla")
    assert (finding["status"], finding["opened_at"], finding["resolved_at"]) == (
        "resolved", "2026-11-23T10:15:00Z", "2026-11-23T10:20:00Z"
    )
    assert finding["breached_by_seconds"] == 300.0
    assert finding["evidence_event_ids"] == ids
    assert finding["id"] == f"ack_sla:{INCIDENT}"  # the same finding as while it was open


ORIGINAL = "9f1d6c2e-0000-4000-8000-000000000001"


def closed_as_duplicate(time: str) -> Step:
    return ("IncidentMarkedDuplicate", time, {"of_incident_id": ORIGINAL,
                                              "reason": "the same outage, paged twice"})


def test_a_page_closed_as_a_duplicate_in_time_needs_no_acknowledgement() -> None:
    doc, _ = incident("SEV1", "2026-11-23T10:00:00Z",
                      closed_as_duplicate("2026-11-23T10:05:00Z"))

    assert findings("2026-11-24T10:00:00Z", [doc], control="ack_sla") == []


def test_a_page_closed_as_a_duplicate_after_its_sla_is_resolved_at_that_close() -> None:
    doc, ids = incident("SEV1", "2026-11-23T10:00:00Z",
                        closed_as_duplicate("2026-11-23T10:25:00Z"))

    [finding] = findings("2026-11-24T10:00:00Z", [doc], control="ack_sla")

    assert (finding["status"], finding["resolved_at"], finding["breached_by_seconds"]) == (
        "resolved", "2026-11-23T10:25:00Z", 600.0)
    assert finding["evidence_event_ids"] == ids
    assert "closed as a duplicate 10 min late, never acknowledged" in finding["summary"]


@pytest.mark.parametrize(("ack", "expected"), [
    ("2026-11-23T11:00:00Z", []), ("2026-11-23T11:05:00Z", [("resolved", 300.0)]),
])
def test_a_sev2_has_an_hour(ack: str, expected: list) -> None:
    doc, _ = incident("SEV2", "2026-11-23T10:00:00Z", acked(ack))

    assert [(f["status"], f["breached_by_seconds"])
            for f in findings("2026-11-24T10:00:00Z", [doc], control="ack_sla")] == expected


def test_sev3_and_sev4_have_no_acknowledgement_sla() -> None:
    sev3, _ = incident("SEV3", "2026-11-23T10:00:00Z")

    assert findings("2026-11-30T10:00:00Z", [sev3], control="ack_sla") == []


def test_the_sla_clock_of_an_escalation_starts_when_it_is_escalated() -> None:
    doc, ids = incident("SEV3", "2026-11-23T10:00:00Z", (
        "IncidentEscalated", "2026-11-23T10:30:00Z",
        {"from_severity": "SEV3", "to_severity": "SEV1", "reason": "all regions"},
    ))

    assert findings("2026-11-23T10:44:00Z", [doc], control="ack_sla") == []
    [finding] = findings("2026-11-23T10:50:00Z", [doc], control="ack_sla")
    assert (finding["severity"], finding["opened_at"], finding["evidence_event_ids"]) == (
        "SEV1", "2026-11-23T10:45:00Z", ids
    )


def test_an_escalation_after_the_acknowledgement_does_not_restart_the_clock() -> None:
    doc, _ = incident(
        "SEV3", "2026-11-23T10:00:00Z", acked("2026-11-23T10:30:00Z"),
        ("IncidentEscalated", "2026-11-23T11:00:00Z",
         {"from_severity": "SEV3", "to_severity": "SEV1", "reason": "worse"}),
    )

    assert findings("2026-11-24T10:00:00Z", [doc], control="ack_sla") == []


# -- postmortem_overdue ---------------------------------------------------------------

RESOLVED_FRIDAY = ("IncidentResolved", "2026-11-27T10:00:00Z",
                   {"summary": "rolled back", "root_cause": "bad deploy"})


def postmortem(time: str, *items: dict[str, str]) -> Step:
    return ("PostmortemPublished", time, {"causes": ["bad deploy"], "action_items": list(items)})


def test_five_working_days_skip_the_weekend() -> None:
    friday = parse_time("2026-11-27T10:00:00Z")
    saturday = parse_time("2026-11-28T10:00:00Z")

    assert add_working_days(friday, 5) == parse_time("2026-12-04T10:00:00Z")
    assert add_working_days(saturday, 5) == parse_time("2026-12-04T10:00:00Z")
    assert add_working_days(friday, 1) == parse_time("2026-11-30T10:00:00Z")


def test_a_missing_postmortem_is_open_once_five_working_days_have_passed() -> None:
    doc, ids = incident("SEV2", "2026-11-27T09:00:00Z", acked("2026-11-27T09:05:00Z"),
                        RESOLVED_FRIDAY)

    assert findings("2026-12-04T09:59:59Z", [doc], control="postmortem_overdue") == []
    [finding] = findings("2026-12-04T11:00:00Z", [doc], control="postmortem_overdue")
    assert {k: finding[k] for k in (
        "id", "status", "opened_at", "resolved_at", "severity", "breached_by_seconds",
        "evidence_event_ids", "team_id",
    )} == {
        "id": f"postmortem_overdue:{INCIDENT}", "status": "open",
        "opened_at": "2026-12-04T10:00:00Z", "resolved_at": None, "severity": "SEV2",
        "breached_by_seconds": 3600.0, "evidence_event_ids": [ids[2]], "team_id": TEAM,
    }


def test_a_late_postmortem_resolves_the_finding() -> None:
    doc, ids = incident("SEV1", "2026-11-27T09:00:00Z", acked("2026-11-27T09:05:00Z"),
                        RESOLVED_FRIDAY, postmortem("2026-12-07T10:00:00Z"))

    [finding] = findings("2026-12-08T10:00:00Z", [doc], control="postmortem_overdue")
    assert (finding["status"], finding["resolved_at"], finding["evidence_event_ids"]) == (
        "resolved", "2026-12-07T10:00:00Z", ids[2:]
    )


def test_a_timely_postmortem_or_a_minor_incident_makes_no_finding() -> None:
    timely, _ = incident("SEV1", "2026-11-27T09:00:00Z", acked("2026-11-27T09:05:00Z"),
                         RESOLVED_FRIDAY, postmortem("2026-12-03T10:00:00Z"))
    minor, _ = incident("SEV3", "2026-11-27T09:00:00Z", acked("2026-11-27T09:05:00Z"),
                        RESOLVED_FRIDAY)

    assert findings("2026-12-20T10:00:00Z", [timely, minor], control="postmortem_overdue") == []


# -- action_item_overdue --------------------------------------------------------------


def test_each_action_item_past_its_due_date_is_open() -> None:
    doc, ids = incident(
        "SEV2", "2026-11-27T09:00:00Z", acked("2026-11-27T09:05:00Z"), RESOLVED_FRIDAY,
        postmortem("2026-11-30T10:00:00Z",
                   {"title": "Add a canary", "owner_id": ADA, "due": "2026-12-01"},
                   {"title": "Alert on 5xx", "owner_id": BOB, "due": "2026-12-02"}),
    )

    assert findings("2026-12-01T23:59:00Z", [doc], control="action_item_overdue") == []
    [finding] = findings("2026-12-02T08:00:00Z", [doc], control="action_item_overdue")
    assert {k: finding[k] for k in (
        "id", "subject_id", "status", "opened_at", "resolved_at", "evidence_event_ids",
    )} == {
        "id": f"action_item_overdue:{INCIDENT}:{postmortem_item_id(INCIDENT, 1)}",
        "subject_id": INCIDENT, "status": "open",
        "opened_at": "2026-12-02T00:00:00Z", "resolved_at": None,
        "evidence_event_ids": [ids[3]],
    }
    assert "Add a canary" in finding["summary"]
    assert len(findings("2026-12-03T08:00:00Z", [doc], control="action_item_overdue")) == 2


# -- target_revised_after_deadline ----------------------------------------------------


def goal(*revision_times: str) -> tuple[Document, list[str]]:
    events = [ev("goals", "GoalSet", GOAL, 1, 1, "2026-11-02T10:00:00Z", team_id=TEAM,
                 owner_id=ADA, title="Cut p99 latency", metric="p99", baseline=400.0,
                 target=200.0, unit="ms", deadline="2026-11-30")]
    for version, time in enumerate(revision_times, start=2):
        events.append(ev("goals", "TargetRevised", GOAL, version, version, time,
                         old_target=200.0, new_target=250.0 + version, reason="late"))
    doc = project(*events).get("goals", GOAL)
    assert doc is not None
    return doc, [e.id for e in events]


def test_a_target_revised_on_its_deadline_day_is_fine() -> None:
    doc, _ = goal("2026-11-20T10:00:00Z", "2026-11-30T23:00:00Z")

    assert findings("2026-12-10T10:00:00Z", goals=[doc]) == []


def test_a_target_revised_after_its_deadline_is_open_with_the_revisions_as_evidence() -> None:
    doc, ids = goal("2026-11-20T10:00:00Z", "2026-12-01T09:00:00Z")

    assert findings("2026-12-10T10:00:00Z", goals=[doc]) == [{
        "id": f"target_revised_after_deadline:{GOAL}",
        "control": "target_revised_after_deadline", "subject_id": GOAL, "team_id": TEAM,
        "status": "open", "opened_at": "2026-12-01T09:00:00Z", "resolved_at": None,
        "summary": "Target of goal 'Cut p99 latency' revised 1 time(s) after its deadline "
                   "2026-11-30",
        "evidence_event_ids": [ids[0], ids[2]], "severity": None, "breached_by_seconds": None,
    }]


# -- self_role_change -----------------------------------------------------------------


def role_change_by(actor: str, member_id: str = ADA) -> tuple[list[Document], list[Document]]:
    """The RoleAssigned audit records and the members after ``actor`` changed a role."""
    store = project(*a_team(), ev(
        "teams", "RoleAssigned", TEAM, 4, 4, "2026-11-03T10:00:00Z", actor=actor,
        member_id=member_id, role="lead", previous_role="engineer", responsibilities=[],
        effective_date="2026-11-03", reason="promotion",
    ))
    records = [r for r in store.all("audit_trail") if r["name"] == "RoleAssigned"]
    return records, store.all("members")


@pytest.mark.parametrize("actor", ["user:ada.l", "user:ADA.L", "user:ada.l@example.com",
                                   "user:ada"])
def test_a_role_granted_by_its_holder_is_open(actor: str) -> None:
    records, members = role_change_by(actor)

    [finding] = findings("2026-11-04T10:00:00Z", role_changes=records, members=members)
    assert {k: finding[k] for k in (
        "id", "control", "subject_id", "team_id", "status", "opened_at", "evidence_event_ids",
    )} == {
        "id": f"self_role_change:{ADA}:{records[0]['id']}", "control": "self_role_change",
        "subject_id": ADA, "team_id": TEAM, "status": "open",
        "opened_at": "2026-11-03T10:00:00Z", "evidence_event_ids": [records[0]["id"]],
    }


@pytest.mark.parametrize("actor", ["user:bob", "service:ada.l", "user:", "user:ada.lovelace"])
def test_a_role_granted_by_someone_else_is_fine(actor: str) -> None:
    records, members = role_change_by(actor)

    assert findings("2026-11-04T10:00:00Z", role_changes=records, members=members) == []


def role_change_of_a_member_with_a_principal(actor: str) -> tuple[list[Document], list[Document]]:
    """As :func:`role_change_by`, but Ada joined naming her principal, ``user:lovelace``."""
    store = project(
        team_formed(),
        joined(ADA, "Ada", "ada.l@example.com", "engineer", 2, 2, "2026-11-02T09:05:00Z",
               principal="user:lovelace"),
        ev("teams", "RoleAssigned", TEAM, 3, 3, "2026-11-03T10:00:00Z", actor=actor,
           member_id=ADA, role="lead", previous_role="engineer", responsibilities=[],
           effective_date="2026-11-03", reason="promotion"),
    )
    records = [r for r in store.all("audit_trail") if r["name"] == "RoleAssigned"]
    return records, store.all("members")


def test_a_recorded_principal_decides_who_the_member_is() -> None:
    own, members = role_change_of_a_member_with_a_principal("user:lovelace")
    # Her email's local part, which the fallback would have matched, is someone else.
    other, _ = role_change_of_a_member_with_a_principal("user:ada.l")

    [finding] = findings("2026-11-04T10:00:00Z", role_changes=own, members=members)
    assert finding["control"] == "self_role_change" and finding["subject_id"] == ADA
    assert findings("2026-11-04T10:00:00Z", role_changes=other, members=members) == []


# -- all together ---------------------------------------------------------------------


def test_findings_come_oldest_first_with_a_uniform_shape() -> None:
    late_ack, _ = incident("SEV1", "2026-11-23T10:00:00Z", acked("2026-11-23T10:20:00Z"))
    late_goal, _ = goal("2026-12-01T09:00:00Z")
    records, members = role_change_by("user:ada.l")

    found = evaluate([late_ack], [late_goal], records, members, "2026-12-10T10:00:00Z",
                     Thresholds())

    assert [f["control"] for f in found] == [
        "self_role_change", "ack_sla", "target_revised_after_deadline",
    ]
    assert {frozenset(f) for f in found} == {frozenset({
        "id", "control", "subject_id", "team_id", "status", "opened_at", "resolved_at",
        "summary", "evidence_event_ids", "severity", "breached_by_seconds",
    })}


def test_thresholds_are_configurable() -> None:
    doc, _ = incident("SEV1", "2026-11-23T10:00:00Z", acked("2026-11-23T10:20:00Z"))

    assert evaluate([doc], [], [], [], "2026-11-24T00:00:00Z",
                    Thresholds(sev1_ack_minutes=30)) == []


def role_change_after_binding(actor: str) -> tuple[list[Document], list[Document]]:
    """Ada joined without a principal; an admin then bound ``user:lovelace`` to her."""
    store = project(
        team_formed(),
        joined(ADA, "Ada", "ada.l@example.com", "engineer", 2, 2, "2026-11-02T09:05:00Z"),
        ev("teams", "PrincipalBound", TEAM, 3, 3, "2026-11-02T10:00:00Z", actor="user:admin",
           member_id=ADA, principal="user:lovelace", previous_principal=None,
           reason="verified identity"),
        ev("teams", "RoleAssigned", TEAM, 4, 4, "2026-11-03T10:00:00Z", actor=actor,
           member_id=ADA, role="lead", previous_role="engineer", responsibilities=[],
           effective_date="2026-11-03", reason="promotion"),
    )
    records = [r for r in store.all("audit_trail") if r["name"] == "RoleAssigned"]
    return records, store.all("members")


def test_a_principal_bound_after_the_join_decides_who_the_member_is() -> None:
    own, members = role_change_after_binding("user:lovelace")
    other, others = role_change_after_binding("user:ada.l")

    [finding] = findings("2026-11-04T10:00:00Z", role_changes=own, members=members)
    assert finding["control"] == "self_role_change" and finding["subject_id"] == ADA
    assert findings("2026-11-04T10:00:00Z", role_changes=other, members=others) == []
