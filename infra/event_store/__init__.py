"""The event log: where events are written, chained and read back in position order.

``open_ledger`` opens the configured event store (eventsourcing's SQLite recorder in
the data folder, chosen by settings so PostgreSQL can be configured in later without
code changes). The recorder adapters are :mod:`.sqlite` and :mod:`.memory`; the hash
chain is :mod:`.hash_chain`; reading the log back as public envelopes is :mod:`.log`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from domain.ledger import Ledger, PositionLookup
from infra.event_store.hash_chain import StoredEventHasher
from infra.event_store.sqlite import LedgerSQLiteRecorder
from infra.personal.keys import KeyStore
from infra.personal.mapper import PersonalDataMapper, sealed_reader
from infra.private_files import private_dir, private_sqlite
from infra.settings import Settings


@runtime_checkable
class LedgerRecorder(PositionLookup, Protocol):
    """What OpsLedger needs of an event store beyond eventsourcing's application
    recorder: the hash chain, extended inside the insert transaction by ``hasher``
    (set by whoever opens the ledger; ``None`` keeps no chain), and the position of a
    stored event (for idempotent retries).

    Adapters: :class:`~.sqlite.LedgerSQLiteRecorder`, :class:`~.memory.LedgerPOPORecorder`;
    ``tests/contract/test_event_store_contract.py`` runs over both.
    """

    hasher: StoredEventHasher | None

    def hashes(self, start: int, limit: int) -> list[tuple[int, str, str, str]]:
        """Chain rows ``(position, event id, prev hash, hash)`` from ``start``, in order."""
        ...

    def hash_at(self, position: int) -> tuple[str, str] | None:
        """``(prev hash, hash)`` of the public event at ``position``."""
        ...

    def head_hash(self) -> tuple[int, str]:
        """The position and hash of the chain's last link (``(0, GENESIS)``: none)."""
        ...


def chained(ledger: Ledger) -> Ledger:
    """Give ``ledger``'s recorder its hasher, so every save extends the hash chain (the
    canonical bytes need the ledger's own mapper). A recorder that keeps no chain is
    left as it is."""
    recorder = ledger.recorder
    if isinstance(recorder, LedgerRecorder):
        # The chain covers what is stored: personal data as sealed, never opened.
        recorder.hasher = StoredEventHasher(sealed_reader(ledger.mapper))
    return ledger


def ledger_recorder(ledger: Ledger) -> LedgerRecorder:
    """``ledger``'s recorder as a :class:`LedgerRecorder` (``TypeError`` if it is not one)."""
    recorder = ledger.recorder
    if not isinstance(recorder, LedgerRecorder):
        raise TypeError(f"{type(recorder).__name__} keeps no hash chain")
    return recorder


def ledger_env(settings: Settings) -> dict[str, str]:
    private_dir(settings.data_dir)
    private_sqlite(settings.event_store_path)
    return ledger_env_of(settings.event_store_path)


def ledger_env_of(path: Path) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": f"{LedgerSQLiteRecorder.__module__}:LedgerSQLiteRecorder",
        "MAPPER_TOPIC": f"{PersonalDataMapper.__module__}:PersonalDataMapper",
    }


def open_ledger(settings: Settings) -> Ledger:
    """The ledger over the configured event store, chaining every public event and
    sealing personal data under the keys of the key store beside it."""
    ledger = Ledger(env=ledger_env(settings))
    mapper = ledger.mapper
    if not isinstance(mapper, PersonalDataMapper):  # pragma: no cover - set by ledger_env
        raise TypeError(f"{type(mapper).__name__} does not seal personal data")
    mapper.attach(KeyStore(settings.key_store_path))
    return chained(ledger)


def read_only_ledger(settings: Settings) -> Ledger:
    """The configured event store opened read-only, as stored (nothing sealed or
    opened, no key store): for reading an old store without changing a byte of it
    (``opsledger migrate encrypt``). SQLite may leave its (empty) ``-wal``/``-shm``
    files beside it, as any reader does; a save fails."""
    path = settings.event_store_path
    if not path.is_file():
        raise FileNotFoundError(f"no event store at {path}")
    env = {**ledger_env_of(path), "SQLITE_DBNAME": f"file:{path}?mode=ro",
           "CREATE_TABLE": "false"}
    return chained(Ledger(env=env))


def key_store(ledger: Ledger) -> KeyStore | None:
    """The key store ``ledger`` seals personal data with (None: it seals nothing)."""
    return getattr(ledger.mapper, "keys", None)


def close_ledger(ledger: Ledger) -> None:
    """Close ``ledger`` and the key store it seals with."""
    keys = key_store(ledger)
    ledger.close()
    if keys is not None:
        keys.close()
