"""Every read model, metric and control uses when things happened (``occurred_at``);
"as known at" reads use when they were recorded. Given events entered late, then
these documents.

The story: a SEV1 incident opened at 14:00 and acknowledged on a phone at 14:05,
both entered at 14:30; resolved at 15:00 (recorded then).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.projecting.replay import replay
from infra.read_store.sqlite import SQLiteReadStore
from projections import compliance_history
from projections.compliance_controls import Thresholds, evaluate
from projections.team_metrics import team_metrics
from tests.unit.projections.builders import INCIDENT, TEAM, a_team, ev, project

ENTERED = "2026-11-23T14:30:00Z"


def the_story() -> list[Any]:
    return [
        *a_team(),
        ev("incidents", "IncidentOpened", INCIDENT, 1, 10, "2026-11-23T14:00:00Z",
           recorded_at=ENTERED, team_id=TEAM, severity="SEV1", service="payments-api",
           summary="5xx spike"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 11, "2026-11-23T14:05:00Z",
           recorded_at=ENTERED),
        ev("incidents", "IncidentResolved", INCIDENT, 3, 12, "2026-11-23T15:00:00Z",
           summary="rolled back", root_cause="bad deploy"),
    ]


def test_the_incident_view_says_when_things_happened() -> None:
    incident = project(*the_story()).get("incidents", INCIDENT)

    assert incident is not None
    assert (incident["opened_at"], incident["acknowledged_at"], incident["resolved_at"]) == (
        "2026-11-23T14:00:00Z", "2026-11-23T14:05:00Z", "2026-11-23T15:00:00Z")
    assert (incident["mtta_seconds"], incident["mttr_seconds"]) == (300.0, 3600.0)
    assert [m["at"] for m in incident["timeline"]] == [
        "2026-11-23T14:00:00Z", "2026-11-23T14:05:00Z", "2026-11-23T15:00:00Z"]


def test_the_sla_control_judges_the_acknowledgement_when_it_happened() -> None:
    incident = project(*the_story()).get("incidents", INCIDENT)

    found = evaluate([incident], [], [], [], "2026-11-23T16:00:00Z", Thresholds())  # type: ignore[list-item]

    assert [f for f in found if f["control"] == "ack_sla"] == []  # 5 min, not 30


def test_metrics_count_things_in_the_period_they_happened() -> None:
    late = [
        *a_team(),
        ev("incidents", "IncidentOpened", INCIDENT, 1, 10, "2026-11-22T23:50:00Z",  # W47
           recorded_at="2026-11-23T08:00:00Z", team_id=TEAM, severity="SEV2",  # W48
           service="payments-api", summary="5xx"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 11, "2026-11-22T23:55:00Z",
           recorded_at="2026-11-23T08:00:00Z"),
    ]
    incident = project(*late).get("incidents", INCIDENT)

    rows = team_metrics([incident], [], [], "week")  # type: ignore[list-item]

    assert [(r["period"], r["incidents_opened"], r["mtta_seconds"]) for r in rows] == [
        ("2026-W47", 1, 300.0)]


def test_timeline_entries_are_dated_when_it_happened() -> None:
    store = project(*the_story())

    team_entries = sorted((d for d in store.all("timeline") if d["owner"] == f"team:{TEAM}"),
                          key=lambda d: d["position"])
    assert [(d["kind"], d["time"]) for d in team_entries][-2:] == [
        ("incident_opened", "2026-11-23T14:00:00Z"),
        ("incident_resolved", "2026-11-23T15:00:00Z"),
    ]


def test_the_audit_trail_shows_both_times() -> None:
    store = project(*the_story())
    acknowledged = the_story()[4]

    record = store.get("audit_trail", acknowledged.id)

    assert record is not None
    assert (record["time"], record["recorded_at"]) == ("2026-11-23T14:05:00Z", ENTERED)


def test_history_says_when_it_happened_and_as_of_reads_what_was_known_then() -> None:
    """At 14:20 the ledger did not know of the incident yet; at 14:31 it knew it was
    acknowledged at 14:05."""
    store = project(*the_story())
    records = sorted((r for r in store.all("compliance_history") if r["entity_id"] == INCIDENT),
                     key=lambda r: r["version"])

    assert [(r["version"], r["time"], r["recorded_at"]) for r in records] == [
        (1, "2026-11-23T14:00:00Z", ENTERED), (2, "2026-11-23T14:05:00Z", ENTERED),
        (3, "2026-11-23T15:00:00Z", "2026-11-23T15:00:00Z")]
    assert compliance_history.state_as_of(records, "2026-11-23T14:20:00Z") is None
    known = compliance_history.state_as_of(records, "2026-11-23T14:31:00Z")
    assert known is not None
    assert (known["version"], known["state"]["acknowledged_at"]) == (2, "2026-11-23T14:05:00Z")


def test_history_folded_before_recorded_at_existed_is_known_by_its_time() -> None:
    records = [{"version": 1, "time": "2026-11-23T14:00:00Z"},
               {"version": 2, "time": "2026-11-23T14:10:00Z"}]

    known = compliance_history.state_as_of(records, "2026-11-23T14:05:00Z")

    assert known == records[0]


def test_replay_as_of_rebuilds_what_had_been_recorded_by_then(tmp_path: Path) -> None:
    target = SQLiteReadStore(tmp_path / "asof.sqlite")

    stats = replay(the_story(), target, as_of="2026-11-23T14:20:00.000000Z")

    assert stats.events == 3  # the team only: the incident was entered at 14:30
    assert target.get("incidents", INCIDENT) is None
    target.close()


def test_no_duration_is_negative_when_the_servers_clock_stepped_back() -> None:
    """Events stored before the order was checked carry the server's clock: an
    acknowledgement recorded a second "before" its opening is acknowledged at once."""
    stepped_back = [
        *a_team(),
        ev("incidents", "IncidentOpened", INCIDENT, 1, 10, "2026-11-23T14:00:01Z",
           team_id=TEAM, severity="SEV3", service="api", summary="5xx"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 11, "2026-11-23T14:00:00Z"),
        ev("incidents", "IncidentResolved", INCIDENT, 3, 12, "2026-11-23T14:00:00Z",
           summary="flap", root_cause=""),
    ]

    incident = project(*stepped_back).get("incidents", INCIDENT)

    assert incident is not None
    assert (incident["mtta_seconds"], incident["mttr_seconds"]) == (0.0, 0.0)
    rows = team_metrics([incident], [], [], "week")
    assert all((r["mtta_seconds"] or 0) >= 0 and (r["mttr_seconds"] or 0) >= 0 for r in rows)
