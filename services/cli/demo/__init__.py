"""``opsledger demo``: a realistic, repeatable month in the life of an ops organisation.

Everything goes through the public HTTP API (bearer token, JSON bodies), so the demo
doubles as an end-to-end exercise of the command side and fills every read model.

Repeatable and safe to re-run:

- every choice comes from ``random.Random(seed)``, and every entity id is a
  ``uuid5`` of the seed and the entity's name, so a re-run names the same entities;
- every command carries ``Idempotency-Key: demo-<seed>-<n>`` (``n`` = its step), so a
  re-run against the same server gets the first answers back and appends nothing;
- dates in bodies (goal deadlines, action-item due dates, role effective dates) are
  relative to an *anchor* day: today on a fresh server, else the day of the first
  run, recovered from the first goal's deadline, so a re-run on a later day sends
  byte-identical bodies (an idempotency key reused with another body is refused).

The whole plan is built before the first request, so the progress bar knows the
total; any non-2xx answer stops the demo with the request and the problem document.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from services.cli.demo.client import Api, DemoError, describe_failure, http_client
from services.cli.demo.plan import build_plan
from services.cli.demo.scenario import TEAMS

__all__ = ["DemoError", "DemoSummary", "run_demo"]


@dataclass(frozen=True)
class DemoSummary:
    counts: dict[str, int]
    requests: int
    last_position: int
    elapsed_seconds: float
    anchor: str
    team_ids: list[str] = field(default_factory=list)

    @property
    def events_appended(self) -> int:
        """The event log's position after the demo's last command (all events so far)."""
        return self.last_position

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


def _anchor(api: Api, seed: int) -> date:
    """Today on a fresh server; on a re-run, the first run's day (from its first goal)."""
    today = date.today()
    _, planner = build_plan(seed, today)
    goal_id, offset = planner.goal_ids[0], planner.goal_offsets[0]
    response = api.send("GET", f"/v1/goals/{goal_id}")
    if response.status_code == 404:
        return today
    if not response.is_success:
        raise DemoError(describe_failure(f"GET {api.url}/v1/goals/{goal_id}", response))
    deadline = response.json().get("deadline")
    try:
        return date.fromisoformat(str(deadline)) - timedelta(days=offset)
    except ValueError:
        return today


def _print_summary(console: Console, summary: DemoSummary) -> None:
    table = Table(title=f"OpsLedger demo (anchor day {summary.anchor})", show_lines=False)
    table.add_column("what")
    table.add_column("commands", justify="right")
    for kind, count in summary.counts.items():
        table.add_row(kind.replace("_", " "), str(count))
    console.print(table)
    console.print(
        f"commands: {sum(summary.counts.values())}   "
        f"events appended: [bold]{summary.events_appended}[/] (last position; positions "
        f"also number idempotency-key records)   requests: {summary.requests}   "
        f"elapsed: {summary.elapsed_seconds:.1f} s   "
        f"{summary.requests_per_second:.0f} requests/s"
    )


def run_demo(url: str, token: str, *, seed: int = 7, client: httpx.Client | None = None,
             console: Console | None = None) -> DemoSummary:
    """Load the demo month into the OpsLedger at ``url``; safe to run again.

    ``client`` (e.g. a FastAPI ``TestClient``) is used as is, with relative paths;
    without one, an ``httpx.Client`` on ``url`` with a 10 s timeout is opened.
    Raises :class:`DemoError` on the first non-2xx answer or transport failure.
    """
    console = console or Console()
    started = time.perf_counter()
    with http_client(url, client) as http:
        api = Api(http, token, url)
        anchor = _anchor(api, seed)
        steps, planner = build_plan(seed, anchor)
        counts: dict[str, int] = {}
        last_position = 0
        columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
                   MofNCompleteColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("loading the demo month", total=len(steps) + 1)
            progress.advance(task)  # the anchor look-up
            for step in steps:
                progress.update(task, description=f"{step.kind:<18}")
                answer = api.command(step)
                last_position = max(last_position, int(answer["position"]))
                counts[step.kind] = counts.get(step.kind, 0) + 1
                progress.advance(task)
            progress.update(task, description="done")
    summary = DemoSummary(
        counts=counts, requests=api.requests, last_position=last_position,
        elapsed_seconds=time.perf_counter() - started, anchor=anchor.isoformat(),
        team_ids=[planner.team_ids[t["key"]] for t in TEAMS],
    )
    _print_summary(console, summary)
    return summary
