"""The SQLite event store: eventsourcing's SQLite recorder (WAL mode), extended with
the hash chain, the position look-up the ledger needs for idempotent retries, and
group commit (:mod:`.group_commit`): every save is stored by one writer thread that
commits all the saves waiting in one transaction, and hands what each group stored to
the embedded follower (:mod:`.committed`), once it is committed."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from domain.envelope import EventEnvelope
from infra.event_store.committed import CommittedFeed
from infra.event_store.group_commit import GroupCommitWriter
from infra.event_store.hash_chain import GENESIS, StoredEventHasher, envelope_bytes, link
from infra.event_store.readers import ReadConnections

HASHES_TABLE = "event_hashes"
_COLUMNS = "SELECT originator_id, originator_version, topic, state "


@dataclass
class _Inserted:
    """One save's rows: their positions, and the public envelopes among them with
    their chain links (None: not known, as when no chain is kept)."""

    positions: Sequence[int] | None
    envelopes: list[EventEnvelope] | None


def _publish(feed: CommittedFeed, saves: list[_Inserted]) -> None:
    """A committed group's saves into ``feed`` (a function, not a method: the writer's
    thread must hold no recorder)."""
    positions: list[int] = []
    envelopes: list[EventEnvelope] = []
    for save in saves:
        if save.envelopes is None:
            feed.clear()
            return
        positions.extend(save.positions or ())
        envelopes.extend(save.envelopes)
    feed.publish(positions, envelopes)


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
        self.readers: ReadConnections | None = None
        self._feed: CommittedFeed | None = None
        if not pool.is_sqlite_memory_mode:
            timeout = float(pool.lock_timeout or 5)
            self.writer = GroupCommitWriter(pool.db_name, timeout=timeout)
            self.readers = ReadConnections(pool.db_name, timeout=timeout)
            weakref.finalize(self, self.readers.close)
            # A recorder dropped unclosed (tests, scripts) takes its thread and
            # connection with it; the thread holds the writer, never the recorder.
            weakref.finalize(self, self.writer.close)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.writer is None:
            return super().insert_events(stored_events, **kwargs)
        return self.writer.run(lambda c: self._insert(c, stored_events, **kwargs)).positions

    def committed_feed(self) -> CommittedFeed | None:
        """The feed of what this recorder's writer commits, made on first ask (for the
        embedded follower; None: an in-memory database, which has no writer)."""
        if self.writer is None:
            return None
        if self._feed is None:
            self._feed = CommittedFeed()
            self.writer.on_commit = lambda saves, feed=self._feed: _publish(feed, saves)
        return self._feed

    def close(self) -> None:
        """Store every save already waiting, then stop the writer."""
        if self.writer is not None:
            self.writer.close()
        if self.readers is not None:
            self.readers.close()

    def select_events(
        self, originator_id: UUID | str, *, gt: int | None = None, lte: int | None = None,
        desc: bool = False, limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """eventsourcing's look-up of an aggregate's events, on a connection of
        :mod:`.readers` (an in-memory database: through the pool, its only one)."""
        if self.readers is None:
            return super().select_events(originator_id, gt=gt, lte=lte, desc=desc,
                                         limit=limit)
        statement = self.select_events_statement
        params: list[Any] = [
            originator_id.hex if isinstance(originator_id, UUID) else originator_id]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += "ORDER BY originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        statement = statement.replace("SELECT * ", _COLUMNS, 1)
        with self.readers.connection() as conn:
            rows = conn.execute(statement, params).fetchall()
        convert = self.convert_originator_id
        return [StoredEvent(originator_id=convert(r[0]), originator_version=r[1], topic=r[2],
                            state=r[3]) for r in rows]

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {HASHES_TABLE} (position INTEGER PRIMARY KEY, "
            "event_id TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return self._insert(c, stored_events, **kwargs).positions

    def _insert(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> _Inserted:
        positions = super()._insert_events(c, stored_events, **kwargs)
        hasher = self.hasher
        if hasher is None or not positions:
            return _Inserted(positions, None if hasher is None else [])
        c.execute(f"SELECT hash FROM {HASHES_TABLE} ORDER BY position DESC LIMIT 1")
        row = c.fetchone()
        prev = row[0] if row else GENESIS
        if not isinstance(hasher, StoredEventHasher):  # any callable of the port's shape
            for stored, position in zip(stored_events, positions, strict=True):
                hashed = hasher(stored, position)
                if hashed is not None:
                    prev = self._link(c, position, hashed[0], prev, hashed[1])
            return _Inserted(positions, None)  # no envelopes known: the feed is not fed
        envelopes = []
        for stored, position in zip(stored_events, positions, strict=True):
            envelope = hasher.envelope(stored, position)
            if envelope is None:
                continue
            current = self._link(c, position, envelope.id, prev, envelope_bytes(envelope))
            # As the log reads it back (read_envelopes): the same envelope, linked.
            envelopes.append(replace(envelope, prev_hash=prev, hash=current))
            prev = current
        return _Inserted(positions, envelopes)

    @staticmethod
    def _link(c: SQLiteCursor, position: int, event_id: str, prev: str,
              canonical: bytes) -> str:
        current = link(prev, canonical)
        c.execute(f"INSERT INTO {HASHES_TABLE} VALUES (?, ?, ?, ?)",
                  (position, event_id, prev, current))
        return current

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
