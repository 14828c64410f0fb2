"""The ``action_item_overdue`` control, as specifications: given an incident's action
items and their follow-ups, and this clock, then these findings."""

from __future__ import annotations

from typing import Any

from domain.incidents.action_items import postmortem_item_id
from projections.compliance_controls import Thresholds, evaluate
from tests.unit.projections.builders import ADA, INCIDENT, project, reviewed_incident

CANARY = postmortem_item_id(INCIDENT, 1)
ID = f"action_item_overdue:{INCIDENT}:{CANARY}"
DAY = 86_400.0


def overdue(now: str, *follow_ups: tuple[str, str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings at ``now`` of an incident reviewed on 2026-11-30 with one item (Ada's
    canary, due 2026-12-01, so overdue from 2026-12-02T00:00Z), then ``follow_ups``
    of that item."""
    canary = {"title": "Add a canary", "owner_id": ADA, "due": "2026-12-01"}
    events = reviewed_incident(
        [canary], *((name, time, {"item_id": CANARY, **data}) for name, time, data in follow_ups))
    doc = project(*events).get("incidents", INCIDENT)
    assert doc is not None
    found = evaluate([doc], [], [], [], now, Thresholds())
    for finding in found:
        finding["_events"] = [e.id for e in events]
    return [f for f in found if f["control"] == "action_item_overdue"]


def completed(time: str) -> tuple[str, str, dict[str, Any]]:
    return ("ActionItemCompleted", time, {"note": "canary live", "link": None})


def moved(time: str, from_due: str, due: str) -> tuple[str, str, dict[str, Any]]:
    return ("ActionItemRescheduled", time, {"from_due": from_due, "due": due,
                                            "reason": "vendor late"})


def test_an_item_completed_in_time_makes_no_finding() -> None:
    assert overdue("2026-12-20T09:00:00Z", completed("2026-12-01T18:00:00Z")) == []


def test_an_open_item_past_its_due_date_is_open_and_its_lateness_not_yet_known() -> None:
    [finding] = overdue("2026-12-03T00:00:00Z")

    assert {k: finding[k] for k in ("id", "status", "opened_at", "resolved_at",
                                    "breached_by_seconds", "item_id")} == {
        "id": ID, "status": "open", "opened_at": "2026-12-02T00:00:00Z", "resolved_at": None,
        "breached_by_seconds": None, "item_id": CANARY}
    assert "still open" in finding["summary"]


def test_completing_a_late_item_resolves_the_finding_with_its_lateness() -> None:
    [finding] = overdue("2026-12-20T09:00:00Z", completed("2026-12-04T12:00:00Z"))

    assert {k: finding[k] for k in ("id", "status", "resolved_at", "breached_by_seconds")} == {
        "id": ID, "status": "resolved", "resolved_at": "2026-12-04T12:00:00Z",
        "breached_by_seconds": 2.5 * DAY}
    events = finding["_events"]
    assert finding["evidence_event_ids"] == [events[3], events[4]]
    assert "completed on 2026-12-04" in finding["summary"]


def test_cancelling_a_late_item_resolves_the_finding_too() -> None:
    [finding] = overdue("2026-12-20T09:00:00Z",
                        ("ActionItemCancelled", "2026-12-03T00:00:00Z", {"reason": "moot"}))

    assert (finding["status"], finding["resolved_at"], finding["breached_by_seconds"]) == (
        "resolved", "2026-12-03T00:00:00Z", DAY)
    assert "cancelled on 2026-12-03" in finding["summary"]


def test_a_cancelled_item_that_was_not_late_makes_no_finding() -> None:
    assert overdue("2026-12-20T09:00:00Z",
                   ("ActionItemCancelled", "2026-12-01T09:00:00Z", {"reason": "moot"})) == []


def test_a_due_date_moved_before_it_passed_is_fine() -> None:
    follow_ups = (moved("2026-12-01T09:00:00Z", "2026-12-01", "2026-12-10"),)

    assert overdue("2026-12-09T09:00:00Z", *follow_ups) == []
    assert overdue("2026-12-10T23:00:00Z", *follow_ups,
                   completed("2026-12-10T22:00:00Z")) == []
    [late] = overdue("2026-12-12T00:00:00Z", *follow_ups)
    assert (late["opened_at"], late["status"], late["late_due_changes"]) == (
        "2026-12-11T00:00:00Z", "open", [])


def test_a_due_date_moved_after_it_passed_is_evidence_not_a_reset() -> None:
    follow_ups = (moved("2026-12-05T09:00:00Z", "2026-12-01", "2026-12-31"),)

    [still] = overdue("2026-12-06T00:00:00Z", *follow_ups)
    [late] = overdue("2027-01-10T00:00:00Z", *follow_ups, completed("2026-12-20T00:00:00Z"))

    events = still["_events"]
    assert (still["id"], still["status"], still["opened_at"]) == (
        ID, "open", "2026-12-02T00:00:00Z")
    assert still["evidence_event_ids"] == [events[3], events[4]]
    assert still["late_due_changes"] == [{
        "event_id": events[4], "from_due": "2026-12-01", "due": "2026-12-31",
        "at": "2026-12-05T09:00:00Z", "reason": "vendor late", "actor": "user:alice"}]
    assert "moved from 2026-12-01 to 2026-12-31 on 2026-12-05" in still["summary"]
    assert events[4] in still["summary"]
    assert (late["status"], late["resolved_at"], late["breached_by_seconds"]) == (
        "resolved", "2026-12-20T00:00:00Z", 18 * DAY)
    assert late["evidence_event_ids"] == late["_events"][3:6]


def test_a_later_move_after_the_breach_is_evidence_but_an_earlier_one_is_not() -> None:
    [finding] = overdue(
        "2026-12-30T00:00:00Z",
        moved("2026-11-30T12:00:00Z", "2026-12-01", "2026-12-03"),
        moved("2026-12-10T12:00:00Z", "2026-12-03", "2026-12-24"),
    )

    assert finding["opened_at"] == "2026-12-04T00:00:00Z"
    assert [c["due"] for c in finding["late_due_changes"]] == ["2026-12-24"]
