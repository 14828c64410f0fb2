"""A finding's lifecycle at read time: given what the controls found and the decisions
on it, then its state, its decision and every decision, as of a moment."""

from __future__ import annotations

from typing import Any

import pytest

from projections.compliance_controls import Finding
from projections.finding_lifecycle import apply_decisions, lifecycle
from projections.fold import Document
from projections.times import parse_time

FINDING_ID = "ack_sla:incident-1"


def finding(status: str = "open") -> Finding:
    return {"id": FINDING_ID, "control": "ack_sla", "subject_id": "incident-1",
            "team_id": "team-1", "status": status, "opened_at": "2026-11-01T10:15:00Z",
            "resolved_at": None if status == "open" else "2026-11-01T11:00:00Z"}


def decision(kind: str, at: str, until: str | None = None, by: str = "user:audrey") -> Document:
    return {"kind": kind, "by": by, "at": at, "recorded_at": at, "reason": f"{kind} because",
            "until": until, "event_id": f"event-{kind}-{at}"}


def decided(*decisions: Document) -> Document:
    return {"id": FINDING_ID, "decision": decisions[-1], "decisions": list(decisions)}


def at(moment: str, found: Finding, doc: Document | None) -> dict[str, Any]:
    return lifecycle(found, doc, parse_time(moment))


def test_a_finding_nothing_was_decided_on_is_open_or_resolved_as_found() -> None:
    assert at("2026-11-05T00:00:00Z", finding(), None) == {
        "state": "open", "decision": None, "decisions": []}
    assert at("2026-11-05T00:00:00Z", finding("resolved"), None)["state"] == "resolved"


def test_a_waiver_without_until_holds_for_good() -> None:
    doc = decided(decision("waived", "2026-11-02T09:00:00Z"))

    shown = at("2030-01-01T00:00:00Z", finding(), doc)

    assert shown["state"] == "waived"
    assert shown["decision"] == {**decision("waived", "2026-11-02T09:00:00Z"), "in_force": True}


def test_an_accepted_risk_holds_until_its_until_then_is_open_again_by_itself() -> None:
    doc = decided(decision("risk_accepted", "2026-11-02T09:00:00Z", "2026-12-01T00:00:00Z"))

    before = at("2026-11-30T23:59:59Z", finding(), doc)
    after = at("2026-12-01T00:00:00Z", finding(), doc)

    assert (before["state"], before["decision"]["in_force"]) == ("risk_accepted", True)
    assert (after["state"], after["decision"]["in_force"]) == ("open", False)
    assert after["decision"]["kind"] == "risk_accepted"  # still shown, lapsed


def test_a_waiver_past_its_until_is_open_again() -> None:
    doc = decided(decision("waived", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00+01:00"))

    assert at("2026-11-03T08:00:00Z", finding(), doc)["state"] == "open"
    assert at("2026-11-03T07:59:59Z", finding(), doc)["state"] == "waived"


def test_a_reopened_finding_is_open_with_every_decision_listed_oldest_first() -> None:
    doc = decided(decision("waived", "2026-11-02T09:00:00Z"),
                  decision("reopened", "2026-11-04T09:00:00Z", by="user:admin"))

    shown = at("2026-11-05T00:00:00Z", finding(), doc)

    assert shown["state"] == "open"
    assert [(d["kind"], d["by"], d["in_force"]) for d in shown["decisions"]] == [
        ("waived", "user:audrey", False), ("reopened", "user:admin", False)]
    assert shown["decision"]["kind"] == "reopened"


def test_a_resolved_finding_stays_resolved_whatever_was_decided() -> None:
    doc = decided(decision("waived", "2026-11-01T10:30:00Z"))

    shown = at("2026-11-05T00:00:00Z", finding("resolved"), doc)

    assert shown["state"] == "resolved"
    assert shown["decision"]["kind"] == "waived" and shown["decision"]["in_force"] is False


def test_a_decision_that_has_not_happened_yet_is_not_applied() -> None:
    doc = decided(decision("waived", "2026-11-02T09:00:00Z"))

    shown = at("2026-11-02T08:59:59Z", finding(), doc)

    assert shown == {"state": "open", "decision": None, "decisions": []}


@pytest.mark.parametrize(("status", "state"), [("open", "waived"), ("resolved", "resolved")])
def test_apply_decisions_adds_the_lifecycle_and_keeps_the_status(status: str,
                                                                 state: str) -> None:
    docs = {FINDING_ID: decided(decision("waived", "2026-11-02T09:00:00Z"))}
    other = {**finding(), "id": "ack_sla:incident-2"}

    [shown, untouched] = apply_decisions([finding(status), other], docs, "2026-11-05T00:00:00Z")

    assert (shown["status"], shown["state"]) == (status, state)
    assert {k: v for k, v in shown.items() if k not in {"state", "decision", "decisions"}} == (
        finding(status))
    assert (untouched["state"], untouched["decision"]) == ("open", None)
