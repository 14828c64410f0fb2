"""End to end: ``opsledger demo`` loads a month through the HTTP API, every read model
shows it, and a second run with the same seed appends nothing."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from infra.settings import Settings
from services.api.app import create_app
from services.cli.demo import DemoSummary, run_demo

TOKEN = "test-admin-token-123456"
TOKENS = json.dumps({TOKEN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}})
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_PAGES = 100


@pytest.fixture
def demo_client(tmp_path: Path) -> Iterator[TestClient]:
    # Zero-day postmortem deadline and zero-minute ack SLAs: the demo's events are all
    # stamped "now", so this is what makes the compliance controls fire at once.
    settings = Settings(data_dir=tmp_path, tokens=TOKENS, postmortem_working_days=0,
                        sev1_ack_minutes=0, sev2_ack_minutes=0)
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params, headers=AUTH)
    assert response.status_code == 200, (path, params, response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict)
    return body


def every(client: TestClient, path: str, position: int, **params: Any) -> list[dict[str, Any]]:
    """All items of a list query, page by page (bounded)."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        query = {"min_position": position, "limit": 500, **params}
        if cursor:
            query["cursor"] = cursor
        page = get(client, path, **query)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items
    raise AssertionError(f"{path} still had pages after {MAX_PAGES}")


def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


def test_demo_fills_every_read_model_and_reruns_idempotently(
    demo_client: TestClient,
) -> None:
    client = demo_client
    started = time.perf_counter()
    summary = run_demo("http://testserver", TOKEN, client=client, console=quiet())
    first_run = time.perf_counter() - started
    assert isinstance(summary, DemoSummary)
    pos = summary.last_position
    assert pos >= summary.requests - 1  # one event per command at least, on a fresh store
    print(f"\ndemo: {summary.requests} requests, last position {pos}, {first_run:.1f} s "
          f"({summary.requests_per_second:.0f} requests/s); {summary.counts}")

    # teams and rosters
    teams = every(client, "/v1/teams", pos)
    assert len(teams) >= 3
    assert {t["id"] for t in teams} >= set(summary.team_ids)
    rosters = [get(client, f"/v1/teams/{t}", min_position=pos) for t in summary.team_ids]
    members = [m for team in rosters for m in team["roster"]]
    assert len(members) >= 20
    assert all(team["lead_id"] for team in rosters)
    assert all(team["mission"] for team in rosters)
    assert any(not m["active"] for m in members), "a member left"
    leaver = next(m for m in members if not m["active"])
    member = get(client, f"/v1/members/{leaver['member_id']}", min_position=pos)
    assert member["active"] is False and member["left_at"]
    changed = [m for m in members if m["active"]]
    role_histories = [
        get(client, f"/v1/members/{m['member_id']}", min_position=pos)["roles"] for m in changed
    ]
    assert sum(len(h) > 1 for h in role_histories) >= 3, "several role changes"
    assert all(r["reason"] for h in role_histories for r in h)

    # goals: check-ins, progress, a revision, every outcome
    goals = every(client, "/v1/goals", pos)
    assert 2 * len(summary.team_ids) <= len(goals) <= 3 * len(summary.team_ids)
    assert all(len(g["check_ins"]) == 4 for g in goals)
    assert all(g["progress_pct"] is not None for g in goals)
    assert any(g["target_revisions"] for g in goals)
    assert {g["status"] for g in goals} == {"open", "achieved", "missed", "abandoned"}
    assert all(g["deadline"] > time.strftime("%Y-%m-%d") for g in goals)

    # incidents: every status and severity, postmortems on closed SEV1/SEV2
    incidents = every(client, "/v1/incidents", pos)
    assert len(incidents) >= 30
    assert {i["status"] for i in incidents} == {
        "open", "acknowledged", "mitigated", "resolved", "closed"}
    assert {i["severity"] for i in incidents} == {"SEV1", "SEV2", "SEV3", "SEV4"}
    for incident in incidents:
        if incident["status"] == "closed" and incident["severity"] in ("SEV1", "SEV2"):
            assert incident["postmortem"]["causes"]
            assert all(a["owner_id"] and a["due"] for a in incident["postmortem"]["action_items"])
    assert any(t["type"] == "IncidentEscalated" for i in incidents for t in i["timeline"])
    assert any(i["mtta_seconds"] is not None for i in incidents)
    assert any(i["root_cause"] for i in incidents)
    missing = [i for i in incidents
               if i["severity"] == "SEV2" and i["status"] == "resolved" and not i["postmortem"]]
    assert len(missing) == 1
    sev1 = every(client, "/v1/incidents", pos, severity="SEV1")
    assert sev1 and all(i["severity"] == "SEV1" for i in sev1)
    paged = get(client, "/v1/incidents", min_position=pos, limit=7)
    assert len(paged["items"]) == 7 and paged["next_cursor"]

    # feedback: customer and peer/manager, triaged and resolved
    feedback = every(client, "/v1/feedback", pos)
    assert len(feedback) >= 50
    assert {f["kind"] for f in feedback} == {"customer", "peer", "manager"}
    assert {f["channel"] for f in feedback if f["kind"] == "customer"} <= {
        "email", "chat", "phone", "survey"}
    assert all(f["subject_member_id"] for f in feedback if f["kind"] != "customer")
    assert sum(f["status"] == "resolved" for f in feedback) >= 20
    assert any(f["status"] == "triaged" for f in feedback)
    assert {f["priority"] for f in feedback if f["priority"]} <= {
        "low", "medium", "high", "urgent"}

    # audit trail, compliance, performance
    audit = get(client, "/v1/audit", min_position=pos, limit=10)
    assert audit["items"] and audit["next_cursor"]
    history = get(client, f"/v1/compliance/entities/{missing[0]['id']}/history",
                  min_position=pos)
    assert len(history["items"]) >= 3
    findings = get(client, "/v1/compliance/findings", min_position=pos)["items"]
    overdue = [f for f in findings if f["control"] == "postmortem_overdue"
               and f["status"] == "open"]
    assert [f["subject_id"] for f in overdue] == [missing[0]["id"]]
    assert any(f["control"] == "ack_sla" for f in findings)
    metrics = get(client, f"/v1/performance/teams/{summary.team_ids[0]}/metrics",
                  min_position=pos, period="month")
    assert metrics["items"]
    assert any(row["mtta_seconds"] is not None for row in metrics["items"])
    assert any(row["feedback_count"] for row in metrics["items"])
    owner = goals[0]["owner_id"]
    timeline = get(client, f"/v1/performance/members/{owner}/timeline", min_position=pos)
    assert timeline["items"]

    # the event log ends at the demo's last position
    # (positions also number the stored idempotency-key records, which the feed skips,
    # so the head may lie just past the last event's position)
    events = get(client, "/v1/events", after=0, limit=500)
    assert events["items"] and events["head"] >= pos
    head = events["head"]
    assert get(client, "/v1/events", after=pos)["items"] == []

    # a second run with the same seed replays: same answers, nothing appended
    again = run_demo("http://testserver", TOKEN, client=client, console=quiet())
    assert again.last_position == pos
    assert again.counts == summary.counts
    after = get(client, "/v1/events", after=pos)
    assert after["items"] == []
    assert after["head"] == head
