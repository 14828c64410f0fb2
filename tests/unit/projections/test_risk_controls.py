"""The risks context's controls, as specifications: given these events (folded into the
register and the plans), then these findings as of a time."""

from __future__ import annotations

from typing import Any

import pytest

from projections import risk_controls
from projections.control_policies import Policies, PolicyVersion, Thresholds
from projections.fold import Document
from projections.times import parse_time
from tests.unit.projections.builders import ev, project
from tests.unit.projections.test_risk_views import (
    APPROVER,
    OWNER,
    PLAN,
    RISK,
    TEAM,
    assessed,
    drafted,
    identified,
    plan_ev,
    risk_ev,
)

OWNER_MEMBER = {"id": OWNER, "name": "Olu", "email": "olu@x.test", "principal": "user:olu"}


def findings(*events: Any, now: str, policies: Policies | None = None,
             control: str | None = None) -> list[Document]:
    store = project(*events)
    found = risk_controls.evaluate(
        store.all("risks"), store.all("contingency_plans"), {OWNER: OWNER_MEMBER},
        parse_time(now), policies or Policies())
    return [f for f in found if control is None or f["control"] == control]


def treated(version: int, time: str, treatment: str = "mitigate") -> Any:
    return risk_ev("RiskTreated", version, time, treatment=treatment, plan="replica",
                   reason="too likely")


# -- risk_review_overdue ----------------------------------------------------------------


def test_a_risk_not_reviewed_by_its_date_is_overdue_from_the_next_day() -> None:
    on_the_day = findings(identified(), now="2025-04-01T23:59:00Z",
                          control="risk_review_overdue")
    [finding] = findings(identified(), now="2025-04-02T00:01:00Z",
                         control="risk_review_overdue")

    assert on_the_day == []
    assert (finding["id"], finding["status"], finding["opened_at"]) == (
        f"risk_review_overdue:{RISK}:2025-04-01", "open", "2025-04-02T00:00:00Z")
    assert finding["team_id"] == TEAM


def test_a_late_review_resolves_it_and_starts_the_next_period() -> None:
    events = (identified(), assessed(2, "2025-04-10T09:00:00Z", review_by="2025-05-01"))

    [late] = findings(*events, now="2025-04-20T00:00:00Z", control="risk_review_overdue")
    assert (late["status"], late["resolved_at"]) == ("resolved", "2025-04-10T09:00:00Z")
    assert late["evidence_event_ids"][1] == events[1].id
    ids = [f["id"] for f in findings(*events, now="2025-05-02T01:00:00Z",
                                     control="risk_review_overdue")]
    assert ids == [f"risk_review_overdue:{RISK}:2025-04-01",
                   f"risk_review_overdue:{RISK}:2025-05-01"]


def test_a_review_in_time_or_a_closing_before_the_date_is_no_finding() -> None:
    reviewed = (identified(), assessed(2, "2025-03-20T09:00:00Z", review_by="2025-09-01"))
    closed = (identified(), risk_ev("RiskClosed", 2, "2025-03-20T09:00:00Z", reason="gone"))

    assert findings(*reviewed, now="2025-06-01T00:00:00Z", control="risk_review_overdue") == []
    assert findings(*closed, now="2025-06-01T00:00:00Z", control="risk_review_overdue") == []


# -- high_risk_untreated ----------------------------------------------------------------


def test_a_high_risk_without_a_treatment_after_14_days_is_a_finding() -> None:
    # 4 x 5 = 20 >= 15 from 2025-03-01 09:00; due a treatment by 2025-03-15 09:00.
    assert findings(identified(), now="2025-03-15T09:00:00Z",
                    control="high_risk_untreated") == []
    [finding] = findings(identified(), now="2025-03-15T10:00:00Z",
                         control="high_risk_untreated")

    assert (finding["status"], finding["opened_at"]) == ("open", "2025-03-15T09:00:00Z")
    assert finding["id"] == f"high_risk_untreated:{RISK}:{identified().id}"


def test_a_treatment_within_14_days_or_a_lower_score_is_no_finding() -> None:
    in_time = (identified(), treated(2, "2025-03-14T09:00:00Z"))
    low = identified(likelihood=2, impact=5)  # 10 < 15

    assert findings(*in_time, now="2025-06-01T00:00:00Z", control="high_risk_untreated") == []
    assert findings(low, now="2025-06-01T00:00:00Z", control="high_risk_untreated") == []


def test_a_late_treatment_resolves_it() -> None:
    [finding] = findings(identified(), treated(2, "2025-03-20T09:00:00Z"),
                         now="2025-06-01T00:00:00Z", control="high_risk_untreated")

    assert (finding["status"], finding["resolved_at"]) == ("resolved", "2025-03-20T09:00:00Z")
    assert finding["breached_by_seconds"] == 5 * 86400


