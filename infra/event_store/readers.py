"""Read connections to the SQLite event store for the command path's look-ups (an
aggregate's events), kept idle between uses without eventsourcing's pool.

Every command loads what it changes or checks, so these reads are as frequent as the
commands. eventsourcing's pool hands out each connection under a condition variable,
with reader-writer interlocking and its own ``BEGIN``/``ROLLBACK`` around the
statement: on a busy server that costs more than the query. A look-up here is one
statement in autocommit mode (SQLite reads it from one snapshot; WAL readers never
wait for the writer) on a connection taken from a plain list of idle ones, so there
are at most as many as look-ups ever ran at once, each with a small page cache.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

PAGE_CACHE_KB = 512
"""Each connection's page cache (SQLite's default is 2 MB): look-ups touch few pages,
and the operating system caches the file for all of them."""


class ReadConnections:
    """Idle read connections to one database file; thread-safe."""

    def __init__(self, db_name: str, *, timeout: float) -> None:
        self.db_name = db_name
        self.timeout = timeout
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # making and closing only: taking is a list pop
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """An idle connection (a new one when none is), given back afterwards."""
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._connect()
        try:
            yield conn
        finally:
            if self._closed:
                conn.close()
            else:
                self._idle.append(conn)

    def _connect(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the event store is closed")
            conn = sqlite3.connect(self.db_name, uri=True, check_same_thread=False,
                                   isolation_level=None, timeout=self.timeout)
            conn.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KB}")
            return conn

    def close(self) -> None:
        """Close every connection (one in use is closed when it is given back)."""
        with self._lock:
            self._closed = True
            for conn in self._idle:
                conn.close()
            self._idle.clear()
