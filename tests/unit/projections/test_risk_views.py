"""The risk register, the contingency plans and their timeline entries, as
specifications: given these events, then these documents."""

from __future__ import annotations

from typing import Any

from domain.envelope import EventEnvelope
from projections.views import entity_of, view_of
from tests.unit.projections.builders import ev, project

TEAM = "team-1"
RISK = "risk-1"
PLAN = "plan-1"
OWNER, APPROVER, OTHER = "member-o", "member-a", "member-b"
STEPS = [{"title": "Fail over", "role": "On-call SRE"}]


def risk_ev(name: str, version: int, time: str, **data: Any) -> EventEnvelope:
    return ev("risks", name, RISK, version, version, time, team_id=TEAM, **data)


def plan_ev(name: str, version: int, time: str, **data: Any) -> EventEnvelope:
    return ev("risks", name, PLAN, version, 100 + version, time, team_id=TEAM, **data)


def identified(time: str = "2025-03-01T09:00:00Z", likelihood: int = 4,
               impact: int = 5) -> EventEnvelope:
    return risk_ev("RiskIdentified", 1, time, title="DB region outage",
                   category="technical", likelihood=likelihood, impact=impact,
                   owner_id=OWNER, review_by="2025-04-01")


def assessed(version: int, time: str, residual: tuple[int, int] = (2, 3),
             review_by: str = "2025-06-01") -> EventEnvelope:
    return risk_ev("RiskAssessed", version, time, likelihood=4, impact=5,
                   residual_likelihood=residual[0], residual_impact=residual[1],
                   note="replica live", review_by=review_by)


def drafted(time: str = "2025-03-02T09:00:00Z") -> EventEnvelope:
    return plan_ev("PlanDrafted", 1, time, title="Region failover", risk_ids=[RISK],
                   steps=STEPS, owner_id=OWNER)


# -- the register ------------------------------------------------------------------------


def test_a_risk_identified_has_inherent_and_residual_scores_alike() -> None:
    risk = project(identified()).get("risks", RISK)

    assert risk is not None
    assert {k: risk[k] for k in ("team_id", "status", "inherent_score", "residual_score",
                                 "review_by", "owner_id")} == {
        "team_id": TEAM, "status": "open", "inherent_score": 20, "residual_score": 20,
        "review_by": "2025-04-01", "owner_id": OWNER}
    assert [p["residual_score"] for p in risk["scores"]] == [20]


def test_an_assessment_is_a_review_with_the_date_it_was_due_and_the_next_one() -> None:
    risk = project(identified(), assessed(2, "2025-03-20T09:00:00Z")).get("risks", RISK)

    assert risk is not None
    assert (risk["inherent_score"], risk["residual_score"], risk["review_by"]) == (20, 6,
                                                                                "2025-06-01")
    [review] = risk["assessments"]
    assert (review["due_by"], review["review_by"], review["at"]) == (
        "2025-04-01", "2025-06-01", "2025-03-20T09:00:00Z")
    assert [p["residual_score"] for p in risk["scores"]] == [20, 6]


def test_treatment_acceptance_and_a_new_treatment_keep_every_decision() -> None:
    store = project(
        identified(),
        risk_ev("RiskTreated", 2, "2025-03-02T09:00:00Z", treatment="accept", plan="",
                reason="cheap"),
        risk_ev("RiskAccepted", 3, "2025-03-03T09:00:00Z", approver_id=APPROVER,
                reason="within appetite"),
        risk_ev("RiskTreated", 4, "2025-03-04T09:00:00Z", treatment="mitigate",
                plan="replica", reason="appetite changed"),
    )
    risk = store.get("risks", RISK)

    assert risk is not None
    assert (risk["status"], risk["acceptance"]) == ("treated", None)
    assert [t["treatment"] for t in risk["treatments"]] == ["accept", "mitigate"]
    [approval] = risk["acceptances"]
    assert (approval["approver_id"], approval["residual_score"],
            approval["treatment_event_id"]) == (APPROVER, 20, risk["event_ids"][1])


