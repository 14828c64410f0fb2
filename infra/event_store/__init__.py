"""The event log: where events are written, chained and read back in position order.

``open_ledger`` opens the configured event store (eventsourcing's SQLite recorder in
the data folder, chosen by settings so PostgreSQL can be configured in later without
code changes). The recorder adapters are :mod:`.sqlite` and :mod:`.memory`; the hash
chain is :mod:`.hash_chain`; reading the log back as public envelopes is :mod:`.log`.
"""

from __future__ import annotations

from domain.ledger import Ledger
from infra.event_store.hash_chain import StoredEventHasher
from infra.event_store.sqlite import LedgerSQLiteRecorder
from infra.private_files import private_dir, private_sqlite
from infra.settings import Settings


def ledger_env(settings: Settings) -> dict[str, str]:
    private_dir(settings.data_dir)
    private_sqlite(settings.event_store_path)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.event_store_path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": f"{LedgerSQLiteRecorder.__module__}:LedgerSQLiteRecorder",
    }


def open_ledger(settings: Settings) -> Ledger:
    ledger = Ledger(env=ledger_env(settings))
    recorder = ledger.recorder
    if isinstance(recorder, LedgerSQLiteRecorder):
        recorder.hasher = StoredEventHasher(ledger.mapper.to_domain_event)
    return ledger
