"""The event log read in a process of its own, ahead of a replay that folds it.

A replay's main thread both read the log and folded it: on a 200k-event store, a
fifth of its time was reading and decoding stored events
(:func:`infra.event_store.log.iter_envelopes`), all of it holding the GIL. Here a
child process does that (with its own read-only connection to the event store) and
sends the envelopes, pickled a batch at a time, through a pipe; the replay only
unpickles them, a quarter of the decoding's cost. The pipe holds little, so the
child is at most a batch or two ahead: memory stays flat.

The child is a fresh interpreter (``python -m infra.event_store.read_ahead``), not a
fork of a process with threads and open SQLite connections. It reads exactly what
``iter_envelopes`` reads; its errors come back as :class:`LogReaderError`, and it
stops when its reader does (closing the pipe, or dying: the child's next write fails).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pickle
import resource
import subprocess
import sys
import time
from collections.abc import Generator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from domain.envelope import EventEnvelope
from infra.child_env import child_env
from infra.wide_pipe import wide_pipe

log = logging.getLogger(__name__)

BATCH = 2000
"""Envelopes per message (about 1 MB pickled)."""
END_TIMEOUT = 60.0
"""Seconds to wait for the exit status of a child whose pipe closed early."""


class LogReaderError(RuntimeError):
    """The child reading the event log failed (its message says how)."""


class ReadAhead:
    """Every public event of the store in ``data_dir`` after ``after`` (up to
    ``until``), in position order, read by a child process. Iterate once; the child
    starts at construction, so it reads while the caller gets ready."""

    def __init__(self, data_dir: Path | str, after: int = 0, until: int | None = None,
                 *, batch: int = BATCH) -> None:
        read, write = wide_pipe()  # the child writes the next batch while the replay folds
        command = [sys.executable, "-m", "infra.event_store.read_ahead", "--data-dir",
                   str(Path(data_dir).resolve()), "--after", str(after), "--fd", str(write),
                   "--batch", str(batch)]
        if until is not None:
            command += ["--until", str(until)]
        try:
            self._child = subprocess.Popen(  # noqa: S603 - our own module, no shell
                command, pass_fds=(write,), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env())
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        self._pipe = Connection(read, writable=False)
        self.reader_rss_mb = 0.0
        """The child's peak resident memory, once it has sent everything."""
        self.reader_cpu_seconds = 0.0

    def cost(self) -> str:
        """What the child cost, once it has sent everything, in the replay's words."""
        return (f"the event log read by a child process ({self.reader_cpu_seconds:.1f} "
                f"CPU-s, peak {self.reader_rss_mb:.0f} MB)")

    def __iter__(self) -> Generator[EventEnvelope, None, None]:
        try:
            while True:
                try:
                    kind, payload = pickle.loads(self._pipe.recv_bytes())  # noqa: S301 - our own child, our own pipe
                except EOFError:
                    raise LogReaderError(
                        f"the event log reader stopped unexpectedly "
                        f"(exit status {self._child.wait(timeout=END_TIMEOUT)})") from None
                if kind == "events":
                    yield from payload
                elif kind == "log":
                    log.log(payload[0], "%s", payload[1])
                elif kind == "end":
                    self.reader_rss_mb, self.reader_cpu_seconds = payload
                    return
                else:
                    raise LogReaderError(f"reading the event log failed: {payload}")
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child (if still reading: it only reads, so killing it is safe) and
        wait for it."""
        if not self._pipe.closed:
            self._pipe.close()
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()


class _Forward(logging.Handler):
    """The child's log records, sent to the reader to be logged there."""

    def __init__(self, pipe: Connection) -> None:
        super().__init__(logging.WARNING)
        self.pipe = pipe

    def emit(self, record: logging.LogRecord) -> None:
        self.pipe.send_bytes(pickle.dumps(("log", (record.levelno, record.getMessage()))))


def _send(pipe: Connection, kind: str, payload: Any) -> None:
    pipe.send_bytes(pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))


def _read(data_dir: Path, after: int, until: int | None, size: int, pipe: Connection,
          ) -> None:
    from infra.event_store import close_ledger, read_only_ledger
    from infra.event_store.log import iter_envelopes
    from infra.settings import Settings

    ledger = read_only_ledger(Settings(data_dir=data_dir))
    try:
        batch: list[EventEnvelope] = []
        for envelope in iter_envelopes(ledger, after, size, until):  # pages of one batch
            batch.append(envelope)
            if len(batch) >= size:
                _send(pipe, "events", batch)
                batch = []
        if batch:
            _send(pipe, "events", batch)
    finally:
        close_ledger(ledger)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.event_store.read_ahead")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--until", type=int, default=None)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args(argv)
    import gc

    gc.disable()  # envelopes make no reference cycles
    pipe = Connection(args.fd, readable=False)
    logging.getLogger().addHandler(_Forward(pipe))
    started = time.process_time()
    try:
        _read(args.data_dir, args.after, args.until, max(args.batch, 1), pipe)
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the reader stopped reading: nothing is owed to anyone
    except Exception as e:  # every failure is reported to the reader
        with contextlib.suppress(OSError):
            _send(pipe, "error", f"{type(e).__name__}: {e}")
        return 1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _send(pipe, "end", (rss_mb, time.process_time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
