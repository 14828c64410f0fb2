"""How long each stage of an incident took, as fold specifications: given these events,
then these durations (seconds, never negative) on the incident document.

The story: the impact began at 13:40, the incident was opened at 14:00, acknowledged at
14:05, mitigated at 14:30 and resolved at 15:00.
"""

from __future__ import annotations

from typing import Any

from domain.envelope import EventEnvelope
from tests.unit.projections.builders import INCIDENT, TEAM, a_team, ev, project

ORIGINAL = "00000000-0000-4000-8000-0000000000f2"
TIMES = ("time_to_detect_seconds", "time_to_acknowledge_seconds",
         "time_to_mitigate_seconds", "time_to_resolve_seconds")


def opened(subject: str = INCIDENT, position: int = 10, at: str = "14:00") -> EventEnvelope:
    return ev("incidents", "IncidentOpened", subject, 1, position, f"2026-11-23T{at}:00Z",
              team_id=TEAM, severity="SEV2", service="payments-api", summary="5xx")


def step(name: str, version: int, at: str, **data: Any) -> EventEnvelope:
    return ev("incidents", name, INCIDENT, version, 10 + version, f"2026-11-23T{at}:00Z",
              **data)


def impact(version: int, started: str = "13:40", at: str = "14:10") -> EventEnvelope:
    return step("ImpactStartRecorded", version, at,
                started_at=f"2026-11-23T{started}:00.000000Z", reason="dashboards")


def times(*events: EventEnvelope) -> dict[str, Any]:
    doc = project(*a_team(), *events).get("incidents", INCIDENT)
    assert doc is not None
    return {key: doc[key] for key in (*TIMES, "mtta_seconds", "mttr_seconds")}


def test_each_stage_is_timed_from_the_impact_start_when_it_is_known() -> None:
    assert times(
        opened(), step("IncidentAcknowledged", 2, "14:05"), impact(3),
        step("IncidentMitigated", 4, "14:30", summary="rolled back"),
        step("IncidentResolved", 5, "15:00", summary="fixed", root_cause="deploy"),
    ) == {
        "time_to_detect_seconds": 1200.0, "time_to_acknowledge_seconds": 1500.0,
        "time_to_mitigate_seconds": 3000.0, "time_to_resolve_seconds": 4800.0,
        # MTTA and MTTR keep running from the opening
        "mtta_seconds": 300.0, "mttr_seconds": 3600.0,
    }


def test_without_an_impact_start_each_stage_is_timed_from_the_opening() -> None:
    assert times(
        opened(), step("IncidentAcknowledged", 2, "14:05"),
        step("IncidentResolved", 3, "15:00", summary="fixed", root_cause=""),
    ) == {
        "time_to_detect_seconds": None, "time_to_acknowledge_seconds": 300.0,
        "time_to_mitigate_seconds": None, "time_to_resolve_seconds": 3600.0,
        "mtta_seconds": 300.0, "mttr_seconds": 3600.0,
    }


def test_an_impact_start_learnt_after_the_resolution_retimes_every_stage() -> None:
    found = times(
        opened(), step("IncidentAcknowledged", 2, "14:05"),
        step("IncidentResolved", 3, "15:00", summary="fixed", root_cause=""),
        impact(4, started="13:00", at="16:00"),
    )

    assert (found["time_to_detect_seconds"], found["time_to_acknowledge_seconds"],
            found["time_to_resolve_seconds"]) == (3600.0, 3900.0, 7200.0)


def test_no_duration_is_negative_even_for_events_out_of_business_order() -> None:
    # Stored before the ledger checked the order: an impact "after" the opening and
    # an acknowledgement "before" it (the server clock stepped back).
    found = times(opened(), impact(2, started="14:20"), step("IncidentAcknowledged", 3, "13:50"))

    assert all(value is None or value >= 0 for value in found.values())


def test_a_reopened_incident_is_timed_to_its_last_resolution() -> None:
    store = project(
        *a_team(), opened(), step("IncidentAcknowledged", 2, "14:05"),
        step("IncidentResolved", 3, "14:30", summary="fixed", root_cause=""),
        step("IncidentReopened", 4, "14:45", reason="errors are back"),
    )
    reopened = store.get("incidents", INCIDENT)
    assert reopened is not None
    assert (reopened["status"], reopened["resolved_at"], reopened["time_to_resolve_seconds"],
            reopened["mttr_seconds"]) == ("open", None, None, None)
    assert reopened["timeline"][-1]["details"] == {"reason": "errors are back"}

    store.apply([
        step("IncidentAcknowledged", 5, "14:50"),
        step("IncidentResolved", 6, "16:00", summary="for good", root_cause="deploy"),
    ])
    again = store.get("incidents", INCIDENT)
    assert again is not None
    assert (again["status"], again["acknowledged_at"], again["time_to_acknowledge_seconds"],
            again["time_to_resolve_seconds"]) == (
        "resolved", "2026-11-23T14:05:00Z", 300.0, 7200.0)


def test_a_duplicate_is_closed_and_names_its_original() -> None:
    store = project(
        *a_team(), opened(ORIGINAL, 5, "13:55"), opened(),
        step("IncidentMarkedDuplicate", 2, "14:03", of_incident_id=ORIGINAL, reason="same"),
    )
    duplicate, original = store.get("incidents", INCIDENT), store.get("incidents", ORIGINAL)

    assert duplicate is not None and original is not None
    assert (duplicate["status"], duplicate["closed_at"], duplicate["duplicate_of"]) == (
        "closed", "2026-11-23T14:03:00Z", ORIGINAL)
    assert original["duplicate_of"] is None
    assert original["version"] == 1  # the duplicate's stream does not touch it


def test_the_impact_start_is_on_the_document_and_its_timeline() -> None:
    doc = project(*a_team(), opened(), impact(2)).get("incidents", INCIDENT)

    assert doc is not None
    assert doc["impact_started_at"] == "2026-11-23T13:40:00.000000Z"
    assert doc["timeline"][-1]["details"] == {
        "started_at": "2026-11-23T13:40:00.000000Z", "reason": "dashboards"}
