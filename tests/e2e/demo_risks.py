"""What the demo month promises of the risks context, read through the API as an auditor
would (used by :mod:`tests.e2e.test_demo`): a few risks per team, reviewed, treated,
accepted by an approver who is not the owner (and once recorded by the owner), one
closed; two contingency plans, one drilled and revised with its first version kept;
incidents linked to the risk and plan that foresaw them, the plan followed or not; the
heat map counting the risks not closed; and the risks controls finding what the story
says, in business time, all of it by the teams' personas inside the import run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.times import parse_time
from services.cli.demo import DemoSummary
from services.cli.demo.scenario import PERSONAS

Get = Callable[..., dict[str, Any]]
Every = Callable[..., list[dict[str, Any]]]
RISK_EVENTS = {"RiskIdentified", "RiskAssessed", "RiskTreated", "RiskAccepted", "RiskClosed",
               "RiskIncidentLinked", "PlanDrafted", "PlanRevised", "PlanExercised",
               "PlanIncidentLinked"}


def check_the_risks(get: Get, every: Every, summary: DemoSummary,
                    findings: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
    pos = summary.last_position
    risks = {t: every("/v1/risks", pos, team_id=t) for t in summary.team_ids}
    plans = [p for t in summary.team_ids for p in every("/v1/contingency-plans", pos, team_id=t)]
    register = [r for team in risks.values() for r in team]
    assert all(len(team) >= 2 for team in risks.values()), {t: len(r) for t, r in risks.items()}
    assert {r["status"] for r in register} == {"open", "treated", "accepted", "closed"}
    for risk in register:
        assert risk["inherent_score"] == risk["likelihood"] * risk["impact"]
        assert risk["residual_score"] == risk["residual_likelihood"] * risk["residual_impact"]
        assert risk["residual_score"] <= risk["inherent_score"]
    assert any(r["residual_score"] < r["inherent_score"] for r in register)
    (closed,) = [r for r in register if r["status"] == "closed"]
    assert closed["closing_reason"]

    # the risks' and plans' events: in the run, in business time, by the teams' personas
    personas = {p.principal for p in PERSONAS if p.team != "*"}
    records = [r for r in audit if r["name"] in RISK_EVENTS]
    assert {r["name"] for r in records} == RISK_EVENTS
    assert {r["import_run_id"] for r in records} == {summary.import_run_id}
    assert {r["actor"] for r in records} <= personas
    assert summary.run_by_context["risks"] == len(records)

    check_acceptances(register, findings)
    check_the_risk_controls(register, findings)
    check_the_plans(get, pos, register, plans, findings)

    # the heat map counts each team's risks not closed, by inherent and residual cell
    for team_id, team in risks.items():
        heat = get("/v1/risks/heatmap", team_id=team_id, min_position=pos)
        mapped = [r for r in team if r["status"] != "closed"]
        assert heat["risks"] == len(mapped) and len(heat["cells"]) == 25
        for cell in heat["cells"]:
            at = (cell["likelihood"], cell["impact"])
            assert cell["inherent"] == sum(1 for r in mapped
                                           if (r["likelihood"], r["impact"]) == at)
            assert cell["residual"] == sum(
                1 for r in mapped if (r["residual_likelihood"], r["residual_impact"]) == at)
    shown = summary.figures.risks
    assert shown.mapped == sum(1 for r in register if r["status"] != "closed")
    assert sum(i for i, _ in shown.heatmap.values()) == shown.mapped
    assert shown.by_status == {s: sum(1 for r in register if r["status"] == s)
                               for s in ("open", "treated", "accepted", "closed")}


def check_acceptances(register: list[dict[str, Any]], findings: list[dict[str, Any]]) -> None:
    """Approved by someone who is not the owner; once recorded by the owner themselves,
    naming a colleague: that one (only) is a risk_accepted_by_owner finding."""
    accepted = [r for r in register if r["acceptances"]]
    assert len(accepted) == 2 and all(r["status"] == "accepted" for r in accepted)
    assert all(a["approver_id"] != r["owner_id"] for r in accepted for a in r["acceptances"])
    assert all(r["treatment"]["treatment"] == "accept" for r in accepted)
    by_owner = [f for f in findings if f["control"] == "risk_accepted_by_owner"]
    (finding,) = by_owner
    (owned,) = [r for r in accepted if r["id"] == finding["subject_id"]]
    assert finding["state"] == "open" and owned["acceptances"][0]["actor"] in finding["summary"]
    (proper,) = [r for r in accepted if r is not owned]
    assert proper["acceptances"][0]["actor"] != owned["acceptances"][0]["actor"]


def check_the_risk_controls(register: list[dict[str, Any]],
                            findings: list[dict[str, Any]]) -> None:
    by_id = {r["id"]: r for r in register}
    reviews = [f for f in findings if f["control"] == "risk_review_overdue"]
    late_review = [f for f in reviews if f["status"] == "resolved"]
    assert late_review and [f for f in reviews if f["status"] == "open"]
    for finding in late_review:  # resolved by the late review, when it was made
        risk = by_id[finding["subject_id"]]
        assert parse_time(finding["resolved_at"]) in {
            parse_time(a["at"]) for a in risk["assessments"]}
        assert finding["breached_by_seconds"] > 0

    untreated = [f for f in findings if f["control"] == "high_risk_untreated"]
    late = [f for f in untreated if f["status"] == "resolved"]
    still = [f for f in untreated if f["status"] == "open"]
    assert late and still
    for finding in late:  # the treatment came after the 14 days
        risk = by_id[finding["subject_id"]]
        assert parse_time(finding["resolved_at"]) == parse_time(risk["treatments"][0]["at"])
        assert finding["breached_by_seconds"] > 0
    for finding in still:
        assert not by_id[finding["subject_id"]]["treatments"]
        assert by_id[finding["subject_id"]]["residual_score"] >= 15
    # a risk high from the start but treated within the week is no finding
    prompt = [r for r in register if r["scores"][0]["residual_score"] >= 15
              and r["treatments"] and r["id"] not in {f["subject_id"] for f in untreated}]
    assert prompt


def check_the_plans(get: Get, pos: int, register: list[dict[str, Any]],
                    plans: list[dict[str, Any]], findings: list[dict[str, Any]]) -> None:
    assert len(plans) == 2
    (revised,) = [p for p in plans if p["plan_version"] == 2]
    assert [v["plan_version"] for v in revised["versions"]] == [1, 2]
    assert revised["versions"][0]["steps"] != revised["steps"] == revised["versions"][1]["steps"]
    (drill,) = [x for p in plans for x in p["exercises"]]
    assert drill in revised["exercises"] and drill["plan_version"] == 1
    assert len(drill["participants"]) >= 2 and drill["outcome"]
    assert parse_time(drill["held_at"]) < parse_time(revised["versions"][1]["at"])

    links = [(p, link) for p in plans for link in p["incidents"]]
    assert sorted(link["plan_followed"] for _, link in links) == [False, True]
    for plan, link in links:  # linked after it opened, to a risk the plan covers
        incident = get(f"/v1/incidents/{link['incident_id']}", min_position=pos)
        assert incident["team_id"] == plan["team_id"] and link["risk_id"] in plan["risk_ids"]
        assert parse_time(link["at"]) > parse_time(incident["opened_at"])
        assert parse_time(link["at"]) > parse_time(plan["drafted_at"])
    # this morning's incident foreseen by a risk that has no plan
    alone = [i for r in register for i in r["incidents"] if i["plan_id"] is None]
    assert len(alone) == 1
    assert sum(len(r["incidents"]) for r in register) == len(links) + 1
    assert not [f for f in findings if f["control"] == "plan_not_exercised"]
