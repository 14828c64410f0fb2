"""The risk register over HTTP: identified, assessed, treated, accepted by a member other
than the owner, closed; the register with its scores, plans and incidents; the heat
map; the risks controls among the compliance findings; all kept to the token's teams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.conftest import SCOPED_TEAM, Api
from tests.e2e.test_business_time import ago

DAY = 24 * 60  # minutes


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


class Register:
    """A team formed 60 days ago (by default) with Olu (owner, bound to ``user:lena``, the lead
    token's principal) and Ria; a risk of Olu's identified 30 days ago at 4 x 5."""

    def __init__(self, api: Api, team_id: str | None = None,
                 owner_principal: str | None = "user:lena", formed_days_ago: int = 60) -> None:
        self.api = api
        formed = ago(formed_days_ago * DAY)
        self.team = api.team("Payments SRE", occurred_at=formed,
                             **({"team_id": team_id} if team_id else {}))
        bound = {"principal": owner_principal} if owner_principal else {}
        self.olu = api.member(self.team, "Olu Owner", occurred_at=formed, **bound)
        self.ria = api.member(self.team, "Ria Reviewer", occurred_at=formed)
        self.position = 0
        self.risk = self.identify(occurred_at=ago(30 * DAY))

    def identify(self, **overrides: Any) -> str:
        body = {"team_id": self.team, "title": "Primary DB region outage",
                "category": "technical", "likelihood": 4, "impact": 5, "owner_id": self.olu,
                "review_by": day(30), **overrides}
        answer = self.api.post("/v1/risks", body, expect=201).json()
        self.position = answer["position"]
        return str(answer["id"])

    def do(self, action: str, body: dict[str, Any], expect: int = 200,
           api: Api | None = None, risk: str | None = None) -> Any:
        answer = (api or self.api).post(f"/v1/risks/{risk or self.risk}/{action}", body,
                                        expect=expect)
        if answer.status_code < 300:
            self.position = answer.json()["position"]
        return answer

    def read(self, path: str, api: Api | None = None, expect: int = 200, **params: Any) -> Any:
        return (api or self.api).get(path, expect=expect, min_position=self.position, **params)


def test_a_risk_lives_through_the_register(api: Api) -> None:
    reg = Register(api)
    reg.do("assess", {"likelihood": 4, "impact": 5, "residual_likelihood": 2,
                      "residual_impact": 3, "note": "replica in eu-west-2",
                      "review_by": day(90)})
    reg.do("treat", {"treatment": "accept", "plan": "", "reason": "cheaper to absorb"})
    reg.do("accept", {"approver_id": reg.ria, "reason": "within appetite"})

    risk = reg.read(f"/v1/risks/{reg.risk}")
    assert {k: risk[k] for k in ("status", "inherent_score", "residual_score", "review_by",
                                 "plans", "incidents", "version")} == {
        "status": "accepted", "inherent_score": 20, "residual_score": 6,
        "review_by": day(90), "plans": [], "incidents": [], "version": 4}
    assert (risk["treatment"]["treatment"], risk["acceptance"]["approver_id"]) == (
        "accept", reg.ria)
    assert [r["id"] for r in reg.read("/v1/risks", team_id=reg.team,
                                      status="accepted")["items"]] == [reg.risk]
    assert reg.read("/v1/risks", team_id=reg.team, status="open")["items"] == []

    reg.do("close", {"reason": "vendor replaced"})
    assert reg.read(f"/v1/risks/{reg.risk}")["status"] == "closed"
    reg.do("assess", {"likelihood": 1, "impact": 1, "residual_likelihood": 1,
                      "residual_impact": 1}, expect=409)


def test_the_owner_may_not_approve_and_a_refusal_appends_nothing(api: Api) -> None:
    reg = Register(api)
    reg.do("treat", {"treatment": "accept", "reason": "cheaper to absorb"})
    head = api.head()

    refused = reg.do("accept", {"approver_id": reg.olu, "reason": "mine"}, expect=403)
    assert "other than its owner" in refused.json()["detail"]
    assert refused.headers["content-type"] == "application/problem+json"
    reg.do("accept", {"approver_id": reg.ria, "reason": "ok"}, expect=403,
           api=api.as_("member"))  # approving is a lead's or an admin's
    assert api.head() == head


def test_bad_ratings_categories_and_dates_are_422_and_append_nothing(api: Api) -> None:
    reg = Register(api)
    head = api.head()
    for bad in ({"likelihood": 6}, {"impact": 0}, {"likelihood": True},
                {"category": "weather"}, {"review_by": day(-1)}, {"review_by": "2025-02-30"},
                {"owner_id": reg.team}):
        answer = api.post("/v1/risks", {
            "team_id": reg.team, "title": "x", "category": "technical", "likelihood": 3,
            "impact": 3, "owner_id": reg.olu, "review_by": day(5), **bad})
        assert answer.status_code == 422, (bad, answer.text)
    reg.do("assess", {"likelihood": 2, "impact": 2, "residual_likelihood": 3,
                      "residual_impact": 3}, expect=422)
    reg.do("treat", {"treatment": "mitigate", "reason": "because"}, expect=422)
    assert api.head() == head


def test_if_match_and_idempotency_keys_hold_on_risks(api: Api) -> None:
    reg = Register(api)
    body = {"likelihood": 4, "impact": 5, "residual_likelihood": 3, "residual_impact": 3}

    reg.api.post(f"/v1/risks/{reg.risk}/assess", body, expect=412, **{"If-Match": "7"})
    first = api.post(f"/v1/risks/{reg.risk}/assess", body, expect=200,
                     **{"Idempotency-Key": "assess-1", "If-Match": "1"})
    again = api.post(f"/v1/risks/{reg.risk}/assess", body, expect=200,
                     **{"Idempotency-Key": "assess-1"})
    assert first.json() == again.json() and first.headers["ETag"] == '"2"'


def test_the_heatmap_counts_open_risks_by_likelihood_and_impact(api: Api) -> None:
    reg = Register(api)
    reg.identify(likelihood=4, impact=5)
    gone = reg.identify(likelihood=1, impact=1)
    reg.do("close", {"reason": "gone"}, risk=gone)
    reg.do("assess", {"likelihood": 4, "impact": 5, "residual_likelihood": 2,
                      "residual_impact": 2})

    heat = reg.read("/v1/risks/heatmap", team_id=reg.team)
    cells = {(c["likelihood"], c["impact"]): c for c in heat["cells"]}
    assert (heat["risks"], len(cells)) == (2, 25)
    assert (cells[(4, 5)]["inherent"], cells[(4, 5)]["residual"], cells[(4, 5)]["score"]) == (
        2, 1, 20)
    assert cells[(2, 2)]["residual"] == 1 and cells[(1, 1)]["inherent"] == 0


def test_risks_are_kept_to_the_tokens_teams(api: Api) -> None:
    mine, theirs = Register(api, team_id=SCOPED_TEAM), Register(api, owner_principal=None)
    scoped = api.as_("scoped")
    body = {"team_id": theirs.team, "title": "x", "category": "people", "likelihood": 2,
            "impact": 2, "owner_id": theirs.olu, "review_by": day(5)}
    head = api.head()

    scoped.post("/v1/risks", body, expect=403)
    theirs.do("close", {"reason": "not yours"}, expect=403, api=scoped)
    assert api.head() == head
    theirs.read(f"/v1/risks/{theirs.risk}", api=scoped, expect=403)
    theirs.read("/v1/risks", api=scoped, expect=403)
    assert [r["id"] for r in mine.read("/v1/risks", api=scoped, team_id=SCOPED_TEAM)[
        "items"]] == [mine.risk]
    assert theirs.read("/v1/risks/heatmap", api=scoped)["risks"] == 1  # its own team only
    theirs.read("/v1/risks/heatmap", api=scoped, expect=403, team_id=theirs.team)
    trail = theirs.read("/v1/audit", api=scoped, entity_id=theirs.risk)
    assert trail["items"] == []


def findings(reg: Register, control: str) -> list[dict[str, Any]]:
    return [f for f in reg.read("/v1/compliance/findings", team_id=reg.team)["items"]
            if f["control"] == control]


def test_an_untreated_high_risk_and_an_owners_own_acceptance_are_findings(api: Api) -> None:
    reg = Register(api)  # 4 x 5, identified 30 days ago, never treated

    [untreated] = findings(reg, "high_risk_untreated")
    assert (untreated["subject_id"], untreated["status"]) == (reg.risk, "open")
    assert reg.read(f"/v1/compliance/findings/{untreated['id']}")["id"] == untreated["id"]

    reg.do("treat", {"treatment": "accept", "reason": "cheaper"})
    reg.do("accept", {"approver_id": reg.ria, "reason": "ok"}, api=api.as_("lead"))  # Olu
    [by_owner] = findings(reg, "risk_accepted_by_owner")
    assert by_owner["status"] == "open" and "user:lena" in by_owner["summary"]
    assert findings(reg, "high_risk_untreated")[0]["status"] == "resolved"


def test_a_missed_review_is_a_finding_and_the_controls_list_their_thresholds(
        api: Api) -> None:
    reg = Register(api)
    late = reg.identify(occurred_at=ago(20 * DAY), review_by=day(-15))

    [overdue] = findings(reg, "risk_review_overdue")
    assert overdue["id"] == f"risk_review_overdue:{late}:{day(-15)}"
    controls = {c["control"]: c for c in api.get("/v1/compliance/controls")["items"]}
    assert controls["high_risk_untreated"]["thresholds"] == {
        "untreated_min_score": 15, "untreated_days": 14}
    assert controls["plan_not_exercised"]["thresholds"] == {
        "exercise_min_score": 15, "exercise_interval_days": 180}
    assert controls["risk_review_overdue"]["thresholds"] == {}
