"""The embedded read store: JSON documents in a SQLite file, one table per collection.

Persistent and serverless. ``commit`` writes documents and the checkpoint in one
transaction, so the follower's checkpoint can never run ahead of (or behind) the
documents it describes.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import orjson

from infra.private_files import private_sqlite
from infra.read_store.port import (
    AnyOf,
    CheckpointMovedError,
    Filters,
    Page,
    PagedIteration,
    Range,
    check_name,
    decode_cursor,
    encode_cursor,
)
from infra.read_store.sqlite_schema import ensure_table, field_sql
from projections.catalog import INDEXED_FIELDS
from projections.fold import Document, Lookup
from projections.registry import APPEND_ONLY

LIVE_PREFIX = "c_"
BUILD_PREFIX = "r_"


def _sql_value(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


class SQLiteReadStore(PagedIteration):
    STATEMENTS = 128
    """Prepared statements each connection keeps (sqlite3's default)."""

    def __init__(self, path: Path | str, *, prefix: str = LIVE_PREFIX) -> None:
        """``prefix`` names a generation of tables: the live one, or one being rebuilt
        beside it (see :func:`infra.projecting.rebuild_embedded.rebuild_embedded`)."""
        self.path = str(path)
        private_sqlite(self.path)  # 0600, and so its -wal/-shm files
        self.prefix = prefix
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._tables: set[str] = set()
        self._writer = self._connect()
        with self._write_lock:
            self._writer.execute(
                "CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER)"
            )
            for collection in INDEXED_FIELDS:
                self._ensure_table(collection)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                               timeout=30, cached_statements=self.STATEMENTS)
        conn.execute("PRAGMA journal_mode=WAL")
        # No fsync per commit (WAL syncs at checkpoints): the read models are derived
        # data, documents and checkpoint share each transaction, so a power loss can
        # only take back the last folds together, and the follower folds them again
        # from the event store, whose commits are durable. A command pays one fsync.
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _table(self, collection: str) -> str:
        return f"{self.prefix}{check_name(collection)}"

    def _ensure_table(self, collection: str) -> str:
        table = self._table(collection)
        if table in self._tables:
            return table
        ensure_table(self._writer, table, collection,
                     make_indexes=self._make_indexes(collection))
        self._tables.add(table)
        return table

    def _make_indexes(self, collection: str) -> bool:
        """Whether ``collection``'s field indexes are made with its table (a bulk load
        makes some at its end: :mod:`infra.read_store.sqlite_bulk`)."""
        return True

    # -- reads -----------------------------------------------------------------

    def get(self, collection: str, doc_id: str) -> Document | None:
        return self._get_with(self._reader(), collection, doc_id)

    def _get_with(
        self, conn: sqlite3.Connection, collection: str, doc_id: str
    ) -> Document | None:
        table = self._table(collection)
        try:
            row = conn.execute(
                f'SELECT body FROM "{table}" WHERE id = ?', (doc_id,)
            ).fetchone()
        except sqlite3.OperationalError:
            return None  # the collection has no documents yet
        return orjson.loads(row[0]) if row else None

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Document]:
        found: dict[str, Document] = {}
        table = self._table(collection)
        for i in range(0, len(doc_ids), 500):
            part = doc_ids[i : i + 500]
            marks = ",".join("?" * len(part))
            try:
                rows = self._reader().execute(
                    f'SELECT id, body FROM "{table}" WHERE id IN ({marks})', part
                ).fetchall()
            except sqlite3.OperationalError:
                return found
            found.update((r[0], orjson.loads(r[1])) for r in rows)
        return found

    def _where(self, collection: str, filters: Filters) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for name, value in filters.items():
            column = field_sql(collection, name)
            if isinstance(value, Range):
                if value.gte is not None:
                    clauses.append(f"{column} >= ?")
                    params.append(_sql_value(value.gte))
                if value.lte is not None:
                    clauses.append(f"{column} <= ?")
                    params.append(_sql_value(value.lte))
            elif isinstance(value, AnyOf):
                present = value.present()
                if not present:
                    clauses.append("0")  # no value can match
                else:
                    clauses.append(f"{column} IN ({','.join('?' * len(present))})")
                    params += [_sql_value(v) for v in present]
            else:
                clauses.append(f"{column} = ?")
                params.append(_sql_value(value))
        return clauses, params

    def find(
        self, collection: str, filters: Filters, *, order_by: str = "_id",
        limit: int = 50, cursor: str | None = None,
    ) -> Page:
        clauses, params = self._where(collection, filters)
        order = field_sql(collection, order_by)
        if cursor:
            after_value, after_id = decode_cursor(cursor)
            if order_by == "_id":
                clauses.append("id > ?")
                params.append(after_id)
            elif after_value is None:  # NULLs (and missing fields) sort first
                clauses.append(f"({order} IS NOT NULL OR id > ?)")
                params.append(after_id)
            else:
                clauses.append(f"({order}, id) > (?, ?)")  # a row value: uses the index
                params += [after_value, after_id]
        sql = f'SELECT id, body FROM "{self._table(collection)}"'
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY {order}, id LIMIT ?"
        params.append(limit + 1)
        try:
            rows = self._reader().execute(sql, params).fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return Page([], None)
            raise
        items = [orjson.loads(body) for _, body in rows[:limit]]
        next_cursor = None
        if len(rows) > limit and items:
            last = items[-1]
            next_cursor = encode_cursor(
                last.get(order_by) if order_by != "_id" else None, rows[limit - 1][0]
            )
        return Page(items, next_cursor)

    def has_position(self, position: int) -> bool:
        """Has the event at this global position reached the read models (its audit record)?"""
        row = self._reader().execute(
            f'SELECT 1 FROM "{self._table("audit_trail")}" '
            f"WHERE {field_sql('audit_trail', 'position')} = ? LIMIT 1", (position,)
        ).fetchone()
        return row is not None

    def checkpoint(self, name: str) -> int:
        row = self._reader().execute(
            "SELECT position FROM checkpoints WHERE name = ?", (name,)
        ).fetchone()
        return int(row[0]) if row else 0

    # -- writes ----------------------------------------------------------------

    def commit(
        self, changes: Mapping[tuple[str, str], Document], checkpoint: tuple[str, int],
        *, expected: int | None = None, owned: AbstractSet[tuple[str, str]] = frozenset(),
    ) -> AbstractSet[tuple[str, str]]:
        """Write documents and checkpoint in one transaction. With ``expected``, only if
        the checkpoint still stands there (else :class:`CheckpointMovedError`): a
        writer whose batch was folded from a generation since switched out must redo it.
        """
        self.fold_and_commit(lambda read: changes, checkpoint, expected=expected)
        return frozenset()  # one transaction: every document is as given or newer

    def fold_and_commit(
        self, compute: Callable[[Lookup], Mapping[tuple[str, str], Document]],
        checkpoint: tuple[str, int], *, expected: int | None = None,
    ) -> None:
        """``commit(compute(read), checkpoint)`` with the reads inside the write
        transaction: nothing (a rebuild's switch above all) can change what the
        changes were computed from before they are written. ``expected`` alone cannot
        promise that: a switch at the very position a writer started from leaves the
        checkpoint where it was."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                if expected is not None:
                    row = conn.execute("SELECT position FROM checkpoints WHERE name = ?",
                                       (checkpoint[0],)).fetchone()
                    if (int(row[0]) if row else 0) != expected:
                        raise CheckpointMovedError(checkpoint[0])
                changes = compute(functools.partial(self._get_with, conn))
                for (collection, doc_id), doc in changes.items():
                    table = self._ensure_table(collection)
                    if collection in APPEND_ONLY:  # written once: keep the first copy
                        conn.execute(
                            f'INSERT INTO "{table}" (id, body) VALUES (?, ?) '
                            "ON CONFLICT(id) DO NOTHING",
                            (doc_id, orjson.dumps(doc).decode()),
                        )
                        continue
                    # As in MongoDB: never replace a document by one that is behind it
                    # on any stream it was built from (see infra.read_store.mongo).
                    conn.execute(
                        f'INSERT INTO "{table}" (id, body) VALUES (?, ?) '
                        "ON CONFLICT(id) DO UPDATE SET body = excluded.body "
                        "WHERE NOT EXISTS (SELECT 1 FROM json_each(excluded.body, '$._streams')"
                        f' AS n JOIN json_each("{table}".body, \'$._streams\') AS o'
                        " ON o.key = n.key WHERE o.value > n.value)",
                        (doc_id, orjson.dumps(doc).decode()),
                    )
                name, position = checkpoint
                conn.execute(
                    "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET position = excluded.position "
                    "WHERE excluded.position > checkpoints.position",
                    (name, position),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- generations (blue/green rebuilds) -------------------------------------

    def _tables_with_prefix(self, prefix: str) -> list[str]:
        rows = self._writer.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE '\\'",
            (prefix.replace("_", "\\_") + "%",),
        ).fetchall()
        return [r[0] for r in rows]

    def active_generation(self) -> tuple[str, str]:
        """The live tables serve (a switch renames the built ones into place)."""
        return LIVE_PREFIX, ""

    def drop_generation(self, prefix: str | None = None) -> list[str]:
        """Drop the tables of generation ``prefix`` (by default this store's own: a
        leftover, unfinished rebuild); the tables dropped."""
        with self._write_lock:
            doomed = self._tables_with_prefix(self.prefix if prefix is None else prefix)
            for table in doomed:
                self._writer.execute(f'DROP TABLE "{table}"')
            self._tables.clear()
        return doomed

    def switch_to(
        self, build: SQLiteReadStore,
        catch_up: Callable[[SQLiteReadStore], tuple[Mapping[tuple[str, str], Document], int]],
        checkpoints: tuple[str, ...],
    ) -> int:
        """Atomically make ``build``'s tables the live ones.

        In one write transaction (which holds off every other writer, e.g. a serving
        follower): ``catch_up`` folds what was stored since the build's position, its
        changes are written into the build's tables, the tables are renamed into
        place, and the named checkpoints move to the new position. Readers see the
        old generation or the new one, never a mix.
        """
        with self._write_lock, build._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                changes, position = catch_up(build)
                for (collection, doc_id), doc in changes.items():
                    table = f"{build.prefix}{check_name(collection)}"
                    conn.execute(
                        f'INSERT INTO "{table}" (id, body) VALUES (?, ?) '
                        "ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                        (doc_id, orjson.dumps(doc).decode()),
                    )
                for table in self._tables_with_prefix(build.prefix):
                    collection = table.removeprefix(build.prefix)
                    live = f"{self.prefix}{collection}"
                    conn.execute(f'DROP TABLE IF EXISTS "{live}"')
                    conn.execute(f'ALTER TABLE "{table}" RENAME TO "{live}"')
                for name in checkpoints:
                    conn.execute(
                        "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET position = excluded.position "
                        "WHERE excluded.position > checkpoints.position", (name, position),
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        self._tables.clear()
        build._tables.clear()
        return position

    def ping(self) -> None:
        self._reader().execute("SELECT 1").fetchone()

    def close(self) -> None:
        self._writer.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
