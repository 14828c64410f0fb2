"""Group commit for the SQLite event store: one writer thread that commits every
command waiting to be stored in one transaction, so many commands share one fsync.

Each command's writes run in their own SAVEPOINT inside the group's transaction: a
command that fails (a unique-constraint conflict, or anything its job raises) is
rolled back to its savepoint and fails alone, exactly as it would have on its own,
while the others in the group land. The caller blocks until the COMMIT that holds
its rows has returned; the connection is ``synchronous=FULL`` in WAL mode, so the
WAL is fsynced by that COMMIT and no caller hears "stored" before it is durable.
When the transaction itself cannot begin or commit, every command in the group
fails with that error and nothing of the group is stored.

Positions (SQLite rowids) are taken in the order the jobs run, and a rolled-back
savepoint gives its rowids back, so positions stay gap-free and in commit order.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eventsourcing import persistence as es
from eventsourcing.sqlite import SQLiteCursor

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_GROUP = 256
"""Commands committed in one transaction at most (bounds one commit's latency)."""
MAX_QUEUE = 4096
"""Commands waiting for the writer at most; beyond it callers wait for room, up to
the lock timeout, then fail with :class:`eventsourcing.persistence.OperationalError`."""

# sqlite3's errors as eventsourcing's, as its own SQLite transactions translate them
# (the ledger catches eventsourcing's IntegrityError as a concurrency conflict).
_ERRORS: tuple[tuple[type[sqlite3.Error], type[es.PersistenceError]], ...] = (
    (sqlite3.IntegrityError, es.IntegrityError),
    (sqlite3.InterfaceError, es.InterfaceError),
    (sqlite3.DataError, es.DataError),
    (sqlite3.OperationalError, es.OperationalError),
    (sqlite3.InternalError, es.InternalError),
    (sqlite3.ProgrammingError, es.ProgrammingError),
    (sqlite3.NotSupportedError, es.NotSupportedError),
    (sqlite3.DatabaseError, es.DatabaseError),
    (sqlite3.Error, es.PersistenceError),
)


def translated(error: BaseException) -> BaseException:
    """``error`` as eventsourcing's persistence error, if it is sqlite3's."""
    for sqlite_error, es_error in _ERRORS:
        if isinstance(error, sqlite_error):
            translation = es_error(error)
            translation.__cause__ = error
            return translation
    return error


class WriterClosedError(es.PersistenceError):
    """The event store's writer was closed: nothing more can be stored through it."""


class WriterBusyError(es.OperationalError):
    """So many commands wait to be stored that one more would wait past its timeout:
    nothing of it was stored, and the same command later may well succeed."""


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class _Pending(Generic[T]):
    job: Callable[[SQLiteCursor], T]
    done: threading.Lock = field(default_factory=_held)
    """Released by the writer when the job's group has ended; a bare lock, not an
    Event: the writer wakes hundreds of callers a second, and an Event's Condition
    costs several times as much on the writer's thread."""
    result: T | None = None
    error: BaseException | None = None


@dataclass
class GroupStats:
    """What the writer has done, for tests and metrics."""

    taken: int = 0
    """Jobs taken from the queue into a group (committed, failed or running)."""
    groups: int = 0
    commands: int = 0
    largest: int = 0
    failed_groups: int = 0


class GroupCommitWriter:
    """Runs jobs (each given a cursor inside its own savepoint) in groups, one
    transaction per group, on one thread with its own connection.

    Started on the first job; :meth:`close` stores every job queued before it, then
    stops the thread (later jobs fail with :class:`WriterClosedError`).
    """

    def __init__(self, db_name: str, *, timeout: float, max_group: int = MAX_GROUP,
                 max_queue: int = MAX_QUEUE, queue_timeout: float | None = None) -> None:
        """``timeout``: seconds to wait for SQLite's write lock (held by another
        process); ``queue_timeout`` (default: the same): for room in the queue."""
        self.db_name = db_name
        self.timeout = timeout
        self.queue_timeout = timeout if queue_timeout is None else queue_timeout
        self.max_group = max(1, max_group)
        self._queue: queue.Queue[_Pending[Any] | None] = queue.Queue(maxsize=max(1, max_queue))
        self._lock = threading.Lock()  # submitting vs closing
        self._closed = False
        self._thread: threading.Thread | None = None
        self.stats = GroupStats()
        self.on_commit: Callable[[list[Any]], None] | None = None
        """Called on the writer's thread with the results of a group's jobs that
        succeeded, in order, once its COMMIT has returned and before any caller of
        the group is woken (what was stored is durable by then; a failure here is
        logged and fails nobody)."""

    def run(self, job: Callable[[SQLiteCursor], T]) -> T:
        """Run ``job`` in the next group; its answer once the group is committed."""
        pending: _Pending[T] = _Pending(job)
        with self._lock:
            if self._closed:
                raise WriterClosedError("the event store is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="opsledger-event-writer")
                self._thread.start()
            try:
                self._queue.put(pending, timeout=self.queue_timeout)
            except queue.Full:
                raise WriterBusyError(
                    f"{self._queue.maxsize} commands are already waiting to be stored"
                ) from None
        pending.done.acquire()
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]  # set when error is None

    def pending(self) -> int:
        """Jobs queued and not yet taken into a group."""
        return self._queue.qsize()

    def close(self, timeout: float = 30.0) -> None:
        """Store everything queued so far, then stop (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(None)  # after every job: the writer drains up to it
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)  # (a finalizer may run on the writer's own thread)

    # -- the writer thread -------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_name, uri=True, check_same_thread=False,
                               isolation_level=None, timeout=self.timeout)
        conn.row_factory = sqlite3.Row  # as eventsourcing's connections, for its recorders
        conn.execute("PRAGMA journal_mode=WAL")
        # eventsourcing sets no synchronous mode (SQLite's default, FULL); say it here,
        # since durability before the answer rests on it: each COMMIT fsyncs the WAL.
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def _loop(self) -> None:
        conn: sqlite3.Connection | None = None
        stopping = False
        while not stopping:
            group, stopping = self._next_group()
            if not group:
                continue
            self.stats.taken += len(group)
            conn = self._commit(conn, group)
            del group  # its jobs hold their recorder: keep nothing while waiting
        if conn is not None:
            conn.close()

    def _next_group(self) -> tuple[list[_Pending[Any]], bool]:
        """The jobs waiting (one at least, up to ``max_group``); True: stop after them."""
        first = self._queue.get()
        if first is None:
            return [], True
        group = [first]
        while len(group) < self.max_group:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return group, True
            group.append(item)
        return group, False

    def _commit(self, conn: sqlite3.Connection | None, group: list[_Pending[Any]]
                ) -> sqlite3.Connection | None:
        """Store ``group`` in one transaction; the connection for the next group
        (None: open a new one, after a failure that may have left this one unusable).
        Every caller of the group is woken whatever happens: none is left waiting."""
        try:
            conn = conn or self._connect()
            conn.execute("BEGIN IMMEDIATE")
            for pending in group:
                self._run_one(conn, pending)
            conn.execute("COMMIT")
        except Exception as e:  # the group's transaction: nothing of it is stored
            self.stats.failed_groups += 1
            error = translated(e)
            for pending in group:
                if pending.error is None:
                    pending.error = error
            conn = self._discard(conn)
        else:
            self.stats.groups += 1
            self.stats.commands += len(group)
            self.stats.largest = max(self.stats.largest, len(group))
            self._committed(group)
        finally:
            for pending in group:
                pending.done.release()
        return conn

    def _committed(self, group: list[_Pending[Any]]) -> None:
        on_commit = self.on_commit
        if on_commit is None:
            return
        try:
            on_commit([p.result for p in group if p.error is None])
        except Exception:  # stored already: the callers' answers stand
            log.exception("a hook after a committed group failed")

    @staticmethod
    def _discard(conn: sqlite3.Connection | None) -> sqlite3.Connection | None:
        """After a failed group: roll back; a connection that cannot is closed."""
        if conn is None or not conn.in_transaction:
            return conn
        try:
            conn.rollback()
            return conn
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            return None

    @staticmethod
    def _run_one(conn: sqlite3.Connection, pending: _Pending[Any]) -> None:
        """One command in its savepoint; its own failure is kept for it alone (a
        failure that ends the whole transaction, as a full disk does, propagates)."""
        conn.execute("SAVEPOINT command")
        try:
            pending.result = pending.job(SQLiteCursor(conn.cursor()))
        except Exception as e:
            if not conn.in_transaction:
                raise
            conn.execute("ROLLBACK TO command")
            pending.error = translated(e)
        conn.execute("RELEASE command")
