"""Findings with a lifecycle over HTTP: an admin or an auditor waives a finding, accepts
it as a risk or reopens it, with a reason; never one whose evidence names them; the
finding shows its state and decisions, lapses back to open past its ``until``, and
every decision is in the audit trail and the finding's compliance history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema

from infra.contract.schemas import all_event_schemas
from tests.e2e.conftest import SCOPED_TEAM, Api

FINDINGS = "/v1/compliance/findings"


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def ahead(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def old_team(api: Api) -> str:
    """A team formed a day ago, brought in by an import run (so no backdated entry)."""
    run = api.post("/v1/imports", {"source": "csv", "reason": "the team's past"},
                   expect=201).json()["import_run_id"]
    return str(api.post("/v1/teams", {"name": "SRE", "occurred_at": ago(24 * 60)},
                        expect=201, **{"OpsLedger-Import-Run": run}).json()["id"])


def late_sev1(api: Api, opener: str = "member", team: str | None = None,
              minutes_ago: float = 50) -> tuple[str, str]:
    """A SEV1 opened ``minutes_ago`` by ``opener`` and never acknowledged: an open
    ``ack_sla`` finding (the SLA is 15 minutes). Answers (finding id, team id)."""
    team = team or old_team(api)
    incident = api.as_(opener).post("/v1/incidents", {
        "team_id": team, "severity": "SEV1", "service": "checkout", "summary": "down",
        "occurred_at": ago(minutes_ago)}, expect=201).json()
    return f"ack_sla:{incident['id']}", team


def shown(api: Api, finding_id: str) -> dict[str, Any]:
    return dict(api.as_("auditor").get(f"{FINDINGS}/{finding_id}", min_position=api.head()))


def decide(api: Api, finding_id: str, action: str, body: dict[str, Any], role: str = "auditor",
           expect: int | None = 200, **headers: str) -> Any:
    return api.as_(role).post(f"{FINDINGS}/{finding_id}/{action}", body, expect=expect,
                              **headers)


def test_an_auditor_waives_an_open_finding_and_it_shows_waived(api: Api) -> None:
    finding_id, team = late_sev1(api)
    assert shown(api, finding_id)["state"] == "open"
    until = ahead(30)

    answer = decide(api, finding_id, "waive", {"reason": "pager outage", "until": until}).json()

    assert (answer["finding_id"], answer["state"], answer["version"]) == (
        finding_id, "waived", 2)
    finding = shown(api, finding_id)
    assert (finding["status"], finding["state"]) == ("open", "waived")
    decision = finding["decision"]
    assert (decision["kind"], decision["by"], decision["reason"], decision["in_force"]) == (
        "waived", "user:audrey", "pager outage", True)
    assert datetime.fromisoformat(decision["until"]) == datetime.fromisoformat(until)
    assert finding["decisions"] == [decision]
    listed = api.as_("auditor").get(FINDINGS, team_id=team)["items"]
    assert [(f["id"], f["state"]) for f in listed] == [(finding_id, "waived")]


def test_the_findings_list_filters_on_state(api: Api) -> None:
    waived, team = late_sev1(api)
    accepted, _ = late_sev1(api, team=team)
    still_open, _ = late_sev1(api, team=team)
    decide(api, waived, "waive", {"reason": "known"})
    decide(api, accepted, "accept-risk", {"reason": "vendor fix in Q3", "until": ahead(90)},
           role="admin")

    def ids(state: str) -> list[str]:
        items = api.as_("auditor").get(FINDINGS, team_id=team, state=state,
                                       min_position=api.head())["items"]
        return [f["id"] for f in items]

    assert ids("waived") == [waived]
    assert ids("risk_accepted") == [accepted]
    assert ids("open") == [still_open]
    assert ids("resolved") == []
    api.as_("auditor").get(FINDINGS, expect=422, state="ignored")


def test_reopening_makes_it_open_again_and_each_state_refuses_what_does_not_apply(
        api: Api) -> None:
    finding_id, _ = late_sev1(api)
    head = api.head()
    refused = decide(api, finding_id, "reopen", {"reason": "why"}, expect=409).json()
    assert "only a waived or risk-accepted finding is reopened" in refused["detail"]
    assert api.head() == head

    decide(api, finding_id, "waive", {"reason": "known"})
    again = decide(api, finding_id, "accept-risk", {"reason": "r", "until": ahead(9)},
                   expect=409).json()
    assert "already waived by user:audrey" in again["detail"]
    reopened = decide(api, finding_id, "reopen", {"reason": "pager fixed"}, role="admin").json()

    assert reopened["state"] == "open"
    finding = shown(api, finding_id)
    assert finding["state"] == "open"
    assert [(d["kind"], d["by"]) for d in finding["decisions"]] == [
        ("waived", "user:audrey"), ("reopened", "user:admin")]


def test_only_an_admin_or_an_auditor_decides(api: Api) -> None:
    finding_id, _ = late_sev1(api, opener="admin")
    head = api.head()

    for role in ("member", "lead", "service"):
        problem = decide(api, finding_id, "waive", {"reason": "r"}, role=role, expect=403)
        assert "needs one of the roles admin, auditor" in problem.json()["detail"]
    assert api.head() == head


def test_a_principal_named_in_the_evidence_may_not_decide(api: Api) -> None:
    finding_id, _ = late_sev1(api, opener="admin")
    head = api.head()

    problem = decide(api, finding_id, "waive", {"reason": "mine"}, role="admin", expect=403)

    assert "segregation of duties" in problem.json()["detail"]
    assert api.head() == head
    decide(api, finding_id, "waive", {"reason": "independent"}, role="auditor")


def test_a_backdated_entrys_actor_may_not_decide_on_it(api: Api) -> None:
    team = old_team(api)
    api.post("/v1/incidents", {"team_id": team, "severity": "SEV4", "service": "db",
                               "summary": "slow", "occurred_at": ago(180)}, expect=201)
    [finding] = api.as_("auditor").get(FINDINGS, control="backdated_entry", team_id=team,
                                       min_position=api.head())["items"]
    assert finding["actor"] == "user:admin"

    decide(api, finding["id"], "accept-risk", {"reason": "r", "until": ahead(5)},
           role="admin", expect=403)
    decide(api, finding["id"], "accept-risk", {"reason": "entered late by design",
                                               "until": ahead(5)})
    assert shown(api, finding["id"])["state"] == "risk_accepted"


def test_an_unknown_finding_or_one_of_another_team_is_not_found(api: Api) -> None:
    finding_id, _ = late_sev1(api)
    head = api.head()

    for unknown in ("ack_sla:0b7f0a64-5d5e-4e4c-9a3f-2f1b6c1d9e01", "nothing", "ack_sla:"):
        decide(api, unknown, "waive", {"reason": "r"}, expect=404)
        api.as_("auditor").get(f"{FINDINGS}/{unknown}", expect=404)
    api.as_("scoped").get(f"{FINDINGS}/{finding_id}", expect=404)
    assert api.as_("scoped").get(FINDINGS, team_id=SCOPED_TEAM)["items"] == []
    assert api.head() == head


def test_bad_input_is_422_and_appends_nothing(api: Api) -> None:
    finding_id, _ = late_sev1(api)
    head = api.head()

    decide(api, finding_id, "accept-risk", {"reason": "no until"}, expect=422)
    decide(api, finding_id, "accept-risk", {"reason": "r", "until": "2030-01-01"}, expect=422)
    decide(api, finding_id, "waive", {"reason": "  "}, expect=422)
    decide(api, finding_id, "waive", {"reason": "r", "actor": "user:x"}, expect=422)
    too_far = decide(api, finding_id, "accept-risk", {"reason": "r", "until": ahead(367)},
                     expect=422).json()
    assert "at most a year" in too_far["detail"]
    past = decide(api, finding_id, "waive", {"reason": "r", "until": ago(1)}, expect=422)
    assert "must be after the decision" in past.json()["detail"]
    assert api.head() == head


def test_a_resolved_finding_takes_no_decision(api: Api) -> None:
    finding_id, _ = late_sev1(api)
    incident = finding_id.split(":", 1)[1]
    api.post(f"/v1/incidents/{incident}/acknowledge", expect=200)
    assert shown(api, finding_id)["state"] == "resolved"
    head = api.head()

    problem = decide(api, finding_id, "waive", {"reason": "r"}, expect=409).json()

    assert "a resolved finding stays resolved" in problem["detail"]
    assert api.head() == head


def test_a_waiver_past_its_until_is_open_again_by_itself(api: Api) -> None:
    finding_id, _ = late_sev1(api, minutes_ago=50)  # the finding opened 35 minutes ago

    answer = decide(api, finding_id, "waive", {
        "reason": "during the failover", "occurred_at": ago(30), "until": ago(10)}).json()

    assert answer["state"] == "open"
    finding = shown(api, finding_id)
    assert finding["state"] == "open"
    assert (finding["decision"]["kind"], finding["decision"]["in_force"]) == ("waived", False)
    decide(api, finding_id, "reopen", {"reason": "r"}, expect=409)
    decide(api, finding_id, "waive", {"reason": "again, for good"})
    assert shown(api, finding_id)["state"] == "waived"


def test_a_decision_before_the_finding_opened_is_409(api: Api) -> None:
    finding_id, _ = late_sev1(api, minutes_ago=50)  # opened 35 minutes ago
    head = api.head()

    problem = decide(api, finding_id, "waive", {"reason": "r", "occurred_at": ago(40)},
                     expect=409).json()

    assert "before its opening" in problem["detail"] and "must_not_precede" in problem
    assert api.head() == head


def test_a_retry_with_the_same_idempotency_key_appends_nothing(api: Api) -> None:
    finding_id, _ = late_sev1(api)
    first = decide(api, finding_id, "waive", {"reason": "known"},
                   **{"Idempotency-Key": "waive-1"}).json()
    head = api.head()

    again = decide(api, finding_id, "waive", {"reason": "known"},
                   **{"Idempotency-Key": "waive-1"}).json()

    assert (again["id"], again["version"], again["position"]) == (
        first["id"], first["version"], first["position"])
    assert api.head() == head


def test_every_decision_is_in_the_audit_trail_and_the_findings_history(api: Api) -> None:
    finding_id, team = late_sev1(api)
    waived = decide(api, finding_id, "waive", {"reason": "known"}).json()
    decide(api, finding_id, "reopen", {"reason": "fixed"}, role="admin")

    history = api.as_("auditor").get(f"/v1/compliance/entities/{finding_id}/history",
                                     min_position=api.head())["items"]

    assert [(r["event_name"], r["actor"], r["version"], r["team_id"]) for r in history] == [
        ("FindingTracked", "user:audrey", 1, team), ("FindingWaived", "user:audrey", 2, team),
        ("FindingReopened", "user:admin", 3, team)]
    assert history[-1]["state"]["decision"]["kind"] == "reopened"
    trail = api.as_("auditor").get("/v1/audit", entity_id=waived["id"])["items"]
    assert [(r["name"], r["actor"], r["reason"], r["team_id"]) for r in trail] == [
        ("FindingTracked", "user:audrey", None, team),
        ("FindingWaived", "user:audrey", "known", team),
        ("FindingReopened", "user:admin", "fixed", team)]
    assert {r["data"]["finding_id"] for r in trail} == {finding_id}
    assert {r["context"] for r in trail} == {"compliance"}
    api.as_("scoped").get(f"/v1/compliance/entities/{finding_id}/history", expect=404)


def test_decisions_are_published_as_compliance_events_that_match_their_schemas(
        api: Api) -> None:
    finding_id, _ = late_sev1(api)
    decide(api, finding_id, "accept-risk", {"reason": "vendor fix", "until": ahead(60)})
    decide(api, finding_id, "reopen", {"reason": "fixed"}, role="admin")
    decide(api, finding_id, "waive", {"reason": "for good"})
    schemas = all_event_schemas()

    feed = api.as_("auditor").get("/v1/events", after=0, limit=500)["items"]

    published = [e for e in feed if e["source"] == "urn:opsledger:compliance"]
    assert [e["type"] for e in published] == [
        f"opsledger.compliance.{name}.v1" for name in (
            "FindingTracked", "FindingRiskAccepted", "FindingReopened", "FindingWaived")]
    for event in published:
        jsonschema.validate(event, schemas[event["type"]],
                            format_checker=jsonschema.FormatChecker())
        assert event["data"]["finding_id"] == finding_id
    assert published[-1]["data"]["until"] is None
