"""A bulk load of the embedded read store done by a process of its own.

A replay or rebuild folded on its main thread and wrote on a second one: SQLite lets
go of the GIL while it works, but every statement takes it back to return, and on a
200k-event store the two threads spent about a third of the replay's time waiting
for each other (the writer's wall time twice its CPU time, the fold's nearly so).
Here a child process owns the :class:`~.sqlite_bulk.SQLiteBulkStore` and the parent
sends it each batch already laid out as rows (the documents as JSON, made on the
parent's side, where they are), so the fold and the writes run on two cores with
nothing shared.

:class:`BulkLoadProcess` is a sole-writer store to
:class:`infra.projecting.replay_writer.ReplayWriter`: ``load`` returns once the child
committed the batch (so a batch is written when the writer says so, as before), and
``get`` asks the child on a channel of its own, answered from what it has committed
(the batch being written, the replay reads from memory). The child is a fresh
interpreter (``python -m infra.read_store.bulk_load_process``), as the log reader
(:mod:`infra.event_store.read_ahead`) is; its errors come back as
:class:`BulkLoadError`. If the parent goes away, the child's next read of its pipe
ends and it stops, leaving what an interrupted load leaves (a ``.partial`` file, or
build tables the next rebuild drops).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import pickle
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from infra.child_env import child_env
from infra.read_store.sqlite_bulk import SQLiteBulkStore, row_parts
from infra.wide_pipe import wide_pipe
from projections.fold import Document

PART_ROWS = 500
"""Documents per message (about 1 MB of JSON)."""
END_TIMEOUT = 60.0
"""Seconds to wait for the child to exit once its work is done."""


class BulkLoadError(RuntimeError):
    """The child writing the read store failed (its message says how)."""


class BulkLoadProcess:
    """The bulk load of the store at ``path`` (tables ``prefix``), in a child process:
    see :class:`~.sqlite_bulk.SQLiteBulkStore` for ``prefix`` and ``new_file``."""

    def __init__(self, path: Path | str, *, prefix: str | None = None,
                 new_file: bool = False) -> None:
        if new_file and Path(path).exists():
            raise FileExistsError(str(path))
        # Two channels: the load's (batches, in order) and the reads' (answered from
        # what is committed while a batch is still being written: see get).
        # The batches' pipe holds a part whole: the parent's writes wait less for the
        # child (the 200k-event replay 5-8 % faster: 7 of 8 pairs, alternated with the
        # 64 kB pipe).
        pipes = [wide_pipe()] + [os.pipe() for _ in range(3)]
        (child_in, to_child), (from_child, child_out) = pipes[0], pipes[1]
        (reads_in, to_reads), (from_reads, reads_out) = pipes[2], pipes[3]
        theirs = (child_in, child_out, reads_in, reads_out)
        command = [sys.executable, "-m", "infra.read_store.bulk_load_process",
                   "--path", str(Path(path).resolve()),
                   "--fds", ",".join(str(fd) for fd in theirs)]
        if prefix is not None:
            command += ["--prefix", prefix]
        if new_file:
            command.append("--new-file")
        try:
            self._child = subprocess.Popen(  # noqa: S603 - our own module, no shell
                command, pass_fds=theirs, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=child_env())
        except BaseException:
            for fd in (to_child, from_child, to_reads, from_reads):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        self._requests = Connection(to_child, readable=False)
        self._replies = Connection(from_child, writable=False)
        self._lock = threading.Lock()  # a request and its reply, from any thread
        self._reads = Connection(to_reads, readable=False)
        self._read_replies = Connection(from_reads, writable=False)
        self._read_lock = threading.Lock()
        self.rss_mb = 0.0
        """The child's peak resident memory, once the load finished."""
        self.cpu_seconds = 0.0

    def _send(self, kind: str, *payload: Any, channel: Connection | None = None) -> None:
        # A child that failed has said why before it stopped reading: see _ask.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            (channel or self._requests).send_bytes(
                pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))

    def _answer(self, channel: Connection | None = None) -> Any:
        try:
            answer, value = pickle.loads((channel or self._replies).recv_bytes())  # noqa: S301 - our own child, our own pipe
        except (EOFError, OSError):
            raise BulkLoadError(
                "the read store's writer process stopped unexpectedly (exit status "
                f"{self._child.wait(timeout=END_TIMEOUT)})") from None
        if answer == "error":
            raise BulkLoadError(f"writing the read store failed: {value}")
        return value

    def _ask(self, kind: str, *payload: Any) -> Any:
        with self._lock:
            self._send(kind, *payload)
            return self._answer()

    def load(self, changes: Mapping[tuple[str, str], Document],
             checkpoint: tuple[str, int]) -> None:
        """Send the batch in parts of :data:`PART_ROWS` documents (made JSON part by
        part: neither side holds the whole batch twice), then wait for the commit."""
        with self._lock:
            for collection, params in row_parts(changes, PART_ROWS):
                self._send("rows", collection, params)
            self._send("commit", checkpoint)
            self._answer()

    def get(self, collection: str, doc_id: str) -> Document | None:
        """What the batches committed hold, not waiting for the one being written: the
        replay reads that one from memory (``ReplayWriter.in_flight``) and sends the
        next only once it is committed. (Asked on the load's channel, each of the
        thousand or so reads of a 200k-event replay waited for a commit: 16 s.)"""
        with self._read_lock:
            self._send("get", collection, doc_id, channel=self._reads)
            doc: Document | None = self._answer(self._read_replies)
        return doc

    def empty(self) -> bool:
        return bool(self._ask("empty"))

    @contextlib.contextmanager
    def bulk_loading(self) -> Iterator[None]:
        """Around the whole load: when it ends without an error, the child makes the
        indexes (and publishes a new file) and reports what it cost."""
        yield
        with self._read_lock:  # no more reads: the child's reader stops
            self._reads.close()
            self._read_replies.close()
        self.rss_mb, self.cpu_seconds = self._ask("finish")

    def close(self) -> None:
        """Stop the child: after ``finish`` it has nothing left to do; before, closing
        its pipe interrupts the load (nothing half-written is published)."""
        for conn in (self._requests, self._replies, self._reads, self._read_replies):
            if not conn.closed:
                conn.close()
        try:
            self._child.wait(timeout=END_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()


class _Stopped(Exception):
    """The load ends unfinished: the parent closed the pipe, or a request failed."""


def _reply(replies: Connection, answer: str, value: Any) -> None:
    replies.send_bytes(pickle.dumps((answer, value), protocol=pickle.HIGHEST_PROTOCOL))


def _serve_reads(store: Any, reads: Connection, replies: Connection) -> None:
    """Answer reads (on a connection of this thread's own) until the parent stops."""
    while True:
        try:
            _, (collection, doc_id) = pickle.loads(reads.recv_bytes())  # noqa: S301 - our own parent
        except (EOFError, OSError):
            return
        try:
            doc = store.get(collection, doc_id)
        except Exception as e:  # reported to the parent, whose read fails
            _reply(replies, "error", f"{type(e).__name__}: {e}")
            return
        try:
            _reply(replies, "ok", doc)
        except OSError:
            return


def _answer(store: Any, requests: Connection, replies: Connection) -> None:
    """Answer requests until ``finish``. A batch comes as ``rows`` messages (no reply)
    and a ``commit`` (answered)."""
    in_batch = False
    while True:
        try:
            kind, payload = pickle.loads(requests.recv_bytes())  # noqa: S301 - our own parent
        except EOFError:
            raise _Stopped from None
        if kind == "finish":
            return
        try:
            value: Any = None
            if kind == "rows":
                if not in_batch:
                    store.begin_batch()
                    in_batch = True
                store.insert_rows(*payload)
                continue
            if kind == "commit":
                if not in_batch:
                    store.begin_batch()
                store.commit_batch(*payload)
                in_batch = False
            elif kind == "empty":
                value = store.empty()
            else:
                raise ValueError(f"unknown request {kind!r}")
        except Exception as e:  # every failure is reported to the parent
            store.abort_batch()
            _reply(replies, "error", f"{type(e).__name__}: {e}")
            raise _Stopped from None
        _reply(replies, "ok", value)


def _serve(store: Any, requests: Connection, replies: Connection,
           reader: threading.Thread) -> None:
    started = time.process_time()
    try:
        with store.bulk_loading():  # left by an exception: nothing is published
            _answer(store, requests, replies)
            reader.join(END_TIMEOUT)  # the parent closed the reads before finishing
    except _Stopped:
        return
    except Exception as e:  # making the indexes, publishing the file
        _reply(replies, "error", f"{type(e).__name__}: {e}")
        return
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _reply(replies, "ok", (rss_mb, time.process_time() - started))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.read_store.bulk_load_process")
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--prefix", default=None)
    parser.add_argument("--new-file", action="store_true")
    parser.add_argument("--fds", required=True,
                        help="requests, replies, reads, read replies (pipe ends)")
    args = parser.parse_args(argv)
    requests_fd, replies_fd, reads_fd, read_replies_fd = map(int, args.fds.split(","))
    gc.disable()  # rows and documents make no reference cycles

    requests = Connection(requests_fd, writable=False)
    replies = Connection(replies_fd, readable=False)
    reads = Connection(reads_fd, writable=False)
    read_replies = Connection(read_replies_fd, readable=False)
    try:
        options: dict[str, Any] = {"new_file": args.new_file}
        if args.prefix is not None:
            options["prefix"] = args.prefix
        store = SQLiteBulkStore(args.path, **options)
    except Exception as e:
        with contextlib.suppress(OSError):
            _reply(replies, "error", f"{type(e).__name__}: {e}")
        return 1
    reader = threading.Thread(target=_serve_reads, args=(store, reads, read_replies),
                              name="reads", daemon=True)
    reader.start()
    try:
        _serve(store, requests, replies, reader)
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the parent stopped listening: nobody is owed anything
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
