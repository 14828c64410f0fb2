"""PagerDuty incidents to OpsLedger commands: given an incident as the REST API v2
answers it (with its log entries), then the commands in the order they happened, each
at its log entry's time, its people by email and its team by name; or its refusal
naming the incident."""

from __future__ import annotations

from typing import Any

import pytest

from services.cli.importers.pagerduty import (
    Directory,
    Malformed,
    map_incident,
    severity_of,
)
from services.cli.importers.pagerduty_file import ExportError, read_export
from services.cli.importers.plan import entity_id
from tests.support.pagerduty_shapes import entry, incident, user

TEAM = "3f0c7a52-7d7e-4a59-9a3c-2b1f6c1d9e01"
OTHER_TEAM = "9d8e1c4b-1f7a-4b7e-8f0e-6a2d5c3b4a10"
ADA = "0b9f3c2e-8a51-4f6e-9d37-1c2b3a4d5e6f"
GRACE = "6e5d4c3b-2a19-4e8f-9c7d-0b1a2c3d4e5f"
DIRECTORY = Directory(teams_by_name={"payments sre": [TEAM]},
                      members_by_email={"ada@example.com": ADA, "grace@example.com": GRACE},
                      emails_by_user={"PGRACE1": "Grace@Example.com"})


LIFECYCLE = [  # newest first, as PagerDuty lists them
    entry("R5", "resolve_log_entry", "2024-05-01T10:30:00Z", summary="Resolved by Ada"),
    entry("R4", "annotate_log_entry", "2024-05-01T09:40:00Z",
          channel={"type": "note", "summary": "rolled back"}),
    entry("R3", "acknowledge_log_entry", "2024-05-01T09:12:00+02:00"),
    entry("R9", "notify_log_entry", "2024-05-01T09:00:05Z"),
    entry("R2", "assign_log_entry", "2024-05-01T09:00:00Z",
          assignees=[user("PADA001", "Ada", email="ada@example.com")]),
    entry("R1", "trigger_log_entry", "2024-05-01T09:00:00Z"),
]


def test_an_incident_is_opened_acknowledged_assigned_noted_and_resolved_in_time_order() -> None:
    unit = map_incident(0, incident(*LIFECYCLE), DIRECTORY)

    assert unit.refusal is None and unit.dependent
    path = f"/v1/incidents/{entity_id('pagerduty', 'incident', 'PT4KHLK')}"
    assert [(r.kind, r.path, r.body.get("occurred_at")) for r in unit.requests] == [
        ("open", "/v1/incidents", "2024-05-01T09:00:00Z"),
        ("acknowledge", f"{path}/acknowledge", "2024-05-01T07:12:00Z"),
        ("assign", f"{path}/assign", "2024-05-01T09:00:00Z"),
        ("note", f"{path}/notes", "2024-05-01T09:40:00Z"),
        ("resolve", f"{path}/resolve", "2024-05-01T10:30:00Z"),
    ]
    opening = unit.requests[0].body
    assert opening == {"team_id": TEAM, "severity": "SEV2", "service": "Mail",
                       "summary": "[#1234] The server is on fire.",
                       "incident_id": entity_id("pagerduty", "incident", "PT4KHLK"),
                       "occurred_at": "2024-05-01T09:00:00Z"}
    assert unit.requests[2].body["responder_id"] == ADA
    assert unit.requests[3].body["text"] == "rolled back"
    assert unit.requests[4].body["summary"] == "Resolved by Ada"
    assert [r.key for r in unit.requests[:2]] == ["import:pagerduty:PT4KHLK:R1",
                                                  "import:pagerduty:PT4KHLK:R3"]
    assert unit.requests[1].where == "incident PT4KHLK (#1234), log entry R3"
    assert unit.not_mapped == {"notify_log_entry": 1}


def test_the_same_incident_maps_to_the_same_requests() -> None:
    assert map_incident(0, incident(*LIFECYCLE), DIRECTORY) == map_incident(
        0, incident(*LIFECYCLE), DIRECTORY)


def test_a_resolution_without_acknowledgement_is_acknowledged_at_the_same_moment() -> None:
    unit = map_incident(0, incident(
        entry("R1", "trigger_log_entry", "2024-05-01T09:00:00Z"),
        entry("R2", "resolve_log_entry", "2024-05-01T09:05:00Z")), DIRECTORY)

    assert [(r.kind, r.body["occurred_at"], r.key) for r in unit.requests[1:]] == [
        ("acknowledge", "2024-05-01T09:05:00Z", "import:pagerduty:PT4KHLK:R2:ack"),
        ("resolve", "2024-05-01T09:05:00Z", "import:pagerduty:PT4KHLK:R2"),
    ]


def test_a_second_acknowledgement_is_not_mapped() -> None:
    unit = map_incident(0, incident(
        entry("R1", "trigger_log_entry", "2024-05-01T09:00:00Z"),
        entry("R2", "acknowledge_log_entry", "2024-05-01T09:01:00Z"),
        entry("R3", "acknowledge_log_entry", "2024-05-01T09:31:00Z")), DIRECTORY)

    assert [r.kind for r in unit.requests] == ["open", "acknowledge"]
    assert unit.not_mapped == {"acknowledge_log_entry": 1}


