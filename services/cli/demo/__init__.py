"""``opsledger demo``: five weeks in the life of an ops organisation, in business time.

Everything goes through the public HTTP API, so the demo runs against any OpsLedger
(embedded or distributed) with one admin token, and doubles as an end-to-end
exercise of the command side:

1. the admin token opens an import run (``POST /v1/imports``) and issues one token
   per persona (``POST /v1/tokens``: leads, members, the alerting service, an
   auditor);
2. the month's history is sent in business-time order (``occurred_at`` on every
   command), each command with the token of the persona who made it and the header
   ``OpsLedger-Import-Run``, so the audit trail shows who did what and when;
3. a few of today's facts are entered hours late, outside the run: each one is a
   ``backdated_entry`` finding;
4. the run is finished (its counts are recorded) and the figures are read back.

Repeatable and safe to re-run (with the same admin principal): every choice comes
from ``random.Random(seed)``, every id is a ``uuid5`` of the seed and a name, every
command carries an idempotency key, and every time is a function of the *anchor*
(the minute the first run started, recovered on a re-run from the first team's
``formed_at``), so a re-run sends byte-identical bodies. A re-run of a finished demo
sends nothing and appends nothing; a re-run of an interrupted one resumes it (see
:mod:`services.cli.demo.personas` for what happens to tokens whose secret was lost).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from projections.times import parse_time
from services.cli.demo.client import Api, DemoError, describe_failure, http_client
from services.cli.demo.clock import DAYS, Clock, anchor_now, iso
from services.cli.demo.figures import Figures, read_figures
from services.cli.demo.personas import (
    PersonaToken,
    existing_tokens,
    issue_tokens,
    save_tokens,
)
from services.cli.demo.plan import Step, build_plan, demo_uid
from services.cli.demo.report import print_summary, progress
from services.cli.demo.scenario import AUDITOR, TEAMS

__all__ = ["DemoError", "DemoSummary", "run_demo"]


@dataclass(frozen=True)
class DemoSummary:
    anchor: str
    import_run_id: str
    already_loaded: bool  # a re-run of a finished demo: nothing was sent
    commands_sent: int
    counts: dict[str, int]  # the month's commands by kind (whether sent now or before)
    late_entries: list[Step]
    run_events: int  # public events recorded in the import run
    run_by_context: dict[str, int]
    tokens: list[PersonaToken]
    figures: Figures
    last_position: int
    requests: int
    elapsed_seconds: float
    team_ids: list[str] = field(default_factory=list)
    tokens_saved: int = 0


def _anchor(api: Api, first_team_id: str) -> Clock:
    """This minute on a fresh server; on a re-run, the first run's anchor."""
    response = api.send("GET", f"/v1/teams/{first_team_id}")
    if response.status_code == 404:
        return Clock(anchor_now())
    if not response.is_success:
        raise DemoError(describe_failure(f"GET {api.url}/v1/teams/{first_team_id}", response))
    return Clock(parse_time(str(response.json()["formed_at"])) + timedelta(days=DAYS))


def _open_run(api: Api, seed: int, clock: Clock) -> tuple[str, bool]:
    """The demo's import run (opened once, by idempotency key) and whether it is finished."""
    body = {"source": f"opsledger demo (seed {seed})",
            "reason": f"Five weeks of demo history ending {iso(clock.anchor)}, brought in "
                      "as a declared backfill"}
    answer = api.answer(api.send("POST", "/v1/imports", body, f"demo-month-{seed}-import"),
                        "POST", "/v1/imports", body, f"demo-month-{seed}-import")
    run_id = str(answer["import_run_id"])
    return run_id, api.get(f"/v1/imports/{run_id}")["status"] == "finished"


def _finish_run(api: Api, seed: int, run_id: str) -> dict[str, Any]:
    path = f"/v1/imports/{run_id}/finish"
    key = f"demo-month-{seed}-finish"
    return api.answer(api.send("POST", path, {}, key), "POST", path, {}, key)


def _send(api: Api, steps: list[Step], run_id: str, console: Console) -> int:
    last = 0
    with progress(console) as bar:
        task = bar.add_task("loading the demo month", total=len(steps))
        for step in steps:
            bar.update(task, description=f"{step.kind:<18}")
            last = max(last, int(api.command(step, run_id)["position"]))
            bar.advance(task)
        bar.update(task, description="done")
    return last


def run_demo(url: str, token: str, *, seed: int = 7, client: httpx.Client | None = None,
             console: Console | None = None, save_tokens_to: Path | None = None,
             ) -> DemoSummary:
    """Load the demo month into the OpsLedger at ``url``; safe to run again.

    ``client`` (e.g. a FastAPI ``TestClient``) is used as is, with relative paths;
    without one, an ``httpx.Client`` on ``url`` with a 10 s timeout is opened.
    ``save_tokens_to`` names a file (written 0600) for the secrets of the tokens this
    run issued. Raises :class:`DemoError` on the first unexpected answer.
    """
    console = console or Console()
    started = time.perf_counter()
    with http_client(url, client) as http:
        api = Api(http, token, url)
        clock = _anchor(api, demo_uid(seed, "team", TEAMS[0]["name"]))
        steps, planner = build_plan(seed, clock)
        run_id, finished = _open_run(api, seed, clock)
        sent = 0
        if finished:
            tokens = existing_tokens(api)
        else:
            tokens = issue_tokens(api, seed, planner.team_ids, clock)
            _send(api, steps, run_id, console)
            sent = len(steps)
        done = _finish_run(api, seed, run_id)
        position = int(done["position"])
        reader = AUDITOR if AUDITOR in api.tokens else ""
        names = ({i: n for n, i in planner.member_ids.items()}
                 | {principal: n for n, principal in planner.persona.items()})
        figures = read_figures(api, reader, position, planner.team_ids, names)
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.kind] = counts.get(step.kind, 0) + 1
    summary = DemoSummary(
        anchor=iso(clock.anchor), import_run_id=run_id, already_loaded=finished,
        commands_sent=sent, counts=counts, late_entries=[s for s in steps if not s.in_run],
        run_events=int(done["events_recorded"]),
        run_by_context=dict(done["by_context"]),
        tokens=tokens, figures=figures, last_position=position, requests=api.requests,
        elapsed_seconds=time.perf_counter() - started,
        team_ids=[planner.team_ids[t["key"]] for t in TEAMS],
        tokens_saved=save_tokens(save_tokens_to, tokens) if save_tokens_to else 0,
    )
    print_summary(console, summary, save_tokens_to)
    return summary
