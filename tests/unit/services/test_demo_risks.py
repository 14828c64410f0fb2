"""The demo's risks and contingency plans, as specifications of its plan: whatever the
hour it runs and whatever the seed, each risk and plan is changed by the right persona
(the team's lead then, the owner for reviews and treatments, the plan's owner for its
drill, the incident commander for links), an acceptance's approver is never the owner
(and once the owner records it), a drill's business time is when it was held, an
incident is linked after it opened and after the plan that foresaw it, and adding the
risks changed nothing else in the month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.cli.demo.clock import Clock
from services.cli.demo.plan import Planner, Step, build_plan
from services.cli.demo.register import PLANS, RISKS
from services.cli.demo.risks import RiskPlanner

MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
ANCHORS = [MONDAY + timedelta(hours=h) for h in range(0, 7 * 24, 11)]
RISK_KINDS = {"risks", "risk_assessments", "risk_treatments", "risk_acceptances",
              "risks_closed", "contingency_plans", "drills", "plan_revisions",
              "incident_links"}


def plan(anchor: datetime, seed: int = 7) -> tuple[list[Step], Planner]:
    return build_plan(seed, Clock(anchor))


def of(steps: list[Step], kind: str) -> list[Step]:
    return [s for s in steps if s.kind == kind]


def body(step: Step) -> dict[str, object]:
    assert step.body is not None
    return step.body


def at(step: Step) -> datetime:
    assert step.at is not None
    return step.at


@pytest.mark.parametrize("anchor", ANCHORS, ids=lambda a: a.strftime("%a-%H"))
def test_risks_and_plans_are_changed_by_the_teams_personas_in_the_run(anchor: datetime) -> None:
    steps, p = plan(anchor)
    mine = [s for s in steps if s.kind in RISK_KINDS]

    assert {s.kind for s in mine} == RISK_KINDS and all(s.in_run for s in mine)
    team_of = {p.team_ids[t]: t for t in p.team_ids}
    for step in of(steps, "risks") + of(steps, "contingency_plans"):
        team = team_of[str(body(step)["team_id"])]
        assert step.actor == p.lead_persona(team, at(step))
        # the owner is on that team and still there
        owner = next(n for n, i in p.member_ids.items() if i == body(step)["owner_id"])
        assert owner in p.active(team, at(step))
    for step in of(steps, "risk_acceptances") + of(steps, "risks_closed"):
        assert step.actor in {p.lead_persona(t, at(step)) for t in p.team_ids}  # /accept: leads


@pytest.mark.parametrize("anchor", ANCHORS[::3], ids=lambda a: a.strftime("%a-%H"))
def test_an_approver_is_never_the_owner_and_once_the_owner_records_the_approval(
    anchor: datetime,
) -> None:
    steps, p = plan(anchor)
    owners = {f"/v1/risks/{body(s)['risk_id']}": str(body(s)["owner_id"])
              for s in of(steps, "risks")}

    accepted = of(steps, "risk_acceptances")
    assert len(accepted) == 2
    by_owner = []
    for step in accepted:
        risk = step.path.removesuffix("/accept")
        assert body(step)["approver_id"] != owners[risk]
        owner = next(n for n, i in p.member_ids.items() if i == owners[risk])
        if p.persona.get(owner) == step.actor:
            by_owner.append(step)
        treated = [s for s in of(steps, "risk_treatments") if s.path == f"{risk}/treat"]
        assert body(treated[0])["treatment"] == "accept" and at(treated[0]) < at(step)
    assert len(by_owner) == 1


@pytest.mark.parametrize("anchor", ANCHORS[::3], ids=lambda a: a.strftime("%a-%H"))
def test_reviews_keep_the_rules_of_the_register(anchor: datetime) -> None:
    steps, _ = plan(anchor)
    for step in of(steps, "risks"):
        assert date.fromisoformat(str(body(step)["review_by"])) >= at(step).date()
    for step in of(steps, "risk_assessments"):
        b = body(step)
        assert int(str(b["residual_likelihood"])) * int(str(b["residual_impact"])) <= (
            int(str(b["likelihood"])) * int(str(b["impact"])))
        assert date.fromisoformat(str(b["review_by"])) > at(step).date()
    (drill,) = of(steps, "drills")
    assert body(drill)["held_at"] == body(drill)["occurred_at"]  # the server insists
    (revision,) = of(steps, "plan_revisions")
    assert at(revision) > at(drill) and revision.path == drill.path.replace("exercise",
                                                                            "revise")


@pytest.mark.parametrize("seed", range(1, 25))
def test_incidents_are_linked_after_they_opened_and_after_the_plan_that_foresaw_them(
    seed: int,
) -> None:
    steps, p = plan(MONDAY + timedelta(hours=9), seed)
    opened = {body(s)["incident_id"]: at(s) for s in of(steps, "incidents") if s.in_run}
    drafted = {str(body(s)["plan_id"]): at(s) for s in of(steps, "contingency_plans")}

    links = of(steps, "incident_links")
    with_plan = [s for s in links if "plan_id" in body(s)]
    assert len(with_plan) == len(PLANS) and len(links) == len(PLANS) + 1
    assert sorted(bool(body(s)["plan_followed"]) for s in with_plan) == [False, True]
    for step in links:
        incident = step.path.split("/")[3]
        assert opened[incident] < at(step) <= p.horizon
        assert step.actor in {p.team_personas(t)[0] for t in p.team_ids}
    for step in with_plan:
        assert at(step) > drafted[str(body(step)["plan_id"])]


def test_adding_the_risks_left_the_rest_of_the_month_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    anchor = MONDAY + timedelta(hours=14)
    with_risks, _ = plan(anchor)
    monkeypatch.setattr(RiskPlanner, "plan", lambda self: None)
    without, _ = plan(anchor)

    def story(steps: list[Step]) -> list[tuple[object, ...]]:
        return [(s.kind, s.method, s.path, s.body, s.actor, s.at) for s in steps
                if s.kind not in RISK_KINDS]

    assert story(with_risks) == story(without)
    assert len(with_risks) - len(without) == sum(
        1 + len(r.assessments) + bool(r.treatment) + bool(r.acceptance) + bool(r.closing)
        for r in RISKS) + sum(1 + bool(x.drill) + bool(x.revision) for x in PLANS) + 3