def test_assignees_are_members_by_email_and_unknown_people_are_listed_never_invented() -> None:
    unit = map_incident(0, incident(
        entry("R1", "trigger_log_entry", "2024-05-01T09:00:00Z"),
        entry("R2", "assign_log_entry", "2024-05-01T09:01:00Z", assignees=[
            user("PGRACE1", "Grace"),  # her email from the file's users array
            user("PCASEY1", "Casey", email="casey@contractor.example"),
            user("PNOMAIL", "Pat"),
        ]),
        entry("R3", "assign_log_entry", "2024-05-01T09:02:00Z",
              assignees=[user("PGRACE1", "Grace")])), DIRECTORY)

    assigned = [r.body["responder_id"] for r in unit.requests if r.kind == "assign"]
    assert assigned == [GRACE]  # once, though assigned twice
    assert [(p.who, p.why) for p in unit.unknown_people] == [
        ("Casey <casey@contractor.example>",
         "no OpsLedger member has the email casey@contractor.example"),
        ("Pat", "PagerDuty user PNOMAIL has no email in the file (add the users array of "
                "GET /users)"),
    ]


def test_the_team_given_wins_over_the_pagerduty_teams_name() -> None:
    unit = map_incident(0, incident(*LIFECYCLE), Directory(team_id=OTHER_TEAM))

    assert unit.requests[0].body["team_id"] == OTHER_TEAM


def test_the_team_is_matched_by_name_whatever_its_case_and_spacing() -> None:
    teams = [{"id": "PX", "type": "team", "name": "  payments   SRE "}]

    unit = map_incident(0, incident(*LIFECYCLE, teams=teams), DIRECTORY)

    assert unit.requests[0].body["team_id"] == TEAM


@pytest.mark.parametrize(("teams", "directory", "reason"), [
    ([{"summary": "Databases"}], DIRECTORY,
     "no OpsLedger team is named 'Databases': form it, or pass --team-id"),
    ([], DIRECTORY, "it names no PagerDuty team: pass --team-id"),
    ([{"summary": "Payments SRE"}], Directory(teams_by_name={"payments sre": [TEAM, OTHER_TEAM]}),
     "2 OpsLedger teams are named 'Payments SRE': pass --team-id"),
])
def test_an_incident_without_its_team_is_refused_with_why(
        teams: list[Any], directory: Directory, reason: str) -> None:
    unit = map_incident(3, incident(*LIFECYCLE, teams=teams), directory)

    assert (unit.where, unit.refusal, unit.requests) == ("incident PT4KHLK (#1234)", reason, [])


@pytest.mark.parametrize(("fields", "severity"), [
    ({"priority": {"summary": "P1"}}, "SEV1"),
    ({"priority": {"name": "P2", "summary": "P2"}}, "SEV2"),
    ({"priority": {"summary": "p3"}}, "SEV3"),
    ({"priority": {"summary": "P4"}}, "SEV4"),
    ({"priority": {"summary": "P5"}}, "SEV4"),
    ({"priority": {"summary": "SEV-1"}}, "SEV1"),
    ({"priority": {"summary": "Critical"}, "urgency": "low"}, "SEV3"),
    ({"urgency": "high"}, "SEV2"),
    ({"urgency": "low"}, "SEV3"),
])
def test_priority_or_else_urgency_is_the_severity(fields: dict[str, Any], severity: str) -> None:
    assert severity_of(fields) == severity


def test_without_priority_or_urgency_there_is_no_severity() -> None:
    with pytest.raises(Malformed, match="no priority"):
        severity_of({"urgency": "whenever"})


@pytest.mark.parametrize(("value", "where", "reason"), [
    ("not an incident", "incident #5 of the file", "not a JSON object"),
    ({"title": "no id"}, "incident #5 of the file", "no id"),
    (incident(log_entries=None), "incident PT4KHLK (#1234)", "no log_entries array"),
    (incident(entry("R1", "trigger_log_entry", "yesterday")), "incident PT4KHLK (#1234)",
     "log entry R1's created_at"),
    (incident(entry("R1", "trigger_log_entry", "2024-05-01T09:00:00Z"), service=None),
     "incident PT4KHLK (#1234)", "no service"),
    (incident({"type": "trigger_log_entry"}), "incident PT4KHLK (#1234)", "has no id"),
])
def test_a_malformed_incident_is_refused_naming_it(value: Any, where: str, reason: str) -> None:
    unit = map_incident(5, value, DIRECTORY)

    assert unit.where == where and unit.requests == []
    assert unit.refusal is not None and reason in unit.refusal


def test_without_a_trigger_entry_the_incident_opens_at_its_created_at() -> None:
    unit = map_incident(0, incident(), DIRECTORY)

    assert [(r.kind, r.body["occurred_at"], r.key) for r in unit.requests] == [
        ("open", "2024-05-01T09:00:00Z", "import:pagerduty:PT4KHLK:created")]


def test_an_export_is_the_incidents_array_with_the_users_emails() -> None:
    export = read_export('{"incidents": [{"id": "P1"}], "users": [{"id": "PU", '
                         '"email": " u@example.com "}, {"id": "PV"}]}')

    assert export.incidents == [{"id": "P1"}]
    assert export.emails_by_user == {"PU": "u@example.com"}
    assert read_export('[{"id": "P1"}]').incidents == [{"id": "P1"}]


@pytest.mark.parametrize(("text", "reason"), [
    ("{oops", "not JSON"),
    ('{"items": []}', 'no "incidents" array'),
    ('{"incidents": [], "users": {}}', '"users" is not an array'),
])
def test_a_file_that_is_no_export_is_refused_whole(text: str, reason: str) -> None:
    with pytest.raises(ExportError, match=reason):
        read_export(text)
