"""A week in the life of an ops lead, through the HTTP API, checking every read model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.e2e.conftest import Api


def test_an_ops_lead_runs_a_team_through_a_sev1(api: Api) -> None:
    lead = api.as_("lead")
    team = lead.team("Payments Ops", mission="Money moves, every time")
    ada = lead.member(team, "Ada Lovelace", "SRE", responsibilities=["on-call"])
    bob = lead.member(team, "Bob Hopper", "Support Engineer")
    lead.post(f"/v1/teams/{team}/lead", {"member_id": ada, "reason": "most senior"}, expect=200)
    lead.post(f"/v1/teams/{team}/members/{bob}/role",
              {"role": "Incident Commander", "reason": "completed IC training",
               "responsibilities": ["run incident calls"]}, expect=200)

    deadline = (date.today() + timedelta(days=60)).isoformat()
    goal = lead.post("/v1/goals", {
        "team_id": team, "owner_id": ada, "title": "Cut payment failures",
        "metric": "failed payments", "baseline": 4.0, "target": 1.0, "unit": "%",
        "deadline": deadline}, expect=201).json()["id"]
    lead.post(f"/v1/goals/{goal}/check-ins", {"value": 3.0, "note": "retry fix shipped"},
              expect=200)
    lead.post(f"/v1/goals/{goal}/target", {"target": 2.0, "reason": "new PSP contract"},
              expect=200)

    incident = api.as_("member").incident(team, "SEV1")
    member = api.as_("member")
    member.post(f"/v1/incidents/{incident}/acknowledge", expect=200)
    member.post(f"/v1/incidents/{incident}/assign", {"responder_id": bob}, expect=200)
    member.post(f"/v1/incidents/{incident}/notes", {"text": "rolling back"}, expect=200)
    member.post(f"/v1/incidents/{incident}/mitigate", {"summary": "rolled back"}, expect=200)
    member.post(f"/v1/incidents/{incident}/resolve",
                {"summary": "fixed", "root_cause": "bad config"}, expect=200)
    member.post(f"/v1/incidents/{incident}/close", expect=409)  # SEV1 needs a postmortem
    member.post(f"/v1/incidents/{incident}/postmortem", {
        "causes": ["config pushed without canary"],
        "action_items": [{"title": "canary config", "owner_id": ada,
                          "due": (date.today() + timedelta(days=14)).isoformat()}]},
        expect=200)
    member.post(f"/v1/incidents/{incident}/close", expect=200)

    fb = member.post("/v1/feedback", {"kind": "customer", "team_id": team,
                                      "text": "checkout failed twice", "channel": "email",
                                      "score": 3}, expect=201).json()["id"]
    member.post(f"/v1/feedback/{fb}/triage", {"priority": "high", "owner_id": bob}, expect=200)
    last = member.post(f"/v1/feedback/{fb}/resolve", {"resolution": "refunded"},
                       expect=200).json()["position"]
    member.post("/v1/feedback", {"kind": "peer", "team_id": team, "text": "great IC work",
                                 "subject_member_id": bob, "score": 9}, expect=201)
    last = api.head()

    # Entity views
    roster = api.get(f"/v1/teams/{team}", min_position=last)
    assert roster["lead_id"] == ada
    assert {m["name"]: m["role"] for m in roster["roster"]} == {
        "Ada Lovelace": "SRE", "Bob Hopper": "Incident Commander"}
    bob_view = api.get(f"/v1/members/{bob}")
    assert bob_view["team_id"] == team and bob_view["role"] == "Incident Commander"
    g = api.get(f"/v1/goals/{goal}")
    assert g["target"] == 2.0 and g["target_revisions"][0]["old_target"] == 1.0
    assert g["progress_pct"] == 50.0  # 4 -> 3 of the way to 2
    assert api.get("/v1/goals", team_id=team, status="open")["items"][0]["id"] == goal
    inc = api.get(f"/v1/incidents/{incident}")
    assert inc["status"] == "closed"
    assert inc["mtta_seconds"] is not None and inc["mttr_seconds"] is not None
    assert [t["type"] for t in inc["timeline"]][:3] == [
        "IncidentOpened", "IncidentAcknowledged", "ResponderAssigned"]
    assert api.get("/v1/incidents", team_id=team, severity="SEV1")["items"][0]["id"] == incident
    assert api.get(f"/v1/feedback/{fb}")["status"] == "resolved"
    assert len(api.get("/v1/feedback", team_id=team, kind="peer")["items"]) == 1

    # Audit trail: one record per event, oldest first, actor is the principal
    audit = api.as_("auditor").get("/v1/audit", entity_id=incident)["items"]
    assert [a["entity_version"] for a in audit] == list(range(1, len(audit) + 1))
    assert {a["actor"] for a in audit} == {"user:max"}
    assert all(len(a["hash"]) == 64 and len(a["prev_hash"]) == 64 for a in audit)
    lead_changes = api.as_("auditor").get("/v1/audit", type="opsledger.teams.TeamLeadChanged.v1")
    assert lead_changes["items"][0]["reason"] == "most senior"
    export = api.as_("auditor").client.get(
        "/v1/audit/export", params={"format": "csv", "entity_id": incident},
        headers=api.as_("auditor").headers)
    assert export.status_code == 200
    assert len(export.text.strip().splitlines()) == len(audit) + 1

    # Compliance history: every version, and the state as of a time
    history = api.as_("auditor").get(f"/v1/compliance/entities/{incident}/history")["items"]
    assert [h["version"] for h in history] == [a["entity_version"] for a in audit]
    assert history[1]["state"]["status"] == "acknowledged"
    as_of = api.as_("auditor").get(f"/v1/compliance/entities/{incident}",
                                   as_of=history[1]["time"])
    assert as_of["version"] >= 2
    now = api.as_("auditor").get(f"/v1/compliance/entities/{incident}")
    assert now["state"]["status"] == "closed"
    api.as_("auditor").get(f"/v1/compliance/entities/{incident}", expect=404,
                           as_of="2000-01-01T00:00:00Z")

    # Performance: Bob's timeline and the team's metrics
    timeline = api.get(f"/v1/performance/members/{bob}/timeline")["items"]
    kinds = {t["kind"] for t in timeline}
    assert {"joined", "role_changed", "incident_responder", "feedback_about"} <= kinds
    month = datetime.now(UTC).strftime("%Y-%m")
    metrics = api.get(f"/v1/performance/teams/{team}/metrics", period="month")["items"]
    this_month = next(m for m in metrics if m["period"] == month)
    assert this_month["mtta_seconds"] is not None
    assert this_month["feedback_count"] == 2

    # Findings: nothing overdue in this tidy story except, possibly, none at all
    findings = api.as_("auditor").get("/v1/compliance/findings", team_id=team)["items"]
    assert all(f["status"] in {"open", "resolved"} for f in findings)
