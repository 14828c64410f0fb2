"""Auditors' commands: verify the chain, sign checkpoints, export evidence, replay."""

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
    from collections.abc import Iterable

    from domain.envelope import EventEnvelope
    from domain.ledger import Ledger
    from infra.read_store.port import ReadStore
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


def replay(
    into: Annotated[str, typer.Option(
        "--into", help="a folder (embedded store) or a mongodb:// URI; never the live one")],
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", help="recording time (UTC): what the ledger had recorded by then")] = None,
    effective_at: Annotated[datetime | None, typer.Option(
        "--effective-at", help="business time (UTC): what had happened by then")] = None,
    data_dir: DataDir = None,
    source: Annotated[str, typer.Option(help="store or kafka")] = "store",
    mongo_db: Annotated[str | None, typer.Option(
        help="database for a mongodb:// target [default: opsledger_asof_<time>]")] = None,
) -> None:
    """Rebuild every read model as it was at an instant, into a separate store: as the
    ledger knew it at --as-of, as things stood at --effective-at, or both (as things
    stood at --effective-at, as known at --as-of)."""
    from domain.envelope import iso_time
    from infra.event_store.read_ahead import ReadAhead
    from infra.projecting.replay import replay as run_replay

    if as_of is None and effective_at is None:
        err.print("replay needs --as-of, --effective-at or both (opsledger rebuild "
                  "rebuilds the live read models)")
        raise typer.Exit(2)
    settings = load_settings(data_dir)
    when = iso_time(as_of) if as_of is not None else None
    at = iso_time(effective_at) if effective_at is not None else None
    target = _replay_target(settings, into, mongo_db, _database_suffix(when, at))
    described = " ".join(part for part in (
        f"as of {when}" if when else "", f"effective at {at}" if at else "") if part)
    with progress_bar() as bar:
        events, total = _event_source(settings, source, bar)
        task = bar.add_task(f"replaying {described}", total=total)
        try:
            stats = run_replay(events, target, as_of=when, effective_at=at,
                               progress=lambda p: bar.update(task, completed=p))
        finally:
            if isinstance(events, ReadAhead):
                events.close()
        bar.update(task, completed=total)
    target.close()
    typer.echo(f"replayed {stats.describe()} into {into}")
    typer.echo(f"time: {stats.split()}{_reader_figures(events)}")


def _reader_figures(events: object) -> str:
    """What the child process that read the event log cost, if one did."""
    from infra.event_store.read_ahead import ReadAhead

    if not isinstance(events, ReadAhead):
        return ""
    return (f"; the event log read by a child process ({events.reader_cpu_seconds:.1f} "
            f"CPU-s, peak {events.reader_rss_mb:.0f} MB)")


def _database_suffix(as_of: str | None, effective_at: str | None) -> str:
    """The default MongoDB database's name after ``opsledger_``: ``asof_<time>`` as
    before, ``at_<time>`` for a business time, both when both are given."""
    def digits(moment: str) -> str:
        return "".join(ch for ch in moment if ch.isdigit())[:14]

    parts = ([f"asof_{digits(as_of)}"] if as_of else []) + (
        [f"at_{digits(effective_at)}"] if effective_at else [])
    return "_".join(parts)


def _replay_target(settings: Settings, into: str, mongo_db: str | None,
                   suffix: str) -> ReadStore:
    from infra.read_store.sqlite_bulk import SQLiteBulkStore

    live_mongo = (settings.mongo_uri, settings.mongo_db)
    if into.startswith(("mongodb://", "mongodb+srv://")):
        from infra.read_store.mongo import MongoReadStore

        db = mongo_db or f"opsledger_{suffix}"
        if (into, db) == live_mongo:
            err.print("refusing to replay into the live read models")
            raise typer.Exit(2)
        return MongoReadStore(into, db)
    from infra.private_files import private_dir

    folder = private_dir(into)
    path = folder / "readmodels.sqlite"
    live = settings.read_store_path
    if path.resolve() == Path(live).resolve():
        err.print("refusing to replay into the live read models")
        raise typer.Exit(2)
    if path.exists():
        err.print(f"{path} exists; replay needs an empty folder")
        raise typer.Exit(2)
    # Loaded as readmodels.sqlite.partial, renamed once complete (see sqlite_bulk).
    return SQLiteBulkStore(path, new_file=True)


