"""End to end: ``opsledger import --format opsledger`` through the HTTP API (a FastAPI
TestClient). Given a JSONL file of named commands, then the teams, members, incidents,
goals and feedback are in the read models at the times the lines say, in one import
run; running it again appends nothing; a malformed line, or one the API refuses, is
refused with its line number while the rest imports."""

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
