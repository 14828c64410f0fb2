"""The SQLite event store: eventsourcing's SQLite recorder (WAL mode), extended with
the hash chain and the position look-up the ledger needs for idempotent retries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from infra.event_store.hash_chain import GENESIS, StoredEventHasher, link

HASHES_TABLE = "event_hashes"


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """The SQLite recorder, plus the hash chain and the position look-up that
    idempotent retries need.

    The chain is extended inside the insert transaction: SQLite has one writer at
    a time, and the first INSERT takes the write lock, so the previous hash read
    after it is well defined and no two events can claim the same predecessor.
    """

    hasher: StoredEventHasher | None = None

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {HASHES_TABLE} (position INTEGER PRIMARY KEY, "
            "event_id TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        if self.hasher is None or not positions:
            return positions
        c.execute(f"SELECT hash FROM {HASHES_TABLE} ORDER BY position DESC LIMIT 1")
        row = c.fetchone()
        prev = row[0] if row else GENESIS
        for stored, position in zip(stored_events, positions, strict=True):
            hashed = self.hasher(stored, position)
            if hashed is None:
                continue
            event_id, canonical = hashed
            current = link(prev, canonical)
            c.execute(f"INSERT INTO {HASHES_TABLE} VALUES (?, ?, ?, ?)",
                      (position, event_id, prev, current))
            prev = current
        return positions

    def hashes(self, start: int, limit: int) -> list[tuple[int, str, str, str]]:
        """Chain rows (position, event id, prev hash, hash) from ``start``, in order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position, event_id, prev_hash, hash FROM {HASHES_TABLE} "
                "WHERE position >= ? ORDER BY position LIMIT ?", (start, limit),
            )
            return [tuple(r) for r in c.fetchall()]

    def hash_at(self, position: int) -> tuple[str, str] | None:
        """(prev hash, hash) of the public event at ``position``."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT prev_hash, hash FROM {HASHES_TABLE} WHERE position = ?",
                      (position,))
            row = c.fetchone()
        return (row[0], row[1]) if row else None

    def head_hash(self) -> tuple[int, str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position, hash FROM {HASHES_TABLE} ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
        return (int(row[0]), row[1]) if row else (0, GENESIS)

    def position_of(self, originator_id: UUID, originator_version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid FROM {self.events_table_name} "
                "WHERE originator_id = ? AND originator_version = ?",
                (originator_id.hex, originator_version),
            )
            row = c.fetchone()
        return int(row[0]) if row else None
