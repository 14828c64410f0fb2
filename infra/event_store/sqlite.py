"""The SQLite event store: eventsourcing's SQLite recorder (WAL mode), extended with
the hash chain, the position look-up the ledger needs for idempotent retries, and
group commit (:mod:`.group_commit`): every save is stored by one writer thread that
commits all the saves waiting in one transaction."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from infra.event_store.group_commit import GroupCommitWriter
from infra.event_store.hash_chain import GENESIS, StoredEventHasher, link

HASHES_TABLE = "event_hashes"


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """The SQLite recorder, plus the hash chain and the position look-up that
    idempotent retries need.

    The chain is extended inside the insert transaction: SQLite has one writer at
    a time, and the group's transaction holds the write lock from its start, so the
    previous hash read in a save's savepoint is well defined (the last link stored,
    by an earlier group or an earlier save of this one) and no two events can claim
    the same predecessor.

    Saves go through the group-commit writer (``writer``), which stores each save's
    events, chain links and idempotency record in its own savepoint: a conflicting
    save fails alone, as it would have on its own. An in-memory database (one per
    connection) has no writer and saves through eventsourcing's pool as before.
    """

    hasher: StoredEventHasher | None = None

    def __init__(self, datastore: SQLiteDatastore,
                 events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        pool = datastore.pool
        self.writer: GroupCommitWriter | None = None
        if not pool.is_sqlite_memory_mode:
            self.writer = GroupCommitWriter(pool.db_name, timeout=float(pool.lock_timeout or 5))
            # A recorder dropped unclosed (tests, scripts) takes its thread and
            # connection with it; the thread holds the writer, never the recorder.
            weakref.finalize(self, self.writer.close)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.writer is None:
            return super().insert_events(stored_events, **kwargs)
        return self.writer.run(lambda c: self._insert_events(c, stored_events, **kwargs))

    def close(self) -> None:
        """Store every save already waiting, then stop the writer."""
        if self.writer is not None:
            self.writer.close()

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
