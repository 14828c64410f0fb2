"""Contingency plans over HTTP: drafted for a team's risks, revised (every version
kept), exercised (a drill at the time it was held, in each participant's timeline);
incidents linked to the risk and plan that foresaw them; all kept to the token's teams;
and ``plan_not_exercised`` among the findings."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import SCOPED_TEAM, Api
from tests.e2e.test_business_time import ago
from tests.e2e.test_risks import DAY, Register

STEPS = [{"title": "Fail over to eu-west-2", "role": "On-call SRE"},
         {"title": "Tell customers", "role": "Support lead"}]


class Plan:
    def __init__(self, reg: Register, **overrides: Any) -> None:
        self.reg = reg
        body = {"team_id": reg.team, "title": "Region failover", "risk_ids": [reg.risk],
                "steps": STEPS, "owner_id": reg.olu, **overrides}
        answer = reg.api.post("/v1/contingency-plans", body, expect=201).json()
        reg.position = answer["position"]
        self.id = str(answer["id"])

    def do(self, action: str, body: dict[str, Any], expect: int = 200,
           api: Api | None = None) -> Any:
        answer = (api or self.reg.api).post(f"/v1/contingency-plans/{self.id}/{action}",
                                            body, expect=expect)
        if answer.status_code < 300:
            self.reg.position = answer.json()["position"]
        return answer

    def read(self, api: Api | None = None, expect: int = 200) -> Any:
        return self.reg.read(f"/v1/contingency-plans/{self.id}", api=api, expect=expect)


def test_a_plan_keeps_every_version_and_drill_and_the_risk_lists_it(api: Api) -> None:
    reg = Register(api)
    plan = Plan(reg, occurred_at=ago(20 * DAY))
    new_steps = [*STEPS, {"title": "Post-incident review", "role": "Team lead"}]
    plan.do("revise", {"steps": new_steps, "reason": "review step missing",
                       "occurred_at": ago(10 * DAY)})
    held_at = ago(5 * DAY)
    plan.do("exercise", {"held_at": held_at, "participants": [reg.olu, reg.ria],
                         "outcome": "failover in 12 min", "lessons": "DNS TTL too long"})

    doc = plan.read()
    assert (doc["plan_version"], doc["steps"], doc["version"]) == (2, new_steps, 3)
    assert [(v["plan_version"], v["steps"]) for v in doc["versions"]] == [
        (1, STEPS), (2, new_steps)]
    [drill] = doc["exercises"]
    assert (drill["plan_version"], drill["participants"]) == (2, [reg.olu, reg.ria])
    risk = reg.read(f"/v1/risks/{reg.risk}")
    assert [(p["id"], p["plan_version"]) for p in risk["plans"]] == [(plan.id, 2)]
    assert [p["id"] for p in reg.read("/v1/contingency-plans", team_id=reg.team)[
        "items"]] == [plan.id]

    # The drill is in each participant's timeline, at the time it was held.
    timeline = reg.read(f"/v1/performance/members/{reg.ria}/timeline")["items"]
    [entry] = [e for e in timeline if e["kind"] == "drill"]
    assert entry["time"][:16] == held_at.replace("+00:00", "Z")[:16]
    audit = reg.read("/v1/audit", entity_id=plan.id, team_id=reg.team)["items"]
    assert {r["name"] for r in audit} == {"PlanDrafted", "PlanRevised", "PlanExercised"}


def test_bad_plans_and_drills_are_refused_and_append_nothing(api: Api) -> None:
    reg = Register(api)
    plan = Plan(reg)
    other = Register(api, owner_principal=None)
    head = api.head()

    for bad in ({"steps": []}, {"steps": [{"title": "x"}]}, {"risk_ids": []},
                {"risk_ids": [other.risk]}, {"owner_id": other.olu}):
        answer = api.post("/v1/contingency-plans", {
            "team_id": reg.team, "title": "x", "risk_ids": [reg.risk], "steps": STEPS,
            "owner_id": reg.olu, **bad})
        assert answer.status_code == 422, (bad, answer.text)
    plan.do("revise", {"steps": STEPS, "reason": "same"}, expect=409)
    plan.do("exercise", {"held_at": ago(-60), "participants": [reg.olu], "outcome": "x"},
            expect=422)  # an hour from now: not held yet
    plan.do("exercise", {"held_at": ago(60), "occurred_at": ago(30), "participants": [reg.olu],
                         "outcome": "x"}, expect=422)
    assert api.head() == head


def test_an_incident_links_to_the_risk_and_plan_that_foresaw_it(api: Api) -> None:
    reg = Register(api)
    plan = Plan(reg)
    incident = api.incident(reg.team, "SEV1")

    linked = api.post(f"/v1/incidents/{incident}/links", {
        "risk_id": reg.risk, "plan_id": plan.id, "plan_followed": False}, expect=201).json()
    reg.position = linked["position"]

    assert linked["id"] == reg.risk
    [on_risk] = reg.read(f"/v1/risks/{reg.risk}")["incidents"]
    assert (on_risk["incident_id"], on_risk["plan_id"], on_risk["plan_followed"]) == (
        incident, plan.id, False)
    [on_plan] = plan.read()["incidents"]
    assert (on_plan["incident_id"], on_plan["risk_id"]) == (incident, reg.risk)
    head = api.head()
    api.post(f"/v1/incidents/{incident}/links", {"risk_id": reg.risk, "plan_id": plan.id,
                                                "plan_followed": True}, expect=409)
    api.post(f"/v1/incidents/{incident}/links", {}, expect=422)
    api.post(f"/v1/incidents/{incident}/links", {"plan_id": plan.id}, expect=422)
    api.post(f"/v1/incidents/{reg.team}/links", {"risk_id": reg.risk}, expect=404)
    assert api.head() == head


def test_plans_and_links_are_kept_to_the_tokens_teams(api: Api) -> None:
    mine, theirs = Register(api, team_id=SCOPED_TEAM), Register(api, owner_principal=None)
    their_plan = Plan(theirs)
    scoped = api.as_("scoped")
    my_incident = api.incident(SCOPED_TEAM)
    head = api.head()

    their_plan.do("exercise", {"held_at": ago(5), "participants": [theirs.olu],
                               "outcome": "ok"}, expect=403, api=scoped)
    scoped.post("/v1/contingency-plans", {
        "team_id": theirs.team, "title": "x", "risk_ids": [theirs.risk], "steps": STEPS,
        "owner_id": theirs.olu}, expect=403)
    scoped.post(f"/v1/incidents/{my_incident}/links", {"risk_id": theirs.risk}, expect=403)
    assert api.head() == head
    their_plan.read(api=scoped, expect=403)
    mine.read("/v1/contingency-plans", api=scoped, expect=403)
    assert mine.read("/v1/contingency-plans", api=scoped, team_id=SCOPED_TEAM)["items"] == []


def test_a_plan_for_a_high_risk_not_drilled_in_180_days_is_a_finding(api: Api) -> None:
    reg = Register(api, formed_days_ago=300)
    old = reg.identify(occurred_at=ago(200 * DAY))
    plan = Plan(reg, risk_ids=[old], occurred_at=ago(190 * DAY))

    found = [f for f in reg.read("/v1/compliance/findings", team_id=reg.team)["items"]
             if f["control"] == "plan_not_exercised"]
    assert [(f["subject_id"], f["status"]) for f in found] == [(plan.id, "open")]

    plan.do("exercise", {"held_at": ago(2 * DAY), "participants": [reg.ria],
                         "outcome": "passed"})
    [late] = [f for f in reg.read("/v1/compliance/findings", team_id=reg.team)["items"]
              if f["control"] == "plan_not_exercised"]
    assert late["status"] == "resolved"
