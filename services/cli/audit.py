"""Auditors' commands: verify the chain, sign checkpoints, export evidence, restore
(replay and rebuild: :mod:`services.cli.read_models`)."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.cli.common import DataDir, load_settings

if TYPE_CHECKING:

    from domain.ledger import Ledger
    from infra.settings import Settings

err = Console(stderr=True)


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=False)


def verify(
    data_dir: DataDir = None,
    source: Annotated[str, typer.Option(help="store or kafka")] = "store",
    from_position: Annotated[int, typer.Option("--from", help="first position to check")] = 1,
    checkpoint: Annotated[Path | None, typer.Option(
        help="a signed checkpoint file: also prove nothing before it was rewritten")] = None,
    public_key: Annotated[Path | None, typer.Option(
        help="the trusted public key (PEM) for --checkpoint [default: this deployment's]")] = None,
) -> None:
    """Walk the hash chain; print OK with the count and head hash, or the first broken link."""
    from infra.audit.verify import UndecodableRecord, verify_cloudevents, verify_store
    from infra.event_store import open_ledger

    settings = load_settings(data_dir)
    if source not in {"store", "kafka"}:
        err.print("--source must be 'store' or 'kafka'")
        raise typer.Exit(2)
    started = time.monotonic()
    with progress_bar() as bar:
        if source == "store":
            ledger = open_ledger(settings)
            task = bar.add_task("verifying the event store", total=ledger.head_position())
            result = verify_store(ledger, start=from_position,
                                  progress=lambda p: bar.update(task, completed=p))
            bar.update(task, completed=ledger.head_position())
        else:
            from infra.kafka.reading import read_all_cloudevents

            if not settings.kafka_bootstrap:
                err.print("--source kafka needs OPSLEDGER_KAFKA_BOOTSTRAP")
                raise typer.Exit(2)
            task = bar.add_task("reading the Kafka topics", total=None)
            undecodable: list[UndecodableRecord] = []
            records = read_all_cloudevents(settings, progress=lambda n: bar.update(
                task, completed=n), undecodable=undecodable)
            result = verify_cloudevents(records, start=from_position, undecodable=undecodable)
    typer.echo(result.describe())
    if result.cause:
        err.print(f"cause: {result.cause}", markup=False, highlight=False)
    if result.ok and checkpoint is not None:
        _check_checkpoint(settings, checkpoint, public_key, result)
    typer.echo(f"({time.monotonic() - started:.1f}s)", err=True)
    raise typer.Exit(0 if result.ok else 1)


def _check_checkpoint(settings: Settings, path: Path, public_key: Path | None,
                      result: object) -> None:
    from infra.audit.signing import (
        CheckpointError,
        load_public_key,
        public_key_pem,
        read_checkpoint,
    )
    from infra.event_store import ledger_recorder, open_ledger

    data_dir = settings.data_dir
    pem = public_key.read_text() if public_key else public_key_pem(data_dir)
    try:
        cp = read_checkpoint(json.loads(path.read_text()), load_public_key(pem))
    except (OSError, json.JSONDecodeError, CheckpointError) as e:
        typer.echo(f"CHECKPOINT INVALID: {e}")
        raise typer.Exit(1) from None
    ledger = open_ledger(settings)
    at = ledger_recorder(ledger).hash_at(cp.position)
    if at is None or at[1] != cp.hash:
        typer.echo(f"CHECKPOINT BROKEN: the chain no longer has hash {cp.hash} at position "
                   f"{cp.position}: history before it was rewritten or truncated")
        raise typer.Exit(1)
    typer.echo(f"checkpoint OK: position {cp.position} signed at {cp.signed_at} still holds")


checkpoint_app = typer.Typer(help="Signed checkpoints of the chain head.", no_args_is_help=True)


@checkpoint_app.command("sign")
def checkpoint_sign(
    data_dir: DataDir = None,
    out: Annotated[Path | None, typer.Option(help="write here [default: stdout]")] = None,
) -> None:
    """Sign the chain head (position, hash) with this deployment's Ed25519 key."""
    from infra.audit.signing import sign_checkpoint
    from infra.event_store import ledger_recorder, open_ledger

    settings = load_settings(data_dir)
    ledger = open_ledger(settings)
    position, head = ledger_recorder(ledger).head_hash()
    document = json.dumps(sign_checkpoint(settings.data_dir, position, head), indent=2)
    if out is None:
        typer.echo(document)
    else:
        out.write_text(document + "\n")
        err.print(f"signed checkpoint at position {position} written to {out}")


@checkpoint_app.command("public-key")
def checkpoint_public_key(data_dir: DataDir = None) -> None:
    """Print this deployment's public key (PEM), for auditors to keep."""
    from infra.audit.signing import public_key_pem

    typer.echo(public_key_pem(load_settings(data_dir).data_dir), nl=False)


audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@audit_app.command("export")
def audit_export(
    data_dir: DataDir = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    out: Annotated[Path | None, typer.Option(help="write here [default: stdout]")] = None,
    entity_id: Annotated[str | None, typer.Option(help="only this entity")] = None,
    team_id: Annotated[str | None, typer.Option(help="only this team's records")] = None,
    actor: Annotated[str | None, typer.Option(help="only this principal")] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="only this wire type")] = None,
    since: Annotated[datetime | None, typer.Option(
        help="what happened from this time (UTC, business time)")] = None,
    until: Annotated[datetime | None, typer.Option(
        help="what happened up to this time (UTC, business time)")] = None,
    recorded_since: Annotated[datetime | None, typer.Option(
        help="what was recorded from this time (UTC)")] = None,
    recorded_until: Annotated[datetime | None, typer.Option(
        help="what was recorded up to this time (UTC)")] = None,
) -> None:
    """Stream the audit trail as JSONL or CSV, with the hash fields, in bounded memory.
    Each record has both times: ``time`` (when it happened) and ``recorded_at``."""
    from domain.envelope import iso_time
    from infra.audit.export import export_chunks
    from infra.personal.keys import KeyStore
    from infra.personal.reveal import revealing
    from infra.personal.sealing import UnreadableSealError
    from infra.read_store.port import Range
    from services.api.bootstrap import default_store

    if fmt not in {"jsonl", "csv"}:
        err.print("--format must be jsonl or csv")
        raise typer.Exit(2)
    settings = load_settings(data_dir)
    filters: dict[str, object] = {"entity_id": entity_id, "team_id": team_id, "actor": actor,
                                  "type": event_type}
    for field, start, end in (("time", since, until),
                              ("recorded_at", recorded_since, recorded_until)):
        if start or end:
            filters[field] = Range(gte=iso_time(start) if start else None,
                                   lte=iso_time(end) if end else None)
    keys = KeyStore(settings.key_store_path)
    store = revealing(default_store(settings), keys)
    sink = out.open("wb") if out else sys.stdout.buffer
    written = 0
    try:
        for chunk in export_chunks(store, filters, fmt):
            sink.write(chunk)
            written += len(chunk)
    except UnreadableSealError as e:
        err.print(f"export stopped after {written} bytes: {e}: stored personal data was "
                  "altered or is not this deployment's (run opsledger verify, and opsledger "
                  "rebuild for the read models)", markup=False, highlight=False)
        raise typer.Exit(1) from None
    finally:
        if out:
            sink.close()
        store.close()
        keys.close()
    if out:
        err.print(f"{written} bytes written to {out}")


def restore(
    into: Annotated[Path, typer.Option("--into", help="a new, empty event store folder")],
    from_kafka: Annotated[bool, typer.Option(
        "--from-kafka", help="read the events from the Kafka topics (the only source)")] = True,
    keys: Annotated[Path | None, typer.Option(
        "--keys", help="a backup of the lost folder's keys.sqlite; without it every "
                       "personal field restored reads \"[erased]\"")] = None,
) -> None:
    """Rebuild a lost event store from the Kafka topics, then verify its hash chain.

    Personal data comes back sealed; with ``--keys`` the key store is copied in and the
    erasures the log records are applied to it again (a backup older than an erasure
    still holds that key)."""
    from infra.audit.restore import RestoreError
    from infra.audit.restore import restore as run_restore
    from infra.audit.verify import verify_store
    from infra.event_store import open_ledger
    from infra.kafka.reading import read_all_cloudevents

    settings = load_settings()
    if not from_kafka or not settings.kafka_bootstrap:
        err.print("restore reads from Kafka: set OPSLEDGER_KAFKA_BOOTSTRAP")
        raise typer.Exit(2)
    target = load_settings(into)
    if target.event_store_path.exists():
        err.print(f"{target.event_store_path} exists; restore needs a new folder")
        raise typer.Exit(2)
    started = time.monotonic()
    held_keys = None
    if keys is not None:
        from infra.personal.key_restore import KeyStoreBackupError, copy_key_store

        try:
            held_keys = copy_key_store(keys, target.key_store_path)
        except KeyStoreBackupError as e:
            err.print(f"--keys: {e}")
            raise typer.Exit(2) from None
    with progress_bar() as bar:
        task = bar.add_task("reading the Kafka topics", total=None)
        records = read_all_cloudevents(settings, progress=lambda n: bar.update(task,
                                                                                completed=n))
        ledger = open_ledger(target)
        write = bar.add_task("restoring", total=len(records))
        try:
            count = run_restore(records, ledger, str(target.event_store_path),
                                progress=lambda _p: bar.advance(write, 1000))
        except RestoreError as e:
            err.print(f"restore failed: {e}")
            raise typer.Exit(1) from None
        bar.update(write, completed=len(records))
        result = verify_store(ledger)
    seconds = time.monotonic() - started
    typer.echo(f"restored {count} events into {target.event_store_path} in {seconds:.1f}s")
    typer.echo(_restored_keys(ledger, keys, held_keys))
    typer.echo(result.describe())
    raise typer.Exit(0 if result.ok else 1)


def _restored_keys(ledger: Ledger, backup: Path | None, held: int | None) -> str:
    """What the restore did with the key store, in one line."""
    from infra.event_store import key_store
    from infra.personal.key_restore import erase_recorded

    keys = key_store(ledger)
    if backup is None or held is None or keys is None:
        return ("no key store given (--keys): personal data restored reads \"[erased]\"; "
                "restore again with a backup of the lost folder's keys.sqlite to read it")
    again = erase_recorded(ledger, keys)
    return (f"key store from {backup}: {held} keys; "
            f"{len(again)} erased again (the backup is older than their erasure)")
