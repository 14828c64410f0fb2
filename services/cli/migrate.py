"""``opsledger migrate``: move a data folder to a new form, with a signed statement that
links the old history to the new one (README: "Events stored before encryption")."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress, TaskID

from services.cli.audit import progress_bar
from services.cli.common import load_settings

if TYPE_CHECKING:
    from infra.settings import Settings

migrate_app = typer.Typer(help="Move a data folder to a new form.", no_args_is_help=True)

OldDir = Annotated[Path | None, typer.Option(
    "--data-dir", "--from", show_default=False,
    help="the old data folder: read, never changed (default: OPSLEDGER_DATA_DIR)")]
NewDir = Annotated[Path, typer.Option(
    "--into", "--to", help="the new data folder (new or empty)", show_default=False)]


class _Bars:
    """One progress bar per phase of the work, on stderr."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(phase, total=total)
        self.bar.update(self.tasks[phase], completed=min(done, total), total=total)

    def finish(self) -> None:
        for task in self.tasks.values():
            total = self.bar.tasks[task].total
            self.bar.update(task, completed=total)


@migrate_app.command("encrypt")
def encrypt(
    into: NewDir,
    data_dir: OldDir = None,
    read_models: Annotated[bool, typer.Option(
        help="build the new folder's embedded read models at the end (else opsledger "
             "rebuild, or serve, builds them)")] = True,
) -> None:
    """Write a new data folder from an old one with every declared personal field
    encrypted under a key per subject, a new hash chain, and a signed statement linking
    the old head to the new one (printed, and kept in the new folder).

    The old folder is never changed: delete it (and its Kafka topics and backups) once
    the new one serves, since until then its plaintext remains. Exit status: 0 done,
    1 the old store cannot be migrated, 2 bad usage (e.g. a target that is not empty).
    """
    from infra.audit.statement import sign_statement, statement_body, write_statement
    from infra.personal.migration import (
        Migration,
        MigrationError,
        check_folders,
        migrate_encrypt,
    )

    old, new = load_settings(data_dir), load_settings(into)
    try:
        check_folders(old, new)
    except MigrationError as e:
        typer.echo(f"opsledger migrate encrypt: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"migrating {old.data_dir} -> {new.data_dir}", err=True)
    signed: dict[str, Any] = {}

    def sign(done: Migration) -> None:
        body = statement_body(done, old.data_dir, new.data_dir)
        signed["document"] = sign_statement(new.data_dir, body)
        signed["path"] = write_statement(new.data_dir, signed["document"])

    try:
        with progress_bar() as bar:
            bars = _Bars(bar)
            done = migrate_encrypt(old, new, progress=bars, finish=sign)
            bars.finish()
    except (ValueError, OSError, sqlite3.DatabaseError) as e:  # MigrationError, a bad key
        typer.echo(f"opsledger migrate encrypt: {e}\nnothing was left in {new.data_dir}; the "
                   f"old folder {old.data_dir} is as it was", err=True)
        raise typer.Exit(1) from None
    document, path = signed["document"], signed["path"]
    if read_models:
        _build_read_models(new)
    carried = ", ".join(done.carried_over) or "nothing"
    typer.echo(f"migrated {done.records} records ({done.events} events): "
               f"{done.fields_sealed} personal fields sealed for {len(done.subjects)} "
               f"subjects, {done.fields_erased} of erased subjects stored as \"[erased]\"")
    typer.echo(f"old head: position {done.old_head[0]} hash {done.old_head[1]}")
    typer.echo(f"new head: position {done.new_head[0]} hash {done.new_head[1]}")
    typer.echo(f"carried over from the old folder: {carried}")
    typer.echo(f"read models: {'built' if read_models else 'not built (opsledger rebuild)'}")
    typer.echo(f"signed statement (0600) in {path}:")
    typer.echo(json.dumps(document, indent=2))
    typer.echo(
        f"next: opsledger migrate verify-statement --into {new.data_dir} --from "
        f"{old.data_dir}; run OpsLedger on {new.data_dir} (a new Kafka topic prefix in the "
        f"distributed mode); then delete {old.data_dir}, its topics and backups", err=True)


def _build_read_models(new: Settings) -> None:
    from infra.event_store import close_ledger, open_ledger
    from infra.projecting.rebuild_embedded import rebuild_embedded
    from infra.read_store.sqlite import SQLiteReadStore

    ledger = open_ledger(new)
    live = SQLiteReadStore(new.read_store_path)
    try:
        with progress_bar() as bar:
            task = bar.add_task("building the read models", total=ledger.head_position())
            rebuild_embedded(ledger, live, progress=lambda p: bar.update(task, completed=p))
            bar.update(task, completed=ledger.head_position())
    finally:
        live.close()
        close_ledger(ledger)


@migrate_app.command("verify-statement")
def verify_statement(
    into: Annotated[Path, typer.Option(
        "--into", "--to", help="the migrated data folder", show_default=False)],
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", "--from", show_default=False,
        help="the old data folder, if it still exists: checked too (only when given)")] = None,
    statement: Annotated[Path | None, typer.Option(
        help="the statement file (default: migration-statement.json in --into)")] = None,
    public_key: Annotated[Path | None, typer.Option(
        help="the trusted public key, PEM (default: the checkpoint key in --into)")] = None,
) -> None:
    """Check a migration's signed statement: its signature with the trusted key, the new
    store's chain up to the new head it names, and (with --from) the old store's chain
    up to the old head it names. Exit status: 0 OK, 1 not, 2 bad usage."""
    from infra.audit.signing import CheckpointError, key_path, load_public_key, public_key_pem
    from infra.audit.statement import (
        STATEMENT_FILE,
        StatementError,
        check_statement,
        read_statement,
    )
    from infra.event_store import close_ledger, open_ledger, read_only_ledger

    new = load_settings(into)
    if not new.event_store_path.is_file():
        typer.echo(f"no event store at {new.event_store_path}", err=True)
        raise typer.Exit(2)
    try:
        if public_key is not None:
            pem = public_key.read_text()
        elif key_path(new.data_dir).is_file():
            pem = public_key_pem(new.data_dir)
        else:
            typer.echo(f"no checkpoint key in {new.data_dir}: pass --public-key", err=True)
            raise typer.Exit(2)
        body = read_statement(statement or new.data_dir / STATEMENT_FILE,
                              load_public_key(pem))
    except (OSError, ValueError, CheckpointError, StatementError) as e:
        typer.echo(f"STATEMENT INVALID: {e}")
        raise typer.Exit(1) from None
    typer.echo(f"signature OK: statement of {body['migrated_at']} ({body['events']} events, "
               f"{body['fields_sealed']} fields sealed, {body['subjects']} subjects)")
    try:
        old = read_only_ledger(load_settings(data_dir)) if data_dir is not None else None
    except FileNotFoundError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    ledger = open_ledger(new)
    try:
        with progress_bar() as bar:
            bars = _Bars(bar)
            check = check_statement(body, ledger, old, progress=bars)
            bars.finish()
    except sqlite3.DatabaseError as e:
        typer.echo(f"STATEMENT BROKEN: a store cannot be read: {e}")
        raise typer.Exit(1) from None
    finally:
        close_ledger(ledger)
        if old is not None:
            old.close()
    for line in check.lines:
        typer.echo(line)
    if old is None:
        typer.echo("old store: not checked (pass --from if it still exists)")
    typer.echo("STATEMENT OK" if check.ok else "STATEMENT BROKEN")
    raise typer.Exit(0 if check.ok else 1)
