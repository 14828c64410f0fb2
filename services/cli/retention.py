"""``opsledger retention run``: erase the personal data whose retention period is over,
through the HTTP API (``POST /v1/retention/run``), and say what happened.

It goes through the API, like ``opsledger import``, so every erasure is an ordinary
command of the token's principal (the actor of each ``PersonalDataErased``), checked
against legal holds inside the command, and the periods are the server's settings. It
first asks for the plan (a dry run), prints it, then erases in batches, printing
progress after each, until nothing due is left or a batch erases nothing (so it always
ends). Exit status: 0 when everything due was erased or is under a legal hold (the
holds are named), 1 when a subject was refused or the run failed, 2 for bad usage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import typer

from services.cli.common import DataDir, resolve_token
from services.cli.http import BearerClient, ShownError

ROUTE = "/v1/retention/run"
TIMEOUT_SECONDS = 120.0  # a batch deletes keys one by one, each with a VACUUM
ENV_OF = {"customer": "OPSLEDGER_RETENTION_CUSTOMER_DAYS",
          "member": "OPSLEDGER_RETENTION_MEMBER_DAYS"}


class RetentionFailed(ShownError):
    """The run stopped (exit status 1): the message says why."""


@dataclass
class KindTotals:
    """One kind of personal data over the whole run."""

    kind: str
    retention_days: int | None
    counted_from: str
    due: int
    already_erased: int
    held: list[dict[str, str]]
    erased: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)
    subjects: list[dict[str, str]] = field(default_factory=list)


@dataclass
class RetentionOutcome:
    dry_run: bool
    kinds: list[KindTotals]

    @property
    def ok(self) -> bool:
        return not any(k.refused for k in self.kinds)


def _call(api: BearerClient, body: dict[str, Any]) -> dict[str, Any]:
    r = api.request("POST", ROUTE, body)
    try:
        document: Any = r.json()
    except ValueError:
        document = {}
    if r.status_code != 200 or not isinstance(document, dict):
        detail = document.get("detail", "") if isinstance(document, dict) else ""
        raise RetentionFailed(f"the retention run stopped: POST {api.url}{ROUTE} answered "
                              f"{r.status_code}{': ' + str(detail) if detail else ''}")
    return document


def run_retention(url: str, token: str, *, dry_run: bool, batch: int = 20,
                  client: httpx.Client | None = None,
                  echo: Callable[[str], None] = typer.echo) -> RetentionOutcome:
    """Run retention on the OpsLedger at ``url`` (``client``: e.g. a ``TestClient``)."""
    own = client is None
    http = client or httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT_SECONDS)
    try:
        api = BearerClient(http, token, url, error=RetentionFailed,
                           stopped="the retention run stopped")
        plan = _call(api, {"dry_run": True})
        kinds = [KindTotals(k["kind"], k["retention_days"], k["counted_from"], k["due"],
                            k["already_erased"], k["held"], subjects=k["subjects"])
                 for k in plan["kinds"]]
        _print_plan(kinds, echo)
        to_erase = sum(k.due - len(k.held) for k in kinds)
        if dry_run or to_erase <= 0:
            return RetentionOutcome(dry_run, kinds)
        by_kind = {k.kind: k for k in kinds}
        echo(f"erasing {to_erase} subject(s), at most {batch} per request")
        done = 0
        for _ in range(to_erase // batch + 2):  # bounded: each turn erases, or it ends
            answer = _call(api, {"dry_run": False, "limit": batch})
            erased = sum(k["erased"] for k in answer["kinds"])
            for k in answer["kinds"]:
                totals = by_kind[k["kind"]]
                totals.erased += k["erased"]
                totals.refused = k["refused"]
                totals.held = k["held"]
            done += erased
            echo(f"  erased {done}/{to_erase}")
            if erased == 0 or not any(k["remaining"] for k in answer["kinds"]):
                break
        return RetentionOutcome(False, kinds)
    finally:
        if own:
            http.close()


def _print_plan(kinds: list[KindTotals], echo: Callable[[str], None]) -> None:
    for k in kinds:
        if k.retention_days is None:
            echo(f"{k.kind}: kept, no retention ({ENV_OF.get(k.kind, k.kind)} is not set); "
                 f"{k.already_erased} erased before")
            continue
        echo(f"{k.kind}: kept {k.retention_days} days after {k.counted_from}: {k.due} due "
             f"({len(k.held)} under legal hold), {k.already_erased} erased before")
        for s in k.subjects:
            if s["outcome"] == "due":
                echo(f"  due: {k.kind} {s['subject_id']} (due since {s['due_at']})")
        for h in k.held:
            echo(f"  held: {k.kind} {h['subject_id']} by legal hold {h['hold_id']} "
                 f"({h['hold_reason']})")


def print_summary(outcome: RetentionOutcome, echo: Callable[[str], None] = typer.echo) -> None:
    if outcome.dry_run:
        echo("dry run: nothing was erased")
        return
    for k in outcome.kinds:
        if k.retention_days is None:
            continue
        echo(f"{k.kind}: {k.erased} erased, {len(k.held)} skipped under legal hold, "
             f"{len(k.refused)} refused, {k.already_erased} erased before")
        for r in k.refused:
            echo(f"  refused: {k.kind} {r['subject_id']}: {r['detail']}")


retention_app = typer.Typer(help="Retention of personal data.", no_args_is_help=True)


@retention_app.command("run")
def run(
    url: Annotated[str, typer.Option(help="OpsLedger API base URL")] = "http://127.0.0.1:8000",
    token: Annotated[str | None, typer.Option(
        help="bearer token of an admin of every team [env: OPSLEDGER_TOKEN; default: the "
             "admin token in --data-dir]")] = None,
    data_dir: DataDir = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what is due and under "
                                          "hold; erase nothing")] = False,
    batch: Annotated[int, typer.Option(min=1, max=500, help="subjects erased per request")] = 20,
) -> None:
    """Erase the personal data whose retention period is over (the periods are the
    server's OPSLEDGER_RETENTION_*_DAYS), skipping what a legal hold covers."""
    outcome = run_retention(url, resolve_token(token, data_dir), dry_run=dry_run, batch=batch)
    print_summary(outcome)
    if not outcome.ok:
        typer.echo("opsledger retention run: some subjects were refused (listed above); run "
                   "it again once the cause is fixed", err=True)
        raise typer.Exit(1)
