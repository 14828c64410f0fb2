"""The ``backdated_entry`` control, as fold specifications: given these events (folded
into the audit trail), then these findings. An event recorded more than the tolerance
after it happened, outside an import run, is an open finding with both times and the
actor as evidence; inside a run, or within the tolerance, nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain.envelope import EventEnvelope
from projections.compliance_controls import Thresholds, evaluate
from tests.unit.projections.builders import ev, project

TEAM = "00000000-0000-4000-8000-00000000000a"
RUN = "00000000-0000-4000-8000-0000000000f1"
NOW = "2025-03-03T18:00:00.000000Z"


def formed(occurred: str, recorded: str, run: str = "") -> EventEnvelope:
    event = ev("teams", "TeamFormed", TEAM, 1, 1, occurred, actor="user:lena",
               recorded_at=recorded, name="SRE")
    return replace(event, import_run_id=run)


def findings(*events: EventEnvelope, tolerance: int = 60) -> list[dict[str, Any]]:
    """Every finding, given ``events``: the route hands the control the audit records
    marked late, as it queries them."""
    late = [r for r in project(*events).all("audit_trail") if r.get("recorded_late")]
    return evaluate([], [], [], [], NOW, Thresholds(backdate_tolerance_minutes=tolerance),
                    late_records=late)


def test_an_entry_recorded_more_than_an_hour_late_is_an_open_finding() -> None:
    event = formed("2025-03-03T14:05:00.000000Z", "2025-03-03T15:35:00.000000Z")

    [finding] = findings(event)

    assert finding == {
        "id": f"backdated_entry:{TEAM}:{event.id}", "control": "backdated_entry",
        "subject_id": TEAM, "team_id": TEAM, "status": "open",
        "opened_at": "2025-03-03T15:35:00.000000Z", "resolved_at": None,
        "summary": finding["summary"], "evidence_event_ids": [event.id], "severity": None,
        "breached_by_seconds": 30 * 60.0,
        "occurred_at": "2025-03-03T14:05:00.000000Z",
        "recorded_at": "2025-03-03T15:35:00.000000Z", "actor": "user:lena",
    }
    assert "user:lena" in finding["summary"] and "90 min later" in finding["summary"]


def test_an_entry_within_the_tolerance_is_fine() -> None:
    assert findings(formed("2025-03-03T14:05:00.000000Z", "2025-03-03T15:05:00.000000Z")) == []


def test_an_entry_in_an_import_run_is_never_a_finding() -> None:
    event = formed("2024-11-04T09:00:00.000000Z", "2025-03-03T15:35:00.000000Z", run=RUN)

    [record] = project(event).all("audit_trail")

    assert (record["import_run_id"], record["recorded_late"]) == (RUN, False)
    assert findings(event) == []


def test_an_entry_on_time_is_not_marked_late_in_the_audit_trail() -> None:
    event = formed("2025-03-03T14:05:00.000000Z", "2025-03-03T14:05:00.000000Z")

    [record] = project(event).all("audit_trail")

    assert (record["import_run_id"], record["recorded_late"]) == (None, False)


def test_the_tolerance_is_configurable() -> None:
    event = formed("2025-03-03T14:05:00.000000Z", "2025-03-03T14:20:00.000000Z")
    assert findings(event) == []
    assert [f["control"] for f in findings(event, tolerance=10)] == ["backdated_entry"]
