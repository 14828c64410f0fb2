"""As-of on both axes: how things stood at a business time E, as the ledger knew them
at a recording time T; and a team's roster in force at E (role changes by their
effective dates).

The auditor's story: a SEV1 incident opened at 14:00 (entered then), acknowledged on a
phone at 14:05 and entered at 14:30.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.envelope import EventEnvelope
from infra.projecting.replay import replay
from infra.read_store.sqlite import SQLiteReadStore
from projections import compliance_history
from projections.fold import Document
from projections.roster_at import team_at
from tests.unit.projections.builders import ADA, BOB, INCIDENT, TEAM, a_team, ev, joined, project


def the_story() -> list[EventEnvelope]:
    return [
        *a_team(),
        ev("incidents", "IncidentOpened", INCIDENT, 1, 10, "2026-11-23T14:00:00Z",
           team_id=TEAM, severity="SEV1", service="payments-api", summary="5xx spike"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 11, "2026-11-23T14:05:00Z",
           recorded_at="2026-11-23T14:30:00Z"),
        ev("incidents", "IncidentResolved", INCIDENT, 3, 12, "2026-11-23T15:00:00Z",
           summary="rolled back", root_cause="bad deploy"),
    ]


def incident_history() -> list[Document]:
    store = project(*the_story())
    return sorted((r for r in store.all("compliance_history") if r["entity_id"] == INCIDENT),
                  key=lambda r: r["version"])


def test_at_1410_as_known_at_1420_unacknowledged_as_known_now_acknowledged_at_1405() -> None:
    records = incident_history()

    then = compliance_history.state_as_of(records, "2026-11-23T14:20:00Z",
                                          "2026-11-23T14:10:00Z")
    now = compliance_history.state_as_of(records, "2026-12-01T00:00:00Z",
                                         "2026-11-23T14:10:00Z")

    assert then is not None and now is not None
    assert (then["version"], then["state"]["status"]) == (1, "open")
    assert then["state"]["acknowledged_at"] is None
    assert (now["version"], now["state"]["status"]) == (2, "acknowledged")
    assert now["state"]["acknowledged_at"] == "2026-11-23T14:05:00Z"


def test_effective_at_excludes_changes_that_happened_later_though_already_known() -> None:
    records = incident_history()

    at_1500 = compliance_history.state_as_of(records, "2026-12-01T00:00:00Z",
                                             "2026-11-23T15:00:00Z")
    before = compliance_history.state_as_of(records, "2026-12-01T00:00:00Z",
                                            "2026-11-23T13:59:59+00:00")

    assert at_1500 is not None and at_1500["state"]["status"] == "resolved"
    assert before is None  # it had not begun


def test_without_effective_at_as_of_keeps_its_meaning() -> None:
    records = incident_history()

    known = compliance_history.state_as_of(records, "2026-11-23T14:20:00Z")

    assert known is not None and known["version"] == 1


# -- the roster in force at a business time ----------------------------------------------

CAROL = "member-carol"


def role_change(member_id: str, role: str, version: int, position: int, time: str,
                effective_date: str) -> Any:
    return ev("teams", "RoleAssigned", TEAM, version, position, time, member_id=member_id,
              role=role, previous_role="engineer", responsibilities=[role],
              effective_date=effective_date, reason="reorg")


def roster_at(effective_at: str, *later: Any) -> dict[str, Any] | None:
    """The roster (member id: role, active) at ``effective_at`` of the SRE team (formed
    2 Nov with Ada and Bob, engineers) after ``later`` events."""
    store = project(*a_team(), *later)
    history = sorted((r for r in store.all("compliance_history") if r["entity_id"] == TEAM),
                     key=lambda r: r["version"])
    audit = sorted((r for r in store.all("audit_trail") if r["entity_id"] == TEAM),
                   key=lambda r: r["position"])
    team = team_at(history, audit, effective_at)
    if team is None:
        return None
    return {e["member_id"]: (e["role"], e["active"]) for e in team["roster"]}


def test_a_role_change_recorded_on_the_20th_effective_the_3rd_counts_from_the_3rd() -> None:
    change = role_change(ADA, "lead", 4, 4, "2026-11-20T10:00:00Z", "2026-11-03")

    assert roster_at("2026-11-10T12:00:00Z", change) == {
        ADA: ("lead", True), BOB: ("engineer", True)}
    assert roster_at("2026-11-02T23:59:59Z", change) == {
        ADA: ("engineer", True), BOB: ("engineer", True)}


def test_a_role_change_effective_later_does_not_hold_before_then() -> None:
    change = role_change(ADA, "lead", 4, 4, "2026-11-05T10:00:00Z", "2026-11-30")

    assert roster_at("2026-11-10T12:00:00Z", change) == {
        ADA: ("engineer", True), BOB: ("engineer", True)}
    assert roster_at("2026-11-30T00:00:00Z", change)[ADA] == ("lead", True)  # type: ignore[index]


def test_a_role_change_effective_the_day_it_happened_counts_from_when_it_happened() -> None:
    change = role_change(ADA, "lead", 4, 4, "2026-11-20T15:00:00Z", "2026-11-20")

    assert roster_at("2026-11-20T10:00:00Z", change)[ADA] == ("engineer", True)  # type: ignore[index]
    assert roster_at("2026-11-20T15:00:00Z", change)[ADA] == ("lead", True)  # type: ignore[index]


def test_a_role_change_effective_before_the_member_joined_counts_from_the_join() -> None:
    change = role_change(BOB, "lead", 4, 4, "2026-11-20T10:00:00Z", "2026-10-01")

    assert roster_at("2026-11-02T09:10:00Z", change)[BOB] == ("lead", True)  # type: ignore[index]


def test_who_was_on_the_roster_follows_when_they_joined_and_left() -> None:
    later = [
        ev("teams", "MemberLeft", TEAM, 4, 4, "2026-11-05T09:00:00Z", member_id=BOB,
           reason="left the company"),
        joined(CAROL, "Carol", "carol@example.com", "engineer", 5, 5, "2026-11-12T09:00:00Z"),
    ]

    assert roster_at("2026-11-10T12:00:00Z", *later) == {
        ADA: ("engineer", True), BOB: ("engineer", False)}
    assert roster_at("2026-11-01T12:00:00Z", *later) is None  # not formed yet


# -- replay on both axes -----------------------------------------------------------------


def test_replay_effective_at_rebuilds_what_had_happened_by_then_as_known_at_as_of(
    tmp_path: Path,
) -> None:
    def status(name: str, **when: str) -> str:
        target = SQLiteReadStore(tmp_path / f"{name}.sqlite")
        replay(the_story(), target, **when)
        found = target.get("incidents", INCIDENT)
        target.close()
        return str(found["status"]) if found else "unknown"

    assert status("then", as_of="2026-11-23T14:20:00.000000Z",
                  effective_at="2026-11-23T14:10:00Z") == "open"
    assert status("now", effective_at="2026-11-23T14:10:00Z") == "acknowledged"
    assert status("before", effective_at="2026-11-23T13:00:00+00:00") == "unknown"
