"""The replay benchmark's data: a SQLite event store made once by the real domain, kept.

:func:`dataset` returns a data folder (``events.sqlite`` with its hash chain and
``keys.sqlite``, personal data sealed) holding about ``events`` events made by the
command services of :mod:`benchmarks.history` over :func:`infra.event_store.open_ledger`,
then a few erasures. It is kept under ``benchmarks/.data/`` (git-ignored) and reused on
the next run; a folder made by other code (another event catalog, another generator)
has another name, so a change of either makes a new one.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool

from benchmarks.history import World, drive
from domain.catalog import ALL_EVENTS
from domain.errors import NotFoundError
from domain.ledger import CommandContext
from domain.meta import CommandMeta
from domain.privacy.service import ErasureService
from infra.event_store import key_store, open_ledger
from infra.settings import Settings

DEFAULT_ROOT = Path(__file__).resolve().parent / ".data"
_DONE = "dataset.json"


GENERATOR_VERSION = 1
"""Raise when the generator makes different data (the folder's name changes with it)."""


def fingerprint() -> str:
    """Changes with the event catalog (every event class, its version and its fields)
    and with :data:`GENERATOR_VERSION`."""
    digest = hashlib.sha256(f"generator {GENERATOR_VERSION}\n".encode())
    for cls in ALL_EVENTS:
        fields = sorted(getattr(cls, "__annotations__", {}))
        digest.update(f"{cls.__module__}.{cls.__qualname__}:"
                      f"{getattr(cls, 'class_version', 1)}:{','.join(fields)}\n".encode())
    return digest.hexdigest()[:12]


def dataset(events: int, root: Path = DEFAULT_ROOT, *, seed: int = 7) -> tuple[Path, dict]:
    """The data folder for ``events`` events, made now unless a complete one is kept;
    and what its making recorded (events, head position, seconds)."""
    folder = root / f"{fingerprint()}-{events}"
    done = folder / _DONE
    if done.exists():
        info = json.loads(done.read_text())
        print(f"reusing {folder} ({info['head']:,} positions, made in "
              f"{info['seconds']:.0f}s)", flush=True)
        return folder, info
    if folder.exists():  # an unfinished run
        shutil.rmtree(folder)
    for stale in root.glob(f"*-{events}"):  # made by other code: of no use any more
        shutil.rmtree(stale)
    folder.mkdir(parents=True)
    print(f"generating about {events:,} events through the domain into {folder} "
          "(once; kept for the next run)", flush=True)
    started = time.monotonic()
    info = _generate(folder, events, seed, started)
    info["seconds"] = time.monotonic() - started
    done.write_text(json.dumps(info))
    print(f"generated {info['head']:,} positions in {info['seconds']:.0f}s", flush=True)
    return folder, info


@contextmanager
def _unsynced() -> Iterator[None]:
    """Event-store commits without fsync while the data is made: a run that stops
    half-way leaves no ``dataset.json`` and is made again, so durability buys nothing
    here, and fsync per command would make a million events take an hour."""
    create = SQLiteConnectionPool._create_connection

    def unsynced(pool: SQLiteConnectionPool) -> SQLiteConnection:
        connection = create(pool)
        connection._sqlite_conn.execute("PRAGMA synchronous=OFF")
        return connection

    SQLiteConnectionPool._create_connection = unsynced  # type: ignore[method-assign]
    try:
        yield
    finally:
        SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign]


def _generate(folder: Path, events: int, seed: int, started: float) -> dict:
    with _unsynced():
        return _make(folder, events, seed, started)


def _make(folder: Path, events: int, seed: int, started: float) -> dict:
    ledger = open_ledger(Settings(data_dir=folder))
    try:
        # Two years of history at about a command a minute; half the customer
        # feedback names its customer, so there are customer keys to erase.
        world = World(random.Random(seed), datetime(2024, 6, 3, 8, 0, tzinfo=UTC), ledger,
                       step=(5, 120), customers=0.5)

        def progress(done: int) -> None:
            if done % 10_000 == 0:
                rate = done / max(time.monotonic() - started, 1e-9)
                eta = (events - done) / rate if rate else 0
                print(f"  {done:>9,} / {events:,} commands  {rate:,.0f}/s  "
                      f"about {eta:,.0f}s to go", flush=True)

        drive(world, events, teams=max(2, events // 2500), progress=progress)
        erase_some(world, ledger)
        return {"events": events, "head": ledger.head_position(), "seed": seed}
    finally:
        ledger.close()
        keys = key_store(ledger)
        if keys is not None:
            keys.close()


def erase_some(world: World, ledger: object) -> None:
    """A few members' and customers' personal data erased, as a real store has."""
    keys = key_store(ledger)  # type: ignore[arg-type]
    if keys is None:
        return
    privacy = ErasureService(ledger, keys)  # type: ignore[arg-type]
    ctx = CommandContext(CommandMeta(actor="user:admin", now=world.now))
    for n in range(3):
        try:
            privacy.erase_customer(f"customer{n}@example.org", "asked to be forgotten", ctx)
        except NotFoundError:  # a short run may not have named this one
            continue
