"""Compliance history: every version of every entity, and its state as of a time."""

from __future__ import annotations

import pytest

from projections import compliance_history
from projections.compliance_history import HistoryGapError, record_id, state_as_of
from projections.engine import fold_events
from projections.fold import Document
from tests.unit.projections.builders import INCIDENT, TEAM, Store, a_team, ev, project


def incident_events() -> list:
    return [
        ev("incidents", "IncidentOpened", INCIDENT, 1, 20, "2026-11-23T14:00:00Z",
           team_id=TEAM, severity="SEV2", service="payments-api", summary="5xx"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 21, "2026-11-23T14:03:00Z",
           actor="user:ada"),
        ev("incidents", "IncidentEscalated", INCIDENT, 3, 22, "2026-11-23T14:10:00Z",
           from_severity="SEV2", to_severity="SEV1", reason="all regions"),
    ]


def history(store: Store, entity_id: str) -> list[Document]:
    return [r for r in store.all("compliance_history") if r["entity_id"] == entity_id]


def test_every_version_is_recorded_with_its_state_and_event() -> None:
    store = project(*incident_events())

    records = history(store, INCIDENT)
    assert [r["id"] for r in records] == [record_id(INCIDENT, v) for v in (1, 2, 3)]
    assert record_id(INCIDENT, 2) == f"{INCIDENT}:0000000002"
    second = records[1]
    assert {k: second[k] for k in (
        "entity_id", "context", "version", "position", "time", "event_type", "event_name",
        "actor",
    )} == {
        "entity_id": INCIDENT, "context": "incidents", "version": 2, "position": 21,
        "time": "2026-11-23T14:03:00Z", "event_type": "opsledger.incidents.IncidentAcknowledged.v1",
        "event_name": "IncidentAcknowledged", "actor": "user:ada",
    }
    assert second["event_id"] == incident_events()[1].id
    assert [(r["state"]["status"], r["state"]["severity"]) for r in records] == [
        ("open", "SEV2"), ("acknowledged", "SEV2"), ("acknowledged", "SEV1"),
    ]
    # each state is the entity view's document at that version
    assert records[-1]["state"] == store.get("incidents", INCIDENT)


def test_history_continues_across_batches_from_the_stored_previous_version() -> None:
    events = incident_events()
    store = project(*events[:1])
    store.apply(events[1:])

    assert store.docs == project(*events).docs


def test_an_event_the_views_do_not_know_still_gets_a_version_with_the_same_state() -> None:
    store = project(*a_team(), ev("teams", "MemberMoved", TEAM, 4, 4, "2026-11-05T10:00:00Z"))

    records = history(store, TEAM)
    assert [r["version"] for r in records] == [1, 2, 3, 4]
    assert records[3]["event_name"] == "MemberMoved"
    assert records[3]["state"]["roster"] == records[2]["state"]["roster"]


def test_a_missing_previous_version_stops_the_projection() -> None:
    with pytest.raises(HistoryGapError):
        fold_events(incident_events()[1:], [compliance_history.FOLD], read=lambda c, i: None)


def test_state_as_of_is_the_latest_version_made_at_or_before_that_time() -> None:
    records = history(project(*incident_events()), INCIDENT)

    assert state_as_of(records, "2026-11-23T13:59:59Z") is None
    assert state_as_of(records, "2026-11-23T14:00:00Z")["version"] == 1  # type: ignore[index]
    as_of_1405 = state_as_of(records, "2026-11-23T14:05:00Z")
    assert as_of_1405 is not None
    assert (as_of_1405["version"], as_of_1405["state"]["status"]) == (2, "acknowledged")
    # offsets and fractions compare as moments, not as strings
    assert state_as_of(records, "2026-11-23T15:09:59.5+01:00")["version"] == 2  # type: ignore[index]
    assert state_as_of(records, "2026-12-01T00:00:00Z")["version"] == 3  # type: ignore[index]


def test_every_history_record_carries_its_entitys_team() -> None:
    store = project(*a_team(), *incident_events())

    assert {r["team_id"] for r in history(store, INCIDENT)} == {TEAM}
    assert {r["team_id"] for r in history(store, TEAM)} == {TEAM}


def test_the_team_of_a_later_version_comes_from_the_stored_previous_record() -> None:
    events = incident_events()
    store = project(*events[:1])
    del store.docs[("incidents", INCIDENT)]["team_id"]  # not from the entity view
    store.apply(events[1:])

    assert [r["team_id"] for r in history(store, INCIDENT)] == [TEAM, TEAM, TEAM]
