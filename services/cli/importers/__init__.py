"""``opsledger import FILE --format opsledger|pagerduty``: history brought in through
the HTTP API, as one declared import run (``POST /v1/imports``), with a progress bar
and a summary: read, imported, already there, refused (with where and why).

The file is mapped to requests before the first one is sent (pure mappers:
:mod:`~services.cli.importers.opsledger_format`, :mod:`~services.cli.importers.pagerduty`),
then each unit (a line, an incident) is sent in order; a refused one stops nothing
else. Safe to run again (:mod:`~services.cli.importers.run`). docs/IMPORT.md is the
user's guide.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from services.cli.http import http_client
from services.cli.importers.client import ImportApi, ImportFailed, ImportUsageError
from services.cli.importers.opsledger_format import read_lines
from services.cli.importers.pagerduty import Directory, map_incident, team_name_key
from services.cli.importers.pagerduty_file import ExportError, read_export
from services.cli.importers.plan import Unit
from services.cli.importers.report import ImportReport, print_report
from services.cli.importers.run import ImportRun

__all__ = ["FORMATS", "ImportFailed", "ImportReport", "ImportUsageError", "run_import"]

FORMATS = ("opsledger", "pagerduty")
DEFAULT_REASON = "history brought in from another tool with opsledger import"


def run_import(path: Path, fmt: str, url: str, token: str, *, team_id: str | None = None,
               reason: str = DEFAULT_REASON, client: httpx.Client | None = None,
               console: Console | None = None) -> ImportReport:
    """Import ``path`` into the OpsLedger at ``url``; safe to run again.

    ``client`` (e.g. a FastAPI ``TestClient``) is used as is, with relative paths.
    Raises :class:`ImportUsageError` for bad usage, :class:`ImportFailed` when the
    import cannot go on; refused units are in the report (``complete`` is False).
    """
    console = console or Console()
    started = time.perf_counter()
    if fmt not in FORMATS:
        raise ImportUsageError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    if team_id and fmt != "pagerduty":
        raise ImportUsageError("--team-id is for --format pagerduty")
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ImportUsageError(f"cannot read {path}: {e}") from None
    source = f"{fmt} file {path.name}"[:200]
    fingerprint = hashlib.sha256(
        b"\0".join([fmt.encode(), source.encode(), reason.encode(), data])).hexdigest()[:40]
    with http_client(url, client) as http:
        api = ImportApi(http, token, url)
        if fmt == "opsledger":
            units, report = read_lines(text.splitlines()), ImportReport(fmt, "lines")
        else:
            units, report = _pagerduty_units(api, text, team_id), ImportReport(fmt, "incidents")
        run = ImportRun(api, source, reason, fingerprint, head=api.head())
        run.open()
        try:
            _send_all(console, run, units, report)
        except ImportFailed as e:
            raise ImportFailed(f"{e.message}\n(import run {run.run_id} stays open: run the "
                               "same command again to go on where it stopped)") from None
        report.runs = run.finish()
        report.run_ids = run.seen
        report.requests = api.requests
    report.elapsed_seconds = time.perf_counter() - started
    print_report(console, report)
    return report


def _pagerduty_units(api: ImportApi, text: str, team_id: str | None) -> list[Unit]:
    try:
        export = read_export(text)
    except ExportError as e:
        raise ImportUsageError(f"not a PagerDuty export: {e}") from None
    if team_id and not api.send("GET", f"/v1/teams/{team_id}").ok:
        raise ImportUsageError(f"--team-id {team_id}: no such OpsLedger team")
    teams_by_name: dict[str, list[str]] = {}
    members_by_email: dict[str, str] = {}
    for team in api.every("/v1/teams"):
        teams_by_name.setdefault(team_name_key(str(team.get("name", ""))), []).append(
            str(team["id"]))
        # active entries last, so a member's active team entry wins over an old one
        for entry in sorted(team.get("roster") or [], key=lambda e: bool(e.get("active"))):
            if isinstance(entry.get("email"), str) and entry.get("member_id"):
                members_by_email[entry["email"].strip().lower()] = str(entry["member_id"])
    directory = Directory(team_id=team_id, teams_by_name=teams_by_name,
                          members_by_email=members_by_email,
                          emails_by_user=export.emails_by_user)
    return [map_incident(n, incident, directory) for n, incident in enumerate(export.incidents)]


def _send_all(console: Console, run: ImportRun, units: list[Unit],
              report: ImportReport) -> None:
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    total = sum(max(1, len(u.requests)) for u in units)
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"importing {len(units)} {report.unit_name}", total=total)
        for unit in units:
            report.noted(unit)
            if unit.refusal is not None or not unit.requests:
                report.unit_refused(unit, unit.refusal or "nothing to import")
                progress.advance(task, max(1, len(unit.requests)))
                continue
            report.units.count(_send_unit(run, unit, report, progress, task))
        progress.update(task, description="done")


def _send_unit(run: ImportRun, unit: Unit, report: ImportReport, progress: Progress,
               task: TaskID) -> str:
    statuses = []
    for n, request in enumerate(unit.requests):
        outcome = run.send(request)
        report.command(request, outcome)
        progress.advance(task)
        statuses.append(outcome.status)
        if outcome.status == "refused" and n == 0 and unit.dependent:
            progress.advance(task, len(unit.requests) - 1)
            return "refused"  # the rest needs the first (an incident's opening)
    if "imported" in statuses:
        return "imported"
    return "already there" if "already there" in statuses else "refused"
