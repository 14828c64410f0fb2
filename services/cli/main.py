"""The ``opsledger`` command line: one entry point for every process and tool.

``python -m services.relay``, ``python -m services.projector`` and
``python -m services.api`` are ``opsledger relay``, ``opsledger projector`` and
``opsledger api`` (:func:`run_command`), so whatever starts a process, compose, a
test or a shell, it runs the same code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from services.cli import audit, migrate, ops, read_models
from services.cli.common import DataDir, load_settings, resolve_token
from services.cli.retention import retention_app


class ImportFormat(StrEnum):
    opsledger = "opsledger"
    pagerduty = "pagerduty"


app = typer.Typer(
    help="OpsLedger: the event-sourced system of record for operations teams.",
    no_args_is_help=True, add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="port [default: 8000]")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run the API and the read-model follower in one process (embedded default)."""
    import uvicorn

    from infra.auth import TokenConfigError, ensure_admin_token
    from services.api.app import create_app
    from services.api.bootstrap import load_tokens
    from services.process import configure_logging

    configure_logging()
    settings = load_settings(data_dir, host=host, port=port)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    typer.echo(f"OpsLedger on http://{settings.host}:{settings.port}  (docs: /docs)")
    typer.echo(f"data folder: {settings.data_dir.resolve()}")
    if not settings.tokens and settings.tokens_file is None:
        path, created = ensure_admin_token(settings.data_dir)
        if created is not None:  # printed this once only: later starts say where it is
            typer.echo(f"admin token (new, stored in {path}; shown only this once):")
            typer.echo(f"  export OPSLEDGER_TOKEN={created}")
        else:
            typer.echo(f"admin token: in {path}")
    try:
        load_tokens(settings)  # refuse to start on malformed tokens, before serving
    except TokenConfigError as e:
        typer.echo(f"opsledger serve: {e}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="warning", access_log=False)


Url = Annotated[str, typer.Option(help="OpsLedger API base URL")]
Token = Annotated[str | None, typer.Option(
    help="bearer token [env: OPSLEDGER_TOKEN; default: the admin token in --data-dir]")]


@app.command()
def demo(
    url: Url = "http://127.0.0.1:8000",
    token: Token = None,
    data_dir: DataDir = None,
    seed: Annotated[int, typer.Option(help="random seed, for a repeatable month")] = 7,
    save_tokens: Annotated[Path | None, typer.Option(
        help="write the secrets of the persona tokens this run issues to this file "
             "(mode 0600); they are answered once and never printed")] = None,
) -> None:
    """Load five weeks in the life of an ops organisation through the HTTP API: in
    business time, inside one import run, each command made by its persona's token."""
    from services.cli.demo import run_demo

    run_demo(url, resolve_token(token, data_dir), seed=seed, save_tokens_to=save_tokens)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, readable=True, help="the file to import")],
    fmt: Annotated[ImportFormat, typer.Option(
        "--format", help="opsledger (JSONL, docs/IMPORT.md) or pagerduty (REST API v2 JSON)",
        case_sensitive=False)],
    url: Url = "http://127.0.0.1:8000",
    token: Token = None,
    data_dir: DataDir = None,
    team_id: Annotated[UUID | None, typer.Option(
        help="pagerduty: put every incident on this OpsLedger team (default: the team "
             "named as the incident's PagerDuty team)")] = None,
    reason: Annotated[str, typer.Option(help="why the history is brought in (recorded "
                                              "with the import run)")] = "",
) -> None:
    """Bring history in through the HTTP API, as one declared import run (safe to re-run).

    Exit status: 0 when everything was imported or already there, 1 when something
    was refused (listed with its line number or incident id), 2 for bad usage.
    """
    from services.cli.importers import DEFAULT_REASON, run_import

    report = run_import(file, fmt.value, url, resolve_token(token, data_dir),
                        team_id=str(team_id) if team_id else None,
                        reason=reason.strip() or DEFAULT_REASON)
    if not report.complete:
        typer.echo(f"opsledger import: {len(report.refusals)} refused (listed above); the "
                   "rest was imported: fix them and run it again", err=True)
        raise typer.Exit(1)


app.command()(ops.api)
app.add_typer(ops.topics_app, name="topics")
app.add_typer(ops.schema_app, name="schema")
app.command()(ops.relay)
app.command()(ops.projector)
app.add_typer(ops.deadletter_app, name="deadletter")
app.command()(audit.verify)
app.command()(read_models.replay)
app.command()(audit.restore)
app.command()(read_models.rebuild)
app.add_typer(audit.checkpoint_app, name="checkpoint")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(migrate.migrate_app, name="migrate")
app.add_typer(retention_app, name="retention")


def run_command(name: str, argv: Sequence[str] | None = None) -> int:
    """``opsledger <name> <argv>`` (``argv`` defaults to the process's arguments), its
    exit status returned rather than raised."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=[name, *args], prog_name="opsledger")
    except SystemExit as e:  # how Typer ends every run, success included
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 1
    return 0


if __name__ == "__main__":
    app()
