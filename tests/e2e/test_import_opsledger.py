"""End to end: ``opsledger import --format opsledger`` through the HTTP API (a FastAPI
TestClient). Given a JSONL file of named commands, then the teams, members, incidents,
goals, feedback and a postmortem's follow-ups are in the read models at the times the
lines say, in one import run; running it again appends nothing; a malformed line, or
one the API refuses, is refused with its line number while the rest imports."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from services.cli.importers import ImportReport, run_import
from services.cli.importers.plan import entity_id
from tests.e2e.conftest import Api, bearer

TOKEN = bearer("admin")["Authorization"].removeprefix("Bearer ")


def jsonl(tmp_path: Path, *lines: Any) -> Path:
    path = tmp_path / "history.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines))
    return path


def imported(api: Api, path: Path) -> tuple[ImportReport, str]:
    out = io.StringIO()
    report = run_import(path, "opsledger", "http://testserver", TOKEN, client=api.client,
                        console=Console(file=out, width=200))
    return report, out.getvalue()


def line(source_id: str, occurred_at: str, command: str, body: dict[str, Any] | None = None,
         **refs: str) -> dict[str, Any]:
    return {"source_id": f"acme:{source_id}", "occurred_at": occurred_at, "command": command,
            **refs, **({"body": body} if body is not None else {})}


def oid(kind: str, source_id: str) -> str:
    return entity_id("opsledger", kind, source_id)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


HISTORY = [
    line("t1", "2024-01-08T09:00:00Z", "team.form", {"name": "SRE"}, team="sre"),
    line("m1", "2024-01-08T09:05:00Z", "member.join",
         {"name": "Ada Lovelace", "email": "ada@example.com", "role": "SRE"},
         team="sre", member="ada"),
    line("g1", "2024-01-09T10:00:00Z", "goal.set",
         {"title": "MTTA under 5 min", "metric": "mtta", "baseline": 12, "target": 5,
          "unit": "min", "deadline": "2024-06-30"}, goal="mtta", team="sre", owner="ada"),
    line("i1", "2024-03-01T14:00:00Z", "incident.open",
         {"severity": "SEV2", "service": "checkout", "summary": "5xx above SLO"},
         incident="INC-42", team="sre"),
    line("i2", "2024-03-01T14:04:00Z", "incident.acknowledge", incident="INC-42"),
    line("i3", "2024-03-01T14:05:00Z", "incident.assign", incident="INC-42", responder="ada"),
    line("i4", "2024-03-01T15:10:00+01:00", "incident.resolve", {"summary": "rolled back"},
         incident="INC-42"),
    line("f1", "2024-03-02T08:00:00Z", "feedback.give",
         {"kind": "peer", "text": "calm incident lead"}, feedback="fb-1", team="sre",
         subject="ada"),
]


def test_a_history_is_imported_at_its_times_in_one_run_and_a_rerun_appends_nothing(
        api: Api, tmp_path: Path) -> None:
    path = jsonl(tmp_path, *HISTORY)

    report, printed = imported(api, path)

    assert report.complete
    assert (report.units.read, report.units.imported) == (8, 8)
    assert report.by_command["incident.open"] == 1 and report.by_command["goal.set"] == 1
    head = api.head()
    team = api.get(f"/v1/teams/{oid('team', 'sre')}", min_position=head)
    assert at(team["formed_at"]) == at("2024-01-08T09:00:00Z")
    assert [m["email"] for m in team["roster"]] == ["ada@example.com"]
    incident = api.get(f"/v1/incidents/{oid('incident', 'INC-42')}", min_position=head)
    assert at(incident["opened_at"]) == at("2024-03-01T14:00:00Z")
    assert at(incident["acknowledged_at"]) == at("2024-03-01T14:04:00Z")
    assert at(incident["resolved_at"]) == at("2024-03-01T14:10:00Z")  # +01:00 read as such
    assert incident["mttr_seconds"] == 10 * 60
    goal = api.get(f"/v1/goals/{oid('goal', 'mtta')}", min_position=head)
    assert goal["owner_id"] == oid("member", "ada")
    feedback = api.get(f"/v1/feedback/{oid('feedback', 'fb-1')}", min_position=head)
    assert feedback["subject_member_id"] == oid("member", "ada")
    [run] = report.runs
    trail = api.get("/v1/audit", entity_id=incident["id"], min_position=head)["items"]
    assert {r["import_run_id"] for r in trail} == {run.import_run_id}
    assert "8 events recorded" in printed

    again, _ = imported(api, path)

    assert api.head() == head
    assert (again.units.already_there, again.units.imported, again.runs) == (8, 0, [])


def test_malformed_or_refused_lines_are_listed_by_line_number_and_the_rest_imports(
        api: Api, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        HISTORY[0],
        "{not json",
        line("x1", "2024-03-01T14:00:00Z", "incident.explode", incident="INC-1"),
        line("x2", "2024-03-01T14:00:00Z", "incident.acknowledge", incident="INC-404"),
        line("x3", "2024-01-01T00:00:00Z", "incident.open",
             {"severity": "SEV2", "service": "db", "summary": "before the team"},
             incident="INC-0", team="sre"),
        HISTORY[1],
    )

    report, printed = imported(api, path)

    assert not report.complete
    refusals = {r.where: r.reason for r in report.refusals}
    assert sorted(refusals) == ["line 2", "line 3", "line 4", "line 5"]
    assert refusals["line 2"].startswith("not JSON")
    assert refusals["line 3"].startswith("unknown command 'incident.explode'")
    assert refusals["line 4"].startswith("404 ")  # the API's refusal, as it said it
    assert refusals["line 4"].endswith(f"(INC-404 is incident {oid('incident', 'INC-404')})")
    assert refusals["line 5"].startswith("409 ")
    assert (report.units.imported, report.units.refused) == (2, 4)
    team = api.get(f"/v1/teams/{oid('team', 'sre')}", min_position=api.head())
    assert [m["email"] for m in team["roster"]] == ["ada@example.com"]  # line 6 imported
    assert "line 4: 404" in printed


def test_a_postmortems_follow_ups_import_onto_its_items_published_and_added(
        api: Api, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path, *HISTORY[:7],
        line("p1", "2024-03-04T15:00:00Z", "incident.postmortem", {
            "causes": ["no canary"],
            "action_items": [{"title": "add a canary", "owner": "ada", "due": "2024-03-15"},
                             {"title": "runbook", "owner": "ada", "due": "2024-03-20"}]},
             incident="INC-42"),
        line("p2", "2024-03-05T10:00:00Z", "action_item.add",
             {"title": "alert on 5xx", "due": "2024-03-22"}, incident="INC-42",
             action_item="ACME-77", owner="ada"),
        {**line("p3", "2024-03-18T11:00:00Z", "action_item.complete",
                {"note": "canary stage live", "link": "https://tracker.example/OPS-7"},
                incident="INC-42"), "postmortem_item": 1},
        line("p4", "2024-03-19T09:00:00Z", "action_item.due",
             {"due": "2024-03-29", "reason": "waits for the vendor"}, incident="INC-42",
             action_item="ACME-77"),
        {**line("p5", "2024-03-19T09:30:00Z", "action_item.cancel",
                {"reason": "superseded"}, incident="INC-42"), "postmortem_item": 2},
    )

    report, _ = imported(api, path)

    assert report.complete and report.units.imported == 12, report.refusals
    incident = api.get(f"/v1/incidents/{oid('incident', 'INC-42')}", min_position=api.head())
    items = {i["title"]: i for i in incident["action_items"]}
    assert items["add a canary"]["status"] == "done"  # late: due the 15th, done the 18th
    assert at(items["add a canary"]["completed_at"]) == at("2024-03-18T11:00:00Z")
    assert items["runbook"]["status"] == "cancelled"
    added = items["alert on 5xx"]
    assert added["id"] == oid("action_item", "ACME-77") and added["due"] == "2024-03-29"
    findings = {f["item_id"]: f for f in api.get(
        "/v1/compliance/findings", control="action_item_overdue",
        min_position=api.head())["items"]}
    late = findings[items["add a canary"]["id"]]
    assert late["status"] == "resolved" and late["breached_by_seconds"] > 0
    assert items["runbook"]["id"] not in findings  # cancelled before it was due
    assert findings[added["id"]]["status"] == "open"  # still open, long past its due date
