"""Bulk loads of the embedded read store, for its only writer: a replay's new file,
a rebuild's new generation of tables.

What makes a load fast here, measured on a 200k-event store: the field indexes
are made once at the end (one sort instead of an update at every insert; kept up
as rows went in, the write-once collections' indexes cost the writer thread more
than the whole fold, their pages spread past any cache); each table's batch in one
statement; and for a new file, no journal, no fsync and larger pages until the
file is complete. A new file is loaded under a name of its own (``<name>.partial``), made
durable and renamed into place only once complete: after a crash the file the
replay was asked for does not exist, so an incomplete replay cannot pass for one.
A rebuild's generation lives in the live file (a serving process's follower
writes beside it), so it keeps that file's journal and fsyncs; a crash leaves
only build tables, which the next rebuild drops.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson

from infra.read_store.sqlite import LIVE_PREFIX, SQLiteReadStore
from projections.catalog import INDEXED_FIELDS
from projections.fold import Document
from projections.registry import APPEND_ONLY

LOAD_CACHE_KB = 8 * 1024
"""The loading connection's page cache: a batch's pages and the hot index pages. 8 MB,
not 32: the same events/s on the 200k store, and 58 MB less resident at the peak
(269 -> 211 MB), room for the child reading the log (the target is on the sum)."""
NEW_FILE_PAGE_SIZE = 8192
"""Fewer, fuller pages for documents of a few kB (a quarter less writing than 4 kB)."""
WAL_CHECKPOINT_PAGES = 16_384
PARTIAL = ".partial"
ROWS = 256
"""Documents per INSERT statement (two parameters each)."""


def _chunks(count: int) -> Iterator[int]:
    """``count`` rows as statements of :data:`ROWS`, then of halving sizes (a few
    statement shapes, all kept prepared)."""
    size = ROWS
    while count:
        while size > count:
            size //= 2
        yield size
        count -= size


@functools.lru_cache(maxsize=1024)
def _insert_sql(table: str, append_only: bool, rows: int) -> str:
    keep = "NOTHING" if append_only else "UPDATE SET body = excluded.body"
    return (f'INSERT INTO "{table}" (id, body) VALUES '
            + ", ".join(["(?, CAST(? AS TEXT))"] * rows) + f" ON CONFLICT(id) DO {keep}")


def row_parts(changes: Mapping[tuple[str, str], Document], part_rows: int | None = None,
              ) -> Iterator[tuple[str, list[str | bytes]]]:
    """Each collection's changes as the parameters of its inserts (id, JSON, id, JSON,
    ...), in parts of at most ``part_rows`` documents (``None``: one part per
    collection). A part's documents are made JSON only when it is asked for, so a
    caller sending parts never holds the whole batch as JSON."""
    by_collection: dict[str, list[tuple[str, Document]]] = {}
    for (collection, doc_id), doc in changes.items():
        docs = by_collection.get(collection)
        if docs is None:
            docs = by_collection[collection] = []
        docs.append((doc_id, doc))
    for collection, docs in by_collection.items():
        step = part_rows or len(docs)
        for at in range(0, len(docs), step):
            # Bytes, made text by SQLite (CAST), with the GIL let go.
            yield collection, [part for doc_id, doc in docs[at:at + step]
                               for part in (doc_id, orjson.dumps(doc))]


class SQLiteBulkStore(SQLiteReadStore):
    """A read store written by nobody else while it loads: :meth:`load` for each
    batch, all inside :meth:`bulk_loading`."""

    STATEMENTS = 512  # each table's inserts, in each of their sizes (_chunks)

    def __init__(self, path: Path | str, *, prefix: str = LIVE_PREFIX,
                 new_file: bool = False) -> None:
        """``new_file``: ``path`` must not exist; the load goes to ``path.partial``
        and becomes ``path`` when :meth:`bulk_loading` ends without an error."""
        self.final_path = str(path)
        self.new_file = new_file
        self._deferred: set[str] = set(INDEXED_FIELDS)
        self._readers: list[sqlite3.Connection] = []
        if new_file:
            if Path(self.final_path).exists():
                raise FileExistsError(self.final_path)
            partial = self.final_path + PARTIAL
            for stale in (partial, partial + "-journal", partial + "-wal", partial + "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(stale)  # an earlier replay that never finished
            path = partial
        super().__init__(path, prefix=prefix)
        self._writer.execute(f"PRAGMA cache_size=-{LOAD_CACHE_KB}")
        if not new_file:
            # In the live file's WAL: copy pages into the database (and fsync) every
            # ~64 MB written rather than every 4 MB, i.e. every batch.
            self._writer.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")

    def _connect(self) -> sqlite3.Connection:
        if not self.new_file:
            return super()._connect()
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                               timeout=30, cached_statements=self.STATEMENTS)
        # Set before the first table: a new database takes its page size from it.
        conn.execute(f"PRAGMA page_size={NEW_FILE_PAGE_SIZE}")
        # Neither is needed for a file that is renamed into place only once complete.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        self._readers.append(conn)
        return conn

    def _make_indexes(self, collection: str) -> bool:
        return collection not in self._deferred

    def empty(self) -> bool:
        """Holds no document (a fresh target: what a replay did not write is not there)."""
        for collection in INDEXED_FIELDS:
            try:
                if self._writer.execute(
                        f'SELECT 1 FROM "{self._table(collection)}" LIMIT 1').fetchone():
                    return False
            except sqlite3.OperationalError:
                continue
        return True

    def load(self, changes: Mapping[tuple[str, str], Document],
             checkpoint: tuple[str, int]) -> None:
        """``commit`` for the only writer of these tables: no guard against a copy that
        is further on (none can be), a few statements per table for the whole batch.

        Each statement inserts :data:`ROWS` documents (``VALUES (?, ?), …``): a
        statement per row would give up and take back the GIL at every row, and the
        fold beside it would wait each time (a replay's writer thread spent most of
        its time so). Before, a table's batch went as one JSON object that SQLite took
        apart (``json_each``): parsing and writing out again every document cost a
        third of the writer's SQLite time."""
        with self._write_lock:
            self.begin_batch()
            try:
                for collection, params in row_parts(changes):
                    self.insert_rows(collection, params)
                self.commit_batch(checkpoint)
            except BaseException:
                self.abort_batch()
                raise

    # A batch in parts, for a writer that receives it so (bulk_load_process): begin,
    # the rows table by table in as many parts as it likes, then commit or abort.

    def begin_batch(self) -> None:
        self._writer.execute("BEGIN IMMEDIATE")

    def insert_rows(self, collection: str, params: list[str | bytes]) -> None:
        """Documents of ``collection`` as :func:`row_parts` lays them out."""
        conn = self._writer
        table = self._ensure_table(collection)
        at = 0
        for rows in _chunks(len(params) // 2):
            conn.execute(_insert_sql(table, collection in APPEND_ONLY, rows),
                         params[at:at + 2 * rows])
            at += 2 * rows

    def commit_batch(self, checkpoint: tuple[str, int]) -> None:
        conn = self._writer
        conn.execute(
            "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET position = excluded.position "
            "WHERE excluded.position > checkpoints.position", checkpoint)
        conn.execute("COMMIT")

    def abort_batch(self) -> None:
        if self._writer.in_transaction:
            self._writer.execute("ROLLBACK")

    @contextlib.contextmanager
    def bulk_loading(self) -> Iterator[None]:
        """Around the whole load. When it ends without an error: the deferred indexes
        are made, and a new file is synced, renamed into place and reopened as any
        store is (WAL). After an error a new file stays ``.partial``."""
        yield
        with self._write_lock:
            self._deferred.clear()
            self._tables.clear()  # _ensure_table makes the missing indexes
            for collection in INDEXED_FIELDS:
                self._ensure_table(collection)
        if self.new_file:
            self._publish()

    def _publish(self) -> None:
        with self._write_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._local = type(self._local)()
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(self.path, self.final_path)
            folder = os.open(os.path.dirname(os.path.abspath(self.final_path)), os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
            self.path, self.new_file = self.final_path, False
            self._writer = self._connect()

    def close(self) -> None:
        for conn in self._readers:
            conn.close()
        self._readers.clear()
        super().close()
