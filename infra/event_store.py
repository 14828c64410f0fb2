"""Event-store wiring: eventsourcing's SQLite recorder in the data folder (WAL mode),
chosen by settings so PostgreSQL can be configured in later without code changes."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain.ledger import Ledger
from infra.settings import Settings


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """The SQLite recorder, plus the position look-up idempotent retries need."""

    def position_of(self, originator_id: UUID, originator_version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid FROM {self.events_table_name} "
                "WHERE originator_id = ? AND originator_version = ?",
                (originator_id.hex, originator_version),
            )
            row = c.fetchone()
        return int(row[0]) if row else None


def ledger_env(settings: Settings) -> dict[str, str]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.event_store_path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": f"{__name__}:LedgerSQLiteRecorder",
    }


def open_ledger(settings: Settings) -> Ledger:
    return Ledger(env=ledger_env(settings))
