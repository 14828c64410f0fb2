"""End to end: ``opsledger demo`` loads five weeks of business-time history through the
HTTP API, inside one import run, acted by personas with their own tokens; with the
default settings every compliance control finds something, every team has weekly
metrics, and the figures look like a real month: action items done on time and late
(their findings resolved) or still overdue, moved, reassigned, cancelled and added;
``ack_sla`` with two versions, judging the pages before and after the change; a
waiver and an accepted risk by the auditor; a risk register with contingency plans, a
drill and incidents linked to what foresaw them (:mod:`tests.e2e.demo_risks`);
trainings done on time, late and not at all, one expired, and a policy update some
members did not acknowledge (:mod:`tests.e2e.demo_people`). A
second run appends nothing; a run after an interrupted one finishes it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from infra.settings import Settings
from projections.times import parse_time
from services.api.app import create_app
from services.cli.demo import DemoError, DemoSummary, run_demo
from services.cli.demo.figures import CONTROLS
from services.cli.demo.plan import Step
from services.cli.demo.scenario import AUDITOR, PERSONAS
from tests.e2e.demo_people import check_the_people
from tests.e2e.demo_risks import check_the_risks

TOKEN = "test-admin-token-123456"
TOKENS = json.dumps({TOKEN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}})
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_PAGES = 100


@pytest.fixture
def demo_client(tmp_path: Path) -> Iterator[TestClient]:
    # the default settings: SEV1/SEV2 ack SLAs of 15/60 minutes, postmortems within 5
    # working days, a backdate tolerance of 60 minutes
    app = create_app(Settings(data_dir=tmp_path, tokens=TOKENS))
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
    query: dict[str, Any] = {"min_position": position, "limit": 500, **params}
    for _ in range(MAX_PAGES):
        page = get(client, path, **query)
        items += page["items"]
        if not page.get("next_cursor"):
            return items
        query["cursor"] = page["next_cursor"]
    raise AssertionError(f"{path} still had pages after {MAX_PAGES}")


def quiet() -> Console:
    return Console(file=io.StringIO(), width=160)


def head(client: TestClient) -> int:
    return int(get(client, "/v1/events", after=0, limit=1)["head"])


def entity_of(step: Step) -> str:
    """The entity a planned step changes: its path's id, or the id a create names."""
    parts = step.path.split("/")
    if len(parts) > 3:
        return parts[3]
    body = step.body or {}
    return str(next(body[k] for k in ("incident_id", "feedback_id", "goal_id") if k in body))


def check_the_month(client: TestClient, summary: DemoSummary) -> None:
    """The figures the demo promises, read through the API as an auditor would."""
    pos = summary.last_position
    findings = every(client, "/v1/compliance/findings", pos)
    by_control = {c: [f for f in findings if f["control"] == c] for c in CONTROLS}
    assert all(by_control.values()), {c: len(f) for c, f in by_control.items()}

    # the late entries (and only they) are backdated_entry findings, by their personas
    late = summary.late_entries
    assert len(late) >= 3 and all(not s.in_run for s in late)
    backdated = by_control["backdated_entry"]
    assert len(backdated) == len(late)
    assert sorted(f["actor"] for f in backdated) == sorted(s.actor for s in late)
    for finding in backdated:
        recorded, occurred = parse_time(finding["recorded_at"]), parse_time(finding["occurred_at"])
        assert recorded - occurred > timedelta(minutes=60)
    assert {f["subject_id"] for f in backdated} == {entity_of(s) for s in late}

    # someone changed their own role: the lead bound to that member
    (self_change,) = by_control["self_role_change"]
    member = get(client, f"/v1/members/{self_change['subject_id']}", min_position=pos)
    assert member["principal"] == "user:amara.okafor" and member["is_lead"]

    # weekly metrics in at least four periods per team; median TTA within 1-60 min
    all_times = []
    for team_id in summary.team_ids:
        rows = get(client, f"/v1/performance/teams/{team_id}/metrics", period="week",
                   min_position=pos)["items"]
        weeks = [r for r in rows if r["incidents_opened"]
                 and r["time_to_acknowledge_seconds"]["count"]]
        assert len(weeks) >= 4, (team_id, [r["period"] for r in rows])
        incidents = every(client, "/v1/incidents", pos, team_id=team_id)
        times = [i["time_to_acknowledge_seconds"] for i in incidents
                 if i["time_to_acknowledge_seconds"] is not None and not i["duplicate_of"]]
        assert 60 <= median(times) <= 3600, (team_id, sorted(times))
        all_times += times
    assert 60 <= median(all_times) <= 3600

    # the import run is finished, with its counts in the run and in the audit trail
    run = get(client, f"/v1/imports/{summary.import_run_id}")
    assert run["status"] == "finished" and run["opened_by"] == "user:admin"
    assert run["events_recorded"] == sum(run["by_context"].values()) == summary.run_events > 500
    assert set(run["by_context"]) == {"teams", "goals", "incidents", "feedback", "compliance",
                                    "risks", "people"}
    audit = every(client, "/v1/audit", pos)
    (finished,) = [r for r in audit if r["name"] == "ImportRunFinished"]
    assert finished["data"]["events_recorded"] == run["events_recorded"]

    # who did what: many actors, each command by the persona who made it
    actors = {r["actor"] for r in audit}
    assert len(actors) >= 10, actors
    assert {p.principal for p in PERSONAS} <= actors  # the auditor decided on findings
    assert {r["name"] for r in audit if r["actor"] == "service:alertmanager"} == {
        "IncidentOpened"}
    imported = [r for r in audit if r["import_run_id"] == summary.import_run_id]
    assert len(imported) == run["events_recorded"]

    # five weeks of business time ending at the anchor, recorded just now
    anchor = parse_time(summary.anchor)
    times = [parse_time(r["time"]) for r in imported]
    assert min(times) == anchor - timedelta(days=35) and max(times) <= anchor
    assert all(parse_time(r["recorded_at"]) >= anchor for r in imported)

    check_follow_ups(client, summary, findings, audit)
    check_the_threshold_change(client, summary, by_control["ack_sla"])
    check_the_decisions(client, summary, findings, audit)
    check_the_risks(lambda path, **params: get(client, path, **params),
                    lambda path, position, **params: every(client, path, position, **params),
                    summary, findings, audit)
    check_the_people(lambda path, **params: get(client, path, **params),
                     lambda path, position, **params: every(client, path, position, **params),
                     summary, findings, audit)


