"""Control policies over HTTP: every control with its thresholds in force and every
version (the settings' first), an admin adds a version, and findings judge each fact
by the version in force when it happened. Refusals are problems that append nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.e2e.conftest import Api, bearer

RUN_HEADER = "OpsLedger-Import-Run"
SLA = {"sev1_ack_minutes": 30, "sev2_ack_minutes": 90}


def at(days_ago: float, minutes: float = 0) -> str:
    moment = datetime.now(UTC) - timedelta(days=days_ago) + timedelta(minutes=minutes)
    return moment.isoformat()


def put(client: TestClient, control: str, body: Any, role: str = "admin",
        expect: int | None = None, **headers: str) -> Any:
    r = client.put(f"/v1/compliance/controls/{control}", json=body,
                   headers={**bearer(role), **headers})
    if expect is not None:
        assert r.status_code == expect, (r.status_code, r.text)
    return r


def version(thresholds: dict[str, Any] | None = None, effective_from: str | None = None,
            reason: str = "new support contract", **extra: Any) -> dict[str, Any]:
    return {"thresholds": SLA if thresholds is None else thresholds,
            "effective_from": effective_from or at(-1), "reason": reason, **extra}


def controls(api: Api, role: str = "auditor", **params: Any) -> dict[str, dict[str, Any]]:
    items = api.as_(role).get("/v1/compliance/controls", **params)["items"]
    return {item["control"]: item for item in items}


def test_every_control_is_listed_with_the_settings_as_its_first_version(api: Api) -> None:
    listed = controls(api)

    assert list(listed) == ["ack_sla", "postmortem_overdue", "action_item_overdue",
                            "target_revised_after_deadline", "self_role_change",
                            "backdated_entry", "risk_review_overdue", "high_risk_untreated",
                            "plan_not_exercised", "risk_accepted_by_owner",
                            "training_overdue", "training_expired", "policy_unacknowledged"]
    assert listed["ack_sla"]["thresholds"] == {"sev1_ack_minutes": 15, "sev2_ack_minutes": 60}
    assert listed["postmortem_overdue"]["thresholds"] == {"postmortem_working_days": 5}
    assert listed["backdated_entry"]["thresholds"] == {"backdate_tolerance_minutes": 60}
    assert listed["self_role_change"]["thresholds"] == {}
    assert listed["ack_sla"]["version_in_force"] == 1
    assert listed["ack_sla"]["versions"] == [{
        "version": 1, "thresholds": {"sev1_ack_minutes": 15, "sev2_ack_minutes": 60},
        "effective_from": None, "by": "settings", "recorded_at": None,
        "reason": "the deployment's settings (OPSLEDGER_* variables)", "event_id": None,
        "import_run_id": None}]


@pytest.mark.parametrize("role", ["admin", "lead", "auditor", "scoped"])
def test_readers_of_compliance_see_the_controls(api: Api, role: str) -> None:
    assert len(controls(api, role)) == 13


@pytest.mark.parametrize("role", ["member", "service"])
def test_others_may_not_read_them(api: Api, role: str) -> None:
    api.as_(role).get("/v1/compliance/controls", expect=403)


def test_an_admin_adds_a_version_that_takes_effect_when_it_says(
        api: Api, client: TestClient) -> None:
    effective = at(-1)
    answer = put(client, "ack_sla", version(effective_from=effective), expect=200)

    body = answer.json()
    assert (body["control"], body["policy_version"], body["version"]) == ("ack_sla", 2, 1)
    assert answer.headers["ETag"] == '"1"'
    listed = controls(api, min_position=body["position"])["ack_sla"]
    assert listed["version_in_force"] == 1  # not yet: tomorrow
    assert listed["thresholds"] == {"sev1_ack_minutes": 15, "sev2_ack_minutes": 60}
    added = listed["versions"][1]
    assert (added["version"], added["thresholds"], added["by"], added["reason"]) == (
        2, SLA, "user:admin", "new support contract")
    assert datetime.fromisoformat(added["effective_from"]) == datetime.fromisoformat(effective)
    assert added["recorded_at"] is not None and added["event_id"] is not None

    now = put(client, "ack_sla", version({"sev1_ack_minutes": 20, "sev2_ack_minutes": 90},
                                         effective_from=effective, reason="sooner"),
              expect=200).json()
    listed = controls(api, min_position=now["position"])["ack_sla"]
    assert [v["version"] for v in listed["versions"]] == [1, 2, 3]
    assert now["policy_version"] == 3


def test_a_version_in_force_now_is_answered_as_the_thresholds(api: Api,
                                                               client: TestClient) -> None:
    answer = put(client, "postmortem_overdue",
                 version({"postmortem_working_days": 3}, effective_from=at(0)),
                 expect=200).json()

    listed = controls(api, min_position=answer["position"])["postmortem_overdue"]
    assert (listed["thresholds"], listed["version_in_force"]) == (
        {"postmortem_working_days": 3}, 2)


def test_a_whole_number_written_as_a_float_is_that_number(api: Api,
                                                          client: TestClient) -> None:
    answer = put(client, "ack_sla", version({"sev1_ack_minutes": 30.0,
                                             "sev2_ack_minutes": 90}), expect=200).json()

    listed = controls(api, min_position=answer["position"])["ack_sla"]
    assert listed["versions"][1]["thresholds"] == SLA


@pytest.mark.parametrize("role", ["lead", "auditor", "member", "scoped"])
def test_only_an_admin_adds_a_version(api: Api, client: TestClient, role: str) -> None:
    head = api.head()
    put(client, "ack_sla", version(), role=role, expect=403)
    assert api.head() == head


@pytest.mark.parametrize(("control", "body", "status", "detail"), [
    ("mtta", version(), 404, "does not exist"),
    ("self_role_change", version({}), 422, "has no thresholds"),
    ("ack_sla", version({"sev1_ack_minutes": 30}), 422, "missing sev2_ack_minutes"),
    ("ack_sla", version({**SLA, "sev3_ack_minutes": 5}), 422, "unknown sev3_ack_minutes"),
    ("ack_sla", version({"sev1_ack_minutes": 0, "sev2_ack_minutes": 90}), 422, None),
    ("ack_sla", version({"sev1_ack_minutes": "30", "sev2_ack_minutes": 90}), 422, None),
    ("ack_sla", version({"sev1_ack_minutes": 30.5, "sev2_ack_minutes": 90}), 422, None),
    ("ack_sla", version(effective_from="2026-11-01T00:00:00"), 422, None),
    ("ack_sla", version(effective_from="next monday"), 422, None),
    ("ack_sla", version(reason=" "), 422, None),
    ("ack_sla", {"thresholds": SLA, "reason": "no time"}, 422, None),
    ("ack_sla", version(extra_field=1), 422, None),
    ("ack_sla", version(effective_from=at(1)), 422, "can't re-judge what already happened"),
])
def test_a_bad_version_is_a_problem_that_appends_nothing(
        api: Api, client: TestClient, control: str, body: dict[str, Any], status: int,
        detail: str | None) -> None:
    head = api.head()

    r = put(client, control, body, expect=status)

    assert r.headers["content-type"] == "application/problem+json"
    if detail:
        assert detail in r.json()["detail"]
    assert api.head() == head


def test_a_version_before_the_previous_one_is_a_conflict_naming_it(
        api: Api, client: TestClient) -> None:
    put(client, "ack_sla", version(effective_from=at(-10)), expect=200)
    head = api.head()

    r = put(client, "ack_sla", version(effective_from=at(-5)), expect=409)

    assert "version 2 of the ack_sla policy takes effect at" in r.json()["detail"]
    assert r.json()["previous_version"] == 2
    assert api.head() == head


def test_a_repeated_idempotency_key_returns_the_first_answer_and_appends_nothing(
        api: Api, client: TestClient) -> None:
    key = {"Idempotency-Key": f"k-{uuid4()}"}
    body = version()
    first = put(client, "ack_sla", body, expect=200, **key).json()
    head = api.head()

    assert put(client, "ack_sla", body, expect=200, **key).json() == first
    assert api.head() == head
    put(client, "ack_sla", {**body, "reason": "another"}, expect=422, **key)
    assert api.head() == head


def test_every_version_is_in_the_audit_trail_and_the_policys_history(
        api: Api, client: TestClient) -> None:
    answer = put(client, "ack_sla", version(), expect=200).json()

    trail = api.as_("auditor").get("/v1/audit", entity_id=answer["id"],
                                   min_position=answer["position"])["items"]
    assert [(r["name"], r["actor"], r["reason"], r["context"]) for r in trail] == [
        ("ControlPolicyCreated", "user:admin", "new support contract", "compliance")]
    assert trail[0]["data"]["thresholds"] == SLA
    policy_id = controls(api)["ack_sla"]["policy_id"]
    assert policy_id == answer["id"]
    history = api.as_("auditor").get(f"/v1/compliance/entities/{policy_id}/history")["items"]
    assert [(h["version"], h["event_name"]) for h in history] == [(1, "ControlPolicyCreated")]
    assert history[0]["state"]["control"] == "ack_sla"


def test_a_sev1_of_october_keeps_octobers_sla_after_the_sla_changes_in_november(
        api: Api, client: TestClient) -> None:
    """Brought in by an import run, as a team's history would be: the October SEV1
    and the November SEV1 were both acknowledged after 20 minutes; the SLA became 30
    minutes in between. Only October's is late."""
    run = api.post("/v1/imports", {"source": "pagerduty export", "reason": "our autumn"},
                   expect=201).json()["import_run_id"]
    in_run = {RUN_HEADER: run}
    team = api.post("/v1/teams", {"name": "SRE", "occurred_at": at(90)}, expect=201,
                    **in_run).json()["id"]

    def sev1_acked_after_20_minutes(days_ago: float) -> str:
        incident = api.post("/v1/incidents", {
            "team_id": team, "severity": "SEV1", "service": "checkout",
            "summary": "5xx spike", "occurred_at": at(days_ago)}, expect=201, **in_run)
        incident_id = str(incident.json()["id"])
        api.post(f"/v1/incidents/{incident_id}/acknowledge",
                 {"occurred_at": at(days_ago, minutes=20)}, expect=200, **in_run)
        return incident_id

    october = sev1_acked_after_20_minutes(45)
    put(client, "ack_sla", version(effective_from=at(30), occurred_at=at(31)), expect=200,
        **in_run)
    november = sev1_acked_after_20_minutes(20)
    head = api.head()

    found = api.as_("auditor").get("/v1/compliance/findings", control="ack_sla",
                                   min_position=head)["items"]

    assert [f["subject_id"] for f in found] == [october]
    assert found[0]["summary"].endswith("the SLA is 15 minutes")
    assert november not in {f["subject_id"] for f in found}
