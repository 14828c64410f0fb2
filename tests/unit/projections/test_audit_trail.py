"""The audit trail: one record per event, who, what, when, why, on which entity."""

from __future__ import annotations

from domain.envelope import event_id
from tests.unit.projections.builders import (
    ADA,
    FEEDBACK,
    GOAL,
    INCIDENT,
    TEAM,
    a_team,
    ev,
    project,
)


def test_every_event_gets_one_record_keyed_by_its_id() -> None:
    role_assigned = ev(
        "teams", "RoleAssigned", TEAM, 4, 4, "2026-11-03T10:00:00Z", actor="user:carol",
        member_id=ADA, role="lead", previous_role="engineer", responsibilities=[],
        effective_date="2026-11-03", reason="promotion",
    )
    store = project(*a_team(), role_assigned)

    records = store.all("audit_trail")
    assert len(records) == 4
    assert store.get("audit_trail", event_id(TEAM, 4)) == {
        "id": event_id(TEAM, 4), "position": 4, "time": "2026-11-03T10:00:00Z",
        "recorded_at": "2026-11-03T10:00:00Z", "import_run_id": None,
        "recorded_late": False, "actor": "user:carol",
        "type": "opsledger.teams.RoleAssigned.v1",
        "name": "RoleAssigned", "context": "teams", "entity_id": TEAM, "team_id": TEAM,
        "entity_version": 4,
        "reason": "promotion", "data": dict(role_assigned.data), "correlation_id": "corr-4",
        "causation_id": "cause-4", "prev_hash": None, "hash": None,
    }


def test_an_event_without_a_reason_is_recorded_with_none() -> None:
    store = project(a_team()[0])

    assert store.get("audit_trail", event_id(TEAM, 1))["reason"] is None  # type: ignore[index]


def test_unknown_events_are_audited_too_but_private_ones_are_not() -> None:
    store = project(
        ev("teams", "SomethingNew", TEAM, 1, 1, "2026-11-02T09:00:00Z"),
        ev("", "Recorded", "idempotency-1", 1, 2, "2026-11-02T09:00:00Z"),
    )

    assert [r["name"] for r in store.all("audit_trail")] == ["SomethingNew"]


def team_ids(store: object, entity_id: str) -> list[object]:
    return [r["team_id"] for r in store.all("audit_trail")  # type: ignore[attr-defined]
            if r["entity_id"] == entity_id]


def test_a_teams_event_belongs_to_the_team_it_is_on() -> None:
    other = "team-2"
    store = project(
        *a_team(),
        ev("teams", "TeamFormed", other, 1, 4, "2026-11-02T11:00:00Z", name="DBA"),
        ev("teams", "MemberMovedOut", TEAM, 4, 5, "2026-11-02T12:00:00Z",
           member_id=ADA, to_team_id=other, reason="reorg"),
        ev("teams", "MemberMovedIn", other, 2, 6, "2026-11-02T12:00:00Z",
           member_id=ADA, from_team_id=TEAM, reason="reorg"),
    )

    assert team_ids(store, TEAM) == [TEAM] * 4
    assert team_ids(store, other) == [other] * 2


def test_every_event_of_a_goal_incident_or_feedback_item_belongs_to_its_creators_team() -> None:
    store = project(
        *a_team(),
        ev("goals", "GoalSet", GOAL, 1, 10, "2026-11-02T10:00:00Z", team_id=TEAM,
           owner_id=ADA, title="Faster", metric="p99", baseline=10.0, target=5.0, unit="ms",
           deadline="2026-12-31"),
        ev("goals", "ProgressCheckedIn", GOAL, 2, 11, "2026-11-03T10:00:00Z", value=8.0),
        ev("incidents", "IncidentOpened", INCIDENT, 1, 12, "2026-11-23T14:00:00Z",
           team_id=TEAM, severity="SEV2", service="api", summary="5xx"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 13, "2026-11-23T14:03:00Z"),
        ev("feedback", "CustomerFeedbackReceived", FEEDBACK, 1, 14, "2026-11-24T09:00:00Z",
           team_id=TEAM, text="Great", score=9, channel="email"),
        ev("feedback", "FeedbackTriaged", FEEDBACK, 2, 15, "2026-11-24T10:00:00Z",
           priority="low", owner_id=ADA),
    )

    for entity in (GOAL, INCIDENT, FEEDBACK):
        assert team_ids(store, entity) == [TEAM, TEAM], entity


def test_a_later_event_finds_its_team_across_batches() -> None:
    store = project(ev("incidents", "IncidentOpened", INCIDENT, 1, 12, "2026-11-23T14:00:00Z",
                       team_id=TEAM, severity="SEV2", service="api", summary="5xx"))
    store.apply([ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 13,
                    "2026-11-23T14:03:00Z")])

    assert team_ids(store, INCIDENT) == [TEAM, TEAM]


def test_events_of_no_team_have_no_team_id() -> None:
    store = project(ev("access", "TokenIssued", "token-1", 1, 1, "2026-11-02T09:00:00Z",
                       principal="user:ann", roles=["lead"], teams=[TEAM]))

    assert team_ids(store, "token-1") == [None]
