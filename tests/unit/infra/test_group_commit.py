"""Group commit (infra/event_store/group_commit.py): commands waiting together are
committed in one transaction, each in its own savepoint, so one command's failure
fails it alone, a failure of the transaction fails them all, and closing stores
everything queued first.

Groups are made deterministic by holding SQLite's write lock from another
connection (:mod:`tests.support.group_commit`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError
from eventsourcing.sqlite import SQLiteCursor

from infra.event_store.group_commit import GroupCommitWriter, WriterBusyError, WriterClosedError
from tests.support.group_commit import Call, WriteLock
from tests.support.group_commit import grouped as in_one_group
from tests.support.waiting import wait_until


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "events.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE events (k TEXT PRIMARY KEY, v TEXT)")
    conn.close()
    return path


@pytest.fixture
def writer(db: Path) -> Iterator[GroupCommitWriter]:
    made = GroupCommitWriter(str(db), timeout=5)
    yield made
    made.close()


def insert(key: str) -> Callable[[SQLiteCursor], int]:
    def job(c: SQLiteCursor) -> int:
        c.execute("INSERT INTO events VALUES (?, 'x')", (key,))
        return int(c.lastrowid)
    return job


def rows(db: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT rowid, k FROM events ORDER BY rowid").fetchall()
    finally:
        conn.close()


def submit(writer: GroupCommitWriter, job: Callable[[SQLiteCursor], Any]) -> Call:
    return Call(lambda: writer.run(job))


def grouped(writer: GroupCommitWriter, db: Path, jobs: list[Callable[[SQLiteCursor], Any]],
            ) -> list[Call]:
    """Run ``jobs`` as one group, in this order (after a first job of their own)."""
    first, calls = in_one_group(writer, db, lambda: writer.run(insert("first")),
                                   [lambda job=job: writer.run(job) for job in jobs])
    assert first.error is None
    return calls


def test_commands_waiting_together_are_committed_in_one_transaction(
        writer: GroupCommitWriter, db: Path) -> None:
    calls = grouped(writer, db, [insert(f"k{i}") for i in range(5)])

    assert [c.result for c in calls] == [2, 3, 4, 5, 6]  # positions in queue order
    assert (writer.stats.groups, writer.stats.largest) == (2, 5)
    assert rows(db) == [(1, "first"), *((i + 2, f"k{i}") for i in range(5))]


def test_a_conflicting_command_fails_alone_and_gives_its_position_back(
        writer: GroupCommitWriter, db: Path) -> None:
    ok, conflict, after = grouped(writer, db, [insert("a"), insert("a"), insert("b")])

    assert (ok.result, ok.error) == (2, None)
    assert isinstance(conflict.error, IntegrityError)
    assert (after.result, after.error) == (3, None)  # no gap where the conflict was
    assert rows(db) == [(1, "first"), (2, "a"), (3, "b")]


def test_a_command_whose_job_raises_fails_alone_with_its_own_error(
        writer: GroupCommitWriter, db: Path) -> None:
    def half_then_fail(c: SQLiteCursor) -> int:
        insert("half")(c)
        raise RuntimeError("the chain cannot be extended")

    before, failing, after = grouped(writer, db, [insert("a"), half_then_fail, insert("b")])

    assert isinstance(failing.error, RuntimeError)
    assert (before.result, after.result) == (2, 3)
    assert [k for _, k in rows(db)] == ["first", "a", "b"]


def test_a_failure_that_ends_the_transaction_fails_every_command_of_the_group(
        writer: GroupCommitWriter, db: Path) -> None:
    def end_the_transaction(c: SQLiteCursor) -> int:
        c.execute("ROLLBACK")  # as SQLite does itself on a full disk
        raise OperationalError("database or disk is full")

    calls = grouped(writer, db, [insert("a"), end_the_transaction, insert("b")])

    assert all(isinstance(c.error, OperationalError) for c in calls)
    assert (writer.stats.failed_groups, rows(db)) == (1, [(1, "first")])
    assert submit(writer, insert("later")).join().result == 2  # the writer carries on


def test_when_the_group_cannot_begin_its_commands_fail_and_nothing_is_stored(
        db: Path) -> None:
    writer = GroupCommitWriter(str(db), timeout=0.2)
    lock = WriteLock(db)  # another process holds the lock beyond the timeout
    try:
        call = submit(writer, insert("a")).join()
    finally:
        lock.release()

    assert isinstance(call.error, OperationalError)
    assert rows(db) == []
    assert submit(writer, insert("b")).join().result == 1
    writer.close()


def test_groups_are_bounded(db: Path) -> None:
    writer = GroupCommitWriter(str(db), timeout=5, max_group=2)
    calls = grouped(writer, db, [insert(f"k{i}") for i in range(5)])

    assert [c.result for c in calls] == [2, 3, 4, 5, 6]
    assert (writer.stats.largest, writer.stats.groups) == (2, 4)
    writer.close()


def test_the_queue_is_bounded_callers_beyond_it_fail_after_the_timeout(db: Path) -> None:
    writer = GroupCommitWriter(str(db), timeout=5, max_queue=1, queue_timeout=0.2)
    lock = WriteLock(db)
    first = submit(writer, insert("first"))
    wait_until(lambda: writer.stats.taken == 1, 10, "the first job", 0.02)
    queued = submit(writer, insert("queued"))
    wait_until(lambda: writer.pending() == 1, 10, "a job", 0.02)

    refused = submit(writer, insert("refused")).join()
    lock.release()

    assert isinstance(refused.error, WriterBusyError)
    assert isinstance(refused.error, OperationalError)
    assert "already waiting" in str(refused.error)
    assert (first.join().result, queued.join().result) == (1, 2)
    writer.close()


def test_close_stores_every_queued_command_then_refuses_more(
        writer: GroupCommitWriter, db: Path) -> None:
    lock = WriteLock(db)
    calls = [submit(writer, insert("first"))]
    wait_until(lambda: writer.stats.taken == 1, 10, "the first job", 0.02)
    calls += [submit(writer, insert(f"k{i}")) for i in range(3)]
    wait_until(lambda: writer.pending() == 3, 10, "three jobs", 0.02)
    closing = threading.Thread(target=writer.close)
    closing.start()

    lock.release()
    closing.join(10)

    assert sorted(c.join().result for c in calls) == [1, 2, 3, 4]
    with pytest.raises(WriterClosedError):
        writer.run(insert("late"))
    assert len(rows(db)) == 4


def test_a_store_that_cannot_be_opened_fails_the_commands_and_leaves_none_waiting(
        tmp_path: Path) -> None:
    writer = GroupCommitWriter(str(tmp_path / "missing" / "events.db"), timeout=1)

    calls = [submit(writer, insert(f"k{i}")) for i in range(3)]

    assert all(isinstance(c.join().error, OperationalError) for c in calls)
    (tmp_path / "missing").mkdir()  # the next group opens it again
    sqlite3.connect(tmp_path / "missing" / "events.db").execute(
        "CREATE TABLE events (k TEXT PRIMARY KEY, v TEXT)")
    assert submit(writer, insert("later")).join().result == 1
    writer.close()
