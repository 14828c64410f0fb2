"""Deterministic groups for specifications of group commit: hold SQLite's write lock
from another connection, so the writer takes a first call and waits for the lock while
the next calls queue behind it; they form the next group, in the order they queued,
once the lock is let go."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.event_store.group_commit import GroupCommitWriter
from tests.support.waiting import wait_until


class Call:
    """``fn()`` in its own thread, as a request handler would call it."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,))
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self.result = fn()
        except BaseException as e:
            self.error = e

    def join(self) -> Call:
        self._thread.join(20)
        assert not self._thread.is_alive(), "the call did not end"
        return self


class WriteLock:
    """SQLite's write lock on ``path``, held by another connection until released."""

    def __init__(self, path: Path | str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def grouped(writer: GroupCommitWriter, db: Path | str, first: Callable[[], Any],
            calls: list[Callable[[], Any]]) -> tuple[Call, list[Call]]:
    """Run ``first`` in a group of its own, then ``calls`` together in the next
    group, in this order; each call must reach the writer once (one save)."""
    lock = WriteLock(db)
    taken = writer.stats.taken
    head = Call(first)
    wait_until(lambda: writer.stats.taken == taken + 1, 10, "the first call", 0.02)
    started = []
    for i, fn in enumerate(calls, start=1):
        started.append(Call(fn))
        wait_until(lambda i=i: writer.pending() == i, 10,  # type: ignore[misc]
                   f"call {i} to queue", 0.02)
    lock.release()
    return head.join(), [call.join() for call in started]
