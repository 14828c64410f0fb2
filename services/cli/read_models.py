"""Replay and rebuild: the read models made again from the event log, into a store of
their own as of an instant (``replay``), or the live ones blue/green (``rebuild``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress

from services.cli.audit import err, progress_bar
from services.cli.common import DataDir, load_settings

if TYPE_CHECKING:
    from collections.abc import Iterable

    from domain.envelope import EventEnvelope
    from infra.read_store.bulk_load_process import BulkLoadProcess
    from infra.read_store.port import ReadStore
    from infra.settings import Settings


@contextlib.contextmanager
def _told_failures(verb: str, after: str) -> Iterator[None]:
    """A child process that read the log or wrote the store failed: say so, no traceback."""
    from infra.event_store.read_ahead import LogReaderError
    from infra.read_store.bulk_load_process import BulkLoadError

    try:
        yield
    except (LogReaderError, BulkLoadError) as e:
        err.print(f"{verb} failed: {e}\n{after}", markup=False, highlight=False)
        raise typer.Exit(1) from None


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
    try:
        with progress_bar() as bar, _told_failures(
                "replay", f"nothing was published at {into}; run it again"):
            events, total = _event_source(settings, source, bar)
            task = bar.add_task(f"replaying {described}", total=total)
            try:
                stats = run_replay(events, target, as_of=when, effective_at=at,
                                   progress=lambda p: bar.update(task, completed=p))
            finally:
                if isinstance(events, ReadAhead):
                    events.close()
            bar.update(task, completed=total)
    finally:
        target.close()
    typer.echo(f"replayed {stats.describe()} into {into}")
    typer.echo(f"time: {stats.split()}{_reader_figures(events)}")


def _reader_figures(events: object) -> str:
    """What the child process that read the event log cost, if one did."""
    from infra.event_store.read_ahead import ReadAhead

    if not isinstance(events, ReadAhead):
        return ""
    return f"; {events.cost()}"


def _database_suffix(as_of: str | None, effective_at: str | None) -> str:
    """The default MongoDB database's name after ``opsledger_``: ``asof_<time>`` as
    before, ``at_<time>`` for a business time, both when both are given."""
    def digits(moment: str) -> str:
        return "".join(ch for ch in moment if ch.isdigit())[:14]

    parts = ([f"asof_{digits(as_of)}"] if as_of else []) + (
        [f"at_{digits(effective_at)}"] if effective_at else [])
    return "_".join(parts)


def _replay_target(settings: Settings, into: str, mongo_db: str | None,
                   suffix: str) -> ReadStore | BulkLoadProcess:
    from infra.read_store.bulk_load_process import BulkLoadProcess

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
    # Loaded as readmodels.sqlite.partial, renamed once complete (see sqlite_bulk), by
    # a process of its own while this one folds.
    return BulkLoadProcess(path, new_file=True)


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
        with progress_bar() as bar, _told_failures(
                "rebuild", "the live read models are unchanged; run it again"):
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