def test_the_clock_starts_when_an_assessment_makes_the_residual_score_high() -> None:
    events = (identified(likelihood=3, impact=3),  # 9: not high
              risk_ev("RiskAssessed", 2, "2025-03-10T09:00:00Z", likelihood=4, impact=5,
                      residual_likelihood=4, residual_impact=4, note="", review_by="2025-09-01"))

    [finding] = findings(*events, now="2025-03-25T00:00:00Z", control="high_risk_untreated")
    assert finding["opened_at"] == "2025-03-24T09:00:00Z"


def test_the_score_and_days_in_force_when_it_became_high_judge_it() -> None:
    stricter = Policies(Thresholds(), {"high_risk_untreated": (PolicyVersion(
        2, {"untreated_min_score": 25, "untreated_days": 3},
        parse_time("2025-01-01T00:00:00Z")),)})

    assert findings(identified(), now="2025-06-01T00:00:00Z", policies=stricter,
                    control="high_risk_untreated") == []  # 20 < 25
    [finding] = findings(identified(likelihood=5, impact=5), now="2025-06-01T00:00:00Z",
                         policies=stricter, control="high_risk_untreated")
    assert finding["opened_at"] == "2025-03-04T09:00:00Z"
    assert "(policy version 2)" in finding["summary"]


# -- plan_not_exercised -----------------------------------------------------------------


def drill(version: int, held_at: str) -> Any:
    return plan_ev("PlanExercised", version, held_at, plan_version=1, held_at=held_at,
                   participants=[OWNER], outcome="ok", lessons="")


def test_a_plan_for_a_high_risk_without_a_drill_in_180_days_is_a_finding() -> None:
    # Needed from its drafting (2025-03-02 09:00): due a drill by 2025-08-29 09:00.
    assert findings(identified(), drafted(), now="2025-08-29T09:00:00Z",
                    control="plan_not_exercised") == []
    [finding] = findings(identified(), drafted(), now="2025-08-30T00:00:00Z",
                         control="plan_not_exercised")

    assert (finding["id"], finding["status"], finding["team_id"]) == (
        f"plan_not_exercised:{PLAN}:2025-08-29", "open", TEAM)


def test_each_drill_restarts_the_clock_and_a_late_one_resolves_it() -> None:
    in_time = (identified(), drafted(), drill(2, "2025-08-01T09:00:00Z"))
    late = (identified(), drafted(), drill(2, "2025-09-10T09:00:00Z"))

    assert findings(*in_time, now="2026-01-27T00:00:00Z", control="plan_not_exercised") == []
    [finding] = findings(*late, now="2025-12-01T00:00:00Z", control="plan_not_exercised")
    assert (finding["status"], finding["resolved_at"]) == ("resolved", "2025-09-10T09:00:00Z")


def test_a_plan_whose_risks_are_low_or_closed_needs_no_drill() -> None:
    low = (identified(likelihood=2, impact=2), drafted())
    closed = (identified(), drafted(),
              risk_ev("RiskClosed", 2, "2025-03-05T09:00:00Z", reason="gone"))

    assert findings(*low, now="2026-06-01T00:00:00Z", control="plan_not_exercised") == []
    assert findings(*closed, now="2026-06-01T00:00:00Z", control="plan_not_exercised") == []


def test_the_clock_starts_when_the_covered_risk_becomes_high() -> None:
    events = (identified(likelihood=2, impact=2), drafted(),
              risk_ev("RiskAssessed", 2, "2025-06-01T09:00:00Z", likelihood=4, impact=5,
                      residual_likelihood=4, residual_impact=4, note="", review_by="2025-12-01"))

    [finding] = findings(*events, now="2026-01-01T00:00:00Z", control="plan_not_exercised")
    assert finding["opened_at"] == "2025-11-28T09:00:00Z"  # 180 days after 2025-06-01


# -- risk_accepted_by_owner -------------------------------------------------------------


def acceptance(actor: str) -> tuple[Any, ...]:
    return (identified(), treated(2, "2025-03-02T09:00:00Z", "accept"),
            ev("risks", "RiskAccepted", RISK, 3, 3, "2025-03-03T09:00:00Z", actor=actor,
               team_id=TEAM, approver_id=APPROVER, reason="within appetite"))


def test_an_acceptance_the_owner_recorded_is_a_finding() -> None:
    events = acceptance("user:olu")
    [finding] = findings(*events, now="2025-03-04T00:00:00Z", control="risk_accepted_by_owner")

    assert (finding["id"], finding["status"]) == (
        f"risk_accepted_by_owner:{RISK}:{events[2].id}", "open")
    assert finding["evidence_event_ids"] == [events[0].id, events[1].id, events[2].id]


def test_an_acceptance_someone_else_recorded_is_no_finding() -> None:
    assert findings(*acceptance("user:lena"), now="2025-03-04T00:00:00Z",
                    control="risk_accepted_by_owner") == []


@pytest.mark.parametrize("control", ["risk_review_overdue", "high_risk_untreated",
                                     "plan_not_exercised", "risk_accepted_by_owner"])
def test_every_control_has_thresholds_listed_in_the_policies(control: str) -> None:
    from domain.compliance.policy import CONTROLS

    assert control in CONTROLS
    assert set(Thresholds().of(control)) == set(CONTROLS[control])
