"""End to end: ``opsledger import --format pagerduty`` through the HTTP API (a FastAPI
TestClient). Given a PagerDuty export and OpsLedger teams and members, then the
incidents are in the read models at the times they happened, in one import run;
running it again appends nothing; a malformed incident is refused naming it while the
rest imports; unknown people are listed, never invented; each incident goes to the
team given, or else to the team named like its PagerDuty team."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from services.cli.importers import ImportFailed, ImportReport, run_import
from services.cli.importers.plan import entity_id
from tests.e2e.conftest import Api, bearer
from tests.support.pagerduty_shapes import entry, incident, user

TOKEN = bearer("admin")["Authorization"].removeprefix("Bearer ")
BEFORE = "2024-01-01T00:00:00Z"


def given_team(api: Api, name: str, members: dict[str, str] | None = None
               ) -> tuple[str, dict[str, str]]:
    """A team formed (with its members) before any incident of the exports."""
    run = api.post("/v1/imports", {"source": "setup", "reason": "the roster"},
                   expect=201).json()["import_run_id"]
    header = {"OpsLedger-Import-Run": run}
    team = api.post("/v1/teams", {"name": name, "occurred_at": BEFORE}, expect=201,
                    **header).json()["id"]
    ids = {}
    for email, member in (members or {}).items():
        ids[email] = api.post(f"/v1/teams/{team}/members", {
            "name": member, "email": email, "role": "SRE", "occurred_at": BEFORE},
            expect=201, **header).json()["id"]
    api.post(f"/v1/imports/{run}/finish", expect=200)
    return team, ids


def export(tmp_path: Path, *incidents: Any, name: str = "pagerduty.json",
           users: list[dict[str, Any]] | None = None) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"incidents": list(incidents), "users": users or []}))
    return path


def imported(api: Api, path: Path, **options: Any) -> tuple[ImportReport, str]:
    out = io.StringIO()
    report = run_import(path, "pagerduty", "http://testserver", TOKEN, client=api.client,
                        console=Console(file=out, width=200), **options)
    return report, out.getvalue()


def shown(api: Api, pd_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.get(f"/v1/incidents/{entity_id('pagerduty', 'incident', pd_id)}",
                                    min_position=api.head())
    return found


def at(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


LIFECYCLE = [  # newest first, as PagerDuty lists them
    entry("R4", "resolve_log_entry", "2024-05-01T10:30:00Z", summary="Resolved by Ada"),
    entry("R3", "acknowledge_log_entry", "2024-05-01T09:12:00Z"),
    entry("R2", "assign_log_entry", "2024-05-01T09:00:00Z",
          assignees=[user("PADA001", "Ada")]),
    entry("R1", "trigger_log_entry", "2024-05-01T09:00:00Z"),
]
USERS = [{"id": "PADA001", "type": "user", "name": "Ada", "email": "ada@example.com"}]


def test_incidents_are_imported_at_their_times_in_one_run_and_a_rerun_appends_nothing(
        api: Api, tmp_path: Path) -> None:
    team, members = given_team(api, "Payments SRE", {"ada@example.com": "Ada Lovelace"})
    unacknowledged = incident(
        entry("Q2", "resolve_log_entry", "2024-06-02T08:30:00Z"),
        entry("Q1", "trigger_log_entry", "2024-06-02T08:00:00Z"),
        pd_id="PQ2", number=2, priority={"type": "priority_reference", "summary": "P1"})
    path = export(tmp_path, incident(*LIFECYCLE), unacknowledged, users=USERS)

    report, printed = imported(api, path)

    assert report.complete
    assert (report.units.read, report.units.imported, report.commands.imported) == (2, 2, 7)
    assert report.by_command == {"open": 2, "acknowledge": 2, "assign": 1, "resolve": 2}
    first = shown(api, "PT4KHLK")
    assert (first["team_id"], first["severity"], first["status"]) == (team, "SEV2", "resolved")
    assert at(first["opened_at"]) == at("2024-05-01T09:00:00Z")
    assert at(first["acknowledged_at"]) == at("2024-05-01T09:12:00Z")
    assert at(first["resolved_at"]) == at("2024-05-01T10:30:00Z")
    assert first["mtta_seconds"] == 12 * 60 and first["mttr_seconds"] == 90 * 60
    assert [r["member_id"] if isinstance(r, dict) else r for r in first["responders"]] == [
        members["ada@example.com"]]
    second = shown(api, "PQ2")
    assert second["severity"] == "SEV1"
    assert second["acknowledged_at"] == second["resolved_at"]  # nobody acknowledged earlier

    [run] = report.runs
    assert run.events_recorded == 7 and run.by_context == {"incidents": 7}
    trail = api.get("/v1/audit", entity_id=first["id"], min_position=api.head())["items"]
    assert {r["import_run_id"] for r in trail} == {run.import_run_id}
    assert api.get("/v1/compliance/findings", control="backdated_entry")["items"] == []
    assert "imported" in printed and "7 events recorded" in printed

    head = api.head()
    again, printed = imported(api, path)

    assert api.head() == head  # nothing appended: not even an import run
    assert again.complete and again.runs == []
    assert (again.units.already_there, again.commands.already_there) == (2, 7)
    assert "was finished before: nothing new" in printed


def test_a_malformed_incident_is_refused_naming_it_and_the_rest_imports(
        api: Api, tmp_path: Path) -> None:
    given_team(api, "Payments SRE")
    path = export(tmp_path,
                  {"title": "an incident without an id"},
                  incident(entry("B1", "trigger_log_entry", "last tuesday"), pd_id="PBAD"),
                  incident(*LIFECYCLE))

    report, printed = imported(api, path)

    assert not report.complete
    assert [(r.where, r.reason.split(":")[0]) for r in report.refusals] == [
        ("incident #0 of the file", "no id"),
        ("incident PBAD (#1234)", "log entry B1's created_at"),
    ]
    assert (report.units.read, report.units.imported, report.units.refused) == (3, 1, 2)
    assert shown(api, "PT4KHLK")["status"] == "resolved"
    assert "incident PBAD (#1234): log entry B1's created_at" in printed


def test_unknown_people_are_listed_and_never_assigned(api: Api, tmp_path: Path) -> None:
    given_team(api, "Payments SRE", {"ada@example.com": "Ada Lovelace"})
    strangers = [user("PCASEY1", "Casey", email="casey@contractor.example"),
                 user("PNOMAIL", "Pat")]
    path = export(tmp_path, incident(
        entry("R2", "assign_log_entry", "2024-05-01T09:01:00Z", assignees=strangers),
        entry("R1", "trigger_log_entry", "2024-05-01T09:00:00Z")))

    report, printed = imported(api, path)

    assert report.complete  # nobody invented, nothing refused
    assert sorted(report.unknown_people) == ["Casey <casey@contractor.example>", "Pat"]
    assert shown(api, "PT4KHLK")["responders"] == []
    assert "unknown people" in printed and "Casey <casey@contractor.example>" in printed
    members = [m for t in api.get("/v1/teams")["items"] for m in t["roster"]]
    assert [m["email"] for m in members] == ["ada@example.com"]


def test_an_incident_goes_to_the_team_named_like_its_pagerduty_team_or_to_the_team_given(
        api: Api, tmp_path: Path) -> None:
    payments, _ = given_team(api, "Payments SRE")
    databases, _ = given_team(api, "Databases")
    path = export(tmp_path, incident(*LIFECYCLE),
                  incident(entry("S1", "trigger_log_entry", "2024-07-01T00:00:00Z"),
                           pd_id="PSTORE", number=7, team="Storage"))

    by_name, _ = imported(api, path)

    assert shown(api, "PT4KHLK")["team_id"] == payments
    assert [(r.where, r.reason) for r in by_name.refusals] == [
        ("incident PSTORE (#7)", "no OpsLedger team is named 'Storage': form it, or pass "
                                 "--team-id")]

    given, _ = imported(api, path, team_id=databases)  # the same file, the refused one fixed

    assert given.complete
    assert shown(api, "PSTORE")["team_id"] == databases
    assert shown(api, "PT4KHLK")["team_id"] == payments  # imported before: kept as it was
    assert (given.units.imported, given.units.already_there) == (1, 1)
    [fix_run] = given.runs  # the first run is finished: the fix came in a run of its own
    assert fix_run.import_run_id not in by_name.run_ids and fix_run.events_recorded == 1


def test_a_later_larger_export_imports_only_what_is_new(api: Api, tmp_path: Path) -> None:
    given_team(api, "Payments SRE")
    ongoing = [e for e in LIFECYCLE if e["id"] != "R4"]  # not resolved yet
    later = incident(entry("N1", "trigger_log_entry", "2024-08-01T00:00:00Z"), pd_id="PNEW")
    imported(api, export(tmp_path, incident(*ongoing), name="june.json"))

    report, _ = imported(api, export(tmp_path, incident(*LIFECYCLE), later, name="july.json"))

    assert report.complete
    assert (report.commands.imported, report.commands.already_there) == (2, 2)
    assert report.by_command == {"open": 1, "resolve": 1}
    assert shown(api, "PT4KHLK")["status"] == "resolved"
    assert shown(api, "PNEW")["status"] == "open"


def test_an_import_stopped_half_way_goes_on_in_the_same_run_when_run_again(
        api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given_team(api, "Payments SRE")
    path = export(tmp_path, *(incident(*LIFECYCLE, pd_id=f"PCUT{n}", number=n)
                              for n in range(3)))
    send, sent = api.client.request, []

    def the_network_goes_away_after_8_requests(*args: Any, **kwargs: Any) -> Any:
        sent.append(args)
        if len(sent) > 8:
            raise httpx.ConnectError("connection refused")
        return send(*args, **kwargs)

    monkeypatch.setattr(api.client, "request", the_network_goes_away_after_8_requests)
    with pytest.raises(ImportFailed, match="stays open: run the same command again") as stop:
        imported(api, path)
    monkeypatch.undo()

    report, _ = imported(api, path)

    assert report.complete
    assert report.commands.already_there > 0 and report.commands.imported > 0
    [run] = report.runs  # the run left open, finished now with every command in it
    assert run.import_run_id in stop.value.message
    assert run.events_recorded == 3 * 3  # open, acknowledge, resolve of each (no members)
