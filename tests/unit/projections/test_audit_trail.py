"""The audit trail: one record per event, who, what, when, why, on which entity."""

from __future__ import annotations

from domain.envelope import event_id
from tests.unit.projections.builders import ADA, TEAM, a_team, ev, project


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
        "actor": "user:carol", "type": "opsledger.teams.RoleAssigned.v1",
        "name": "RoleAssigned", "context": "teams", "entity_id": TEAM, "entity_version": 4,
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