def _event_source(settings: Settings, source: str, bar: Progress,
                  ) -> tuple[Iterable[EventEnvelope], int]:
    if source == "store":
        from infra.event_store import open_ledger
        from infra.event_store.read_ahead import ReadAhead

        ledger = open_ledger(settings)
        # Read and decoded by a child process while this one folds.
        return ReadAhead(settings.data_dir), ledger.head_position()
    if source == "kafka":
        from infra.contract.cloudevents import from_cloudevent
        from infra.kafka.reading import read_all_cloudevents

        task = bar.add_task("reading the Kafka topics", total=None)
        records = read_all_cloudevents(settings,
                                       progress=lambda n: bar.update(task, completed=n))
        events = sorted((from_cloudevent(ce) for ce in records), key=lambda e: e.position)
        return events, events[-1].position if events else 0
    err.print("--source must be 'store' or 'kafka'")
    raise typer.Exit(2)


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


def rebuild(
    data_dir: DataDir = None,
    keep_old: Annotated[bool, typer.Option(
        "--keep-old", help="distributed: keep the old generation's collections")] = False,
    grace: Annotated[float, typer.Option(
        help="distributed: seconds after the switch before the old generation is "
             "dropped, for readers and projectors to move over")] = 10.0,
) -> None:
    """Rebuild the live read models blue/green: build beside the old ones while they
    serve, then switch atomically (embedded store, or MongoDB generations)."""
    from infra.event_store import open_ledger
    from infra.event_store.read_ahead import ReadAhead
    from infra.projecting.rebuild_embedded import rebuild_embedded
    from infra.read_store.sqlite import SQLiteReadStore

    settings = load_settings(data_dir)
    if settings.distributed:
        _rebuild_distributed(settings, keep_old=keep_old, grace=grace)
        return
    ledger = open_ledger(settings)
    live = SQLiteReadStore(settings.read_store_path)
    events = ReadAhead(settings.data_dir)  # read by a child process while this one folds
    try:
        with progress_bar() as bar:
            task = bar.add_task("building the new generation", total=ledger.head_position())
            stats, switched = rebuild_embedded(
                ledger, live, events=events, progress=lambda p: bar.update(task, completed=p))
            bar.update(task, completed=ledger.head_position())
    finally:
        events.close()
    live.close()
    typer.echo(f"rebuilt {stats.describe()}; switched in at position {switched}")
    typer.echo(f"time: {stats.split()}{_reader_figures(events)}")


def _rebuild_distributed(settings: Settings, *, keep_old: bool, grace: float) -> None:
    """MongoDB: a new generation of collections from Kafka offset 0, then the switch."""
    from infra.projecting.rebuild_distributed import RebuildError, rebuild_distributed

    try:
        with progress_bar() as bar:
            task = bar.add_task("building the new generation from Kafka", total=None)

            def progress(records: int, lag: int) -> None:
                bar.update(task, completed=records, total=records + lag)

            summary = rebuild_distributed(settings, progress=progress, notify=bar.console.print,
                                          drop_old=not keep_old, grace_seconds=grace)
    except RebuildError as e:
        err.print(f"rebuild failed: {e}\nthe old generation still serves")
        raise typer.Exit(1) from None
    old = repr(summary.old_prefix) if summary.old_prefix else "'' (unprefixed)"
    typer.echo(f"rebuilt {summary.events} events in {summary.seconds:.1f}s "
               f"({summary.events_per_second:.0f} events/s); switched to generation "
               f"{summary.prefix!r} (consumer group {summary.group})")
    if summary.kept_reason is None:
        typer.echo(f"dropped the old generation {old}: {len(summary.dropped)} collections, "
                   f"and consumer group {summary.old_group}")
    else:
        typer.echo(f"kept the old generation {old}: {summary.kept_reason}")