def test_a_closed_risk_keeps_why_and_its_linked_incidents() -> None:
    store = project(
        identified(),
        risk_ev("RiskIncidentLinked", 2, "2025-03-05T09:00:00Z", incident_id="inc-1",
                plan_id=PLAN, plan_followed=False),
        risk_ev("RiskClosed", 3, "2025-03-06T09:00:00Z", reason="vendor replaced"),
    )
    risk = store.get("risks", RISK)

    assert risk is not None
    assert (risk["status"], risk["closed_at"], risk["closing_reason"]) == (
        "closed", "2025-03-06T09:00:00Z", "vendor replaced")
    assert [(i["incident_id"], i["plan_id"], i["plan_followed"]) for i in risk["incidents"]] \
        == [("inc-1", PLAN, False)]
    assert risk["version"] == 3


# -- plans -------------------------------------------------------------------------------


def test_a_plan_keeps_every_version_and_every_drill() -> None:
    new_steps = [*STEPS, {"title": "Review", "role": "Lead"}]
    store = project(
        drafted(),
        plan_ev("PlanRevised", 2, "2025-03-10T09:00:00Z", plan_version=2, steps=new_steps,
                reason="review step"),
        plan_ev("PlanExercised", 3, "2025-03-12T09:00:00Z", plan_version=2,
                held_at="2025-03-12T09:00:00Z", participants=[OWNER, OTHER],
                outcome="12 min failover", lessons="DNS TTL"),
    )
    plan = store.get("contingency_plans", PLAN)

    assert plan is not None
    assert (plan["plan_version"], plan["steps"], plan["version"]) == (2, new_steps, 3)
    assert [(v["plan_version"], v["steps"]) for v in plan["versions"]] == [
        (1, STEPS), (2, new_steps)]
    assert [(x["plan_version"], x["participants"]) for x in plan["exercises"]] == [
        (2, [OWNER, OTHER])]
    assert plan["last_exercised_at"] == "2025-03-12T09:00:00Z"
    assert store.get("risks", PLAN) is None  # a plan's events never reach the register


def test_history_and_audit_records_are_of_the_events_team() -> None:
    store = project(identified(), drafted(), assessed(2, "2025-03-20T09:00:00Z"))

    assert {r["team_id"] for r in store.all("compliance_history")} == {TEAM}
    assert {r["team_id"] for r in store.all("audit_trail")} == {TEAM}
    history = [r for r in store.all("compliance_history") if r["entity_id"] == RISK]
    assert [r["state"]["residual_score"] for r in history] == [20, 6]
    assert view_of(drafted()) is not None and entity_of(drafted()) == PLAN


# -- the timelines -----------------------------------------------------------------------


def test_owners_approvers_and_every_drill_participant_get_timeline_entries() -> None:
    store = project(
        identified(), drafted(),
        risk_ev("RiskTreated", 2, "2025-03-02T09:00:00Z", treatment="accept", plan="",
                reason="cheap"),
        risk_ev("RiskAccepted", 3, "2025-03-03T09:00:00Z", approver_id=APPROVER,
                reason="within appetite"),
        plan_ev("PlanExercised", 2, "2025-03-12T09:00:00Z", plan_version=1,
                held_at="2025-03-12T09:00:00Z", participants=[OWNER, OTHER],
                outcome="12 min failover", lessons=""),
    )
    entries = {(e["owner"], e["kind"]) for e in store.all("timeline")}

    assert entries == {
        (f"member:{OWNER}", "risk_owned"), (f"team:{TEAM}", "risk_identified"),
        (f"member:{OWNER}", "plan_owned"), (f"team:{TEAM}", "plan_drafted"),
        (f"member:{APPROVER}", "risk_acceptance_approved"), (f"team:{TEAM}", "risk_accepted"),
        (f"member:{OWNER}", "drill"), (f"member:{OTHER}", "drill"), (f"team:{TEAM}", "drill"),
    }
    drill = next(e for e in store.all("timeline") if e["owner"] == f"member:{OTHER}")
    assert drill["summary"] == "Drill of 'Region failover' (version 1): 12 min failover"
    assert drill["time"] == "2025-03-12T09:00:00Z"