def check_follow_ups(client: TestClient, summary: DemoSummary,
                     findings: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
    """Action items done on time and late, left overdue, moved, reassigned, cancelled,
    added after the postmortem; each overdue one a finding, resolved when put right."""
    pos = summary.last_position
    items = [i for team_id in summary.team_ids
             for i in every(client, "/v1/action-items", pos, team_id=team_id)]
    finding_of = {f["item_id"]: f for f in findings if f["control"] == "action_item_overdue"}
    done = [i for i in items if i["status"] == "done"]
    on_time = [i for i in done if i["id"] not in finding_of]
    late = [i for i in done if i["id"] in finding_of]
    assert on_time and late
    for item in late:  # resolved when it was completed, by how late it was
        finding = finding_of[item["id"]]
        assert finding["status"] == "resolved" and finding["resolved_at"] == item["completed_at"]
        assert finding["breached_by_seconds"] > 0
    overdue = [i for i in items if i["status"] == "overdue"]
    assert overdue and all(finding_of[i["id"]]["status"] == "open" for i in overdue)
    assert any(finding_of[i["id"]]["state"] == "open" for i in overdue)

    moved = [i for i in items if i["due_history"]]
    moved_late = [i for i in moved if i["id"] in finding_of
                  and finding_of[i["id"]]["late_due_changes"]]
    assert [i for i in moved if i["id"] not in finding_of]  # moved before it passed
    (late_move,) = moved_late  # moved after it had passed: evidence, not a reset
    finding = finding_of[late_move["id"]]
    change = late_move["due_history"][0]
    assert finding["status"] == "open" and finding["late_due_changes"][0]["event_id"] == (
        change["event_id"])
    assert change["event_id"] in finding["evidence_event_ids"]
    assert finding["opened_at"] < change["at"] and change["due"] > change["from_due"]

    (reassigned,) = [i for i in items if i["owner_history"]]
    assert reassigned["owner_history"][0]["from_owner_id"] != reassigned["owner_id"]
    (cancelled,) = [i for i in items if i["status"] == "cancelled"]
    assert cancelled["cancel_reason"] and cancelled["id"] not in finding_of
    (added,) = [r for r in audit if r["name"] == "ActionItemAdded"]
    assert added["data"]["item_id"] in {i["id"] for i in items}
    assert added["import_run_id"] == summary.import_run_id


def check_the_threshold_change(client: TestClient, summary: DemoSummary,
                               ack_sla: list[dict[str, Any]]) -> None:
    """ack_sla has two versions: pages before the change are judged by the settings'
    SLA, pages after it by version 2, one of them late by the new SLA only."""
    controls = {c["control"]: c for c in get(
        client, "/v1/compliance/controls", min_position=summary.last_position)["items"]}
    policy = controls["ack_sla"]
    assert [v["version"] for v in policy["versions"]] == [1, 2]
    assert policy["version_in_force"] == 2
    v2 = policy["versions"][1]
    assert v2["by"] == "user:admin" and v2["reason"] and v2["import_run_id"] == (
        summary.import_run_id)
    assert v2["thresholds"] == {"sev1_ack_minutes": 15, "sev2_ack_minutes": 30}
    effective = parse_time(v2["effective_from"])
    assert effective < parse_time(summary.anchor) - timedelta(days=14)
    assert all(len(c["versions"]) == 1 for name, c in controls.items() if name != "ack_sla")

    by_v2 = [f for f in ack_sla if "(policy version 2)" in f["summary"]]
    by_v1 = [f for f in ack_sla if "(policy version" not in f["summary"]]
    assert by_v1 and all(parse_time(f["opened_at"]) < effective + timedelta(hours=2)
                         for f in by_v1)
    assert by_v2 and all(parse_time(f["opened_at"]) > effective for f in by_v2)
    # a SEV2 acknowledged within the settings' 60 minutes, past the new 30: a finding
    # only because the version in force when it was opened says so
    slow = [f for f in by_v2 if f["severity"] == "SEV2" and f["status"] == "resolved"
            and 30 * 60 < get(client, f"/v1/incidents/{f['subject_id']}")["mtta_seconds"]
            < 60 * 60]
    assert slow and "the SLA is 30 minutes (policy version 2)" in slow[0]["summary"]
    assert summary.figures.judged_by["ack_sla"].keys() == {1, 2}


def check_the_decisions(client: TestClient, summary: DemoSummary,
                        findings: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
    """The auditor waived one finding and accepted another as a risk (still in force),
    and waived then reopened a third; each decision is in the trail, in the run."""
    decided = {f["state"]: f for f in findings if f["decisions"]}
    assert {"waived", "risk_accepted", "open"} <= set(decided)
    now = parse_time(summary.anchor)
    for state in ("waived", "risk_accepted"):
        decision = decided[state]["decision"]
        assert decision["by"] == AUDITOR and decision["kind"] == state
        assert decision["reason"] and decision["in_force"]
        assert parse_time(decision["until"]) > now + timedelta(days=30)
        assert parse_time(decision["at"]) >= parse_time(decided[state]["opened_at"])
    assert decided["risk_accepted"]["control"] == "action_item_overdue"
    assert [d["kind"] for d in decided["open"]["decisions"]] == ["waived", "reopened"]
    records = [r for r in audit if r["actor"] == AUDITOR]
    assert {"FindingWaived", "FindingRiskAccepted", "FindingReopened"} <= {
        r["name"] for r in records}
    assert {r["import_run_id"] for r in records} == {summary.import_run_id}
    history = get(client, f"/v1/compliance/entities/{decided['waived']['id']}/history")
    assert history["items"]
    assert summary.figures.findings["action_item_overdue"]["risk_accepted"] == 1
    assert summary.figures.follow_ups.done_late == len(
        [f for f in findings if f["control"] == "action_item_overdue"
         and f["status"] == "resolved" and "completed" in f["summary"]])


def test_the_demo_is_a_month_of_business_time_acted_by_personas_and_reruns_idempotently(
    demo_client: TestClient, tmp_path: Path,
) -> None:
    client = demo_client
    saved = tmp_path / "demo-tokens.json"
    shown = io.StringIO()
    summary = run_demo("http://testserver", TOKEN, client=client,
                       console=Console(file=shown, width=160), save_tokens_to=saved)
    print(f"\ndemo: {summary.commands_sent} commands, {summary.requests} requests, "
          f"{summary.elapsed_seconds:.1f} s; findings "
          f"{ {c: summary.figures.finding_count(c) for c in CONTROLS} }; teams "
          f"{[(t.name, t.median_tta_minutes, t.weekly_periods) for t in summary.figures.teams]}")
    assert not summary.already_loaded and summary.commands_sent == sum(summary.counts.values())
    check_the_month(client, summary)

    # the figures the demo printed are the ones the API answers
    assert all(summary.figures.finding_count(c) >= 1 for c in CONTROLS)
    assert all(t.weekly_periods >= 4 for t in summary.figures.teams)
    assert all(1 <= (t.median_tta_minutes or 0) <= 60 for t in summary.figures.teams)
    assert len(summary.figures.actors) >= 10
    # ... and it prints the follow-ups, the control version added and the decisions
    first = " ".join(shown.getvalue().split())
    items = summary.figures.follow_ups
    assert f"Done late (their action_item_overdue finding resolved late): {items.done_late}" in (
        first)
    assert "ack_sla version 2 by user:admin" in first and "policy version 2: " in first
    assert f"is risk_accepted: risk accepted by {AUDITOR}" in first
    assert f"is waived: waived by {AUDITOR}" in first
    # ... and the risk register, its heat map, the plans and the acceptances
    risks = summary.figures.risks
    assert f"Heat map of the {risks.mapped} risks not closed" in first
    assert "Risks by status: open 1, treated 6, accepted 2, closed 1" in first
    assert "version 2 (2 kept), 1 drill(s), incidents linked: 1 plan followed" in first
    assert ("(owner Amara Okafor): approver Mei Lin Chen, recorded by Amara Okafor"
            in first)
    # ... and the training matrix and the policies' acknowledgements
    people = summary.figures.people
    pending = sum(p.pending for p in people.policies)
    assert "Training matrix (GET /v1/trainings/matrix)" in first
    assert ("Trainings: assigned 22, done 17, overdue 4, expired 1; policies: 4, "
            f"acknowledgements pending {pending}") in first and pending == 5

    # one token per persona, issued through the API, each acting as its member
    tokens = every(client, "/v1/tokens", summary.last_position, status="active")
    assert sorted((t["principal"], t["roles"][0]) for t in tokens) == sorted(
        (p.principal, p.role) for p in PERSONAS)
    assert [t.status for t in summary.tokens] == ["issued"] * len(PERSONAS)
    # their secrets only in the private file asked for; each token has its persona's role
    assert saved.stat().st_mode & 0o777 == 0o600
    kept = {t["principal"]: t["token"] for t in json.loads(saved.read_text())}
    assert set(kept) == {p.principal for p in PERSONAS}
    auditor = {"Authorization": f"Bearer {kept['user:ingrid.larsen']}"}
    assert client.get("/v1/compliance/findings", headers=auditor).status_code == 200
    assert client.post("/v1/teams", json={"name": "X"}, headers=auditor).status_code == 403
    member = {"Authorization": f"Bearer {kept['user:ravi.iyer']}"}
    assert client.get(f"/v1/teams/{summary.team_ids[0]}", headers=member).status_code == 403

    # a second run sends nothing, appends nothing, and says so
    before = head(client)
    output = io.StringIO()
    again = run_demo("http://testserver", TOKEN, client=client,
                     console=Console(file=output, width=160))
    assert again.already_loaded and again.commands_sent == 0
    assert head(client) == before and again.last_position == summary.last_position
    assert again.counts == summary.counts and again.anchor == summary.anchor
    assert [(t.principal, t.token_id, t.status, t.secret) for t in again.tokens] == [
        (t.principal, t.token_id, "existing", None) for t in summary.tokens]
    printed = " ".join(output.getvalue().split())  # as printed, without the line wrapping
    assert "is already loaded" in printed and "Nothing was sent and nothing appended" in printed


class CutAfter:
    """An HTTP client whose connection drops after ``n`` requests."""

    def __init__(self, client: TestClient, n: int) -> None:
        self.client, self.left = client, n

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:
        self.left -= 1
        if self.left < 0:
            raise httpx.ConnectError("connection reset")
        return self.client.request(*args, **kwargs)


def test_a_run_after_an_interrupted_one_finishes_the_month_without_doubling_anything(
    demo_client: TestClient,
) -> None:
    client = demo_client
    with pytest.raises(DemoError, match="connection reset"):
        run_demo("http://testserver", TOKEN, client=cast(httpx.Client, CutAfter(client, 150)),
                 console=quiet())
    interrupted = head(client)

    summary = run_demo("http://testserver", TOKEN, client=client, console=quiet())

    assert not summary.already_loaded and head(client) > interrupted
    # every persona's token was issued before the cut; their secrets were lost with the
    # interrupted run, so each was revoked and issued again
    assert [t.status for t in summary.tokens] == ["re-issued"] * len(PERSONAS)
    revoked = every(client, "/v1/tokens", summary.last_position, status="revoked")
    assert len(revoked) == len(PERSONAS)
    assert all("interrupted" in t["revoked_reason"] for t in revoked)
    check_the_month(client, summary)
    # nothing was done twice: one opening per planned incident, one join per member
    audit = every(client, "/v1/audit", summary.last_position)
    assert sum(r["name"] == "IncidentOpened" for r in audit) == summary.counts["incidents"]
    assert sum(r["name"] == "MemberJoined" for r in audit) == summary.counts["members"]

    again = run_demo("http://testserver", TOKEN, client=client, console=quiet())
    assert again.already_loaded and again.last_position == summary.last_position
