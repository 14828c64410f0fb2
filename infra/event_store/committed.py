"""What this process's event writer has just committed, handed to the embedded follower,
so the read models fold new events without reading them back from the store.

Once a group's COMMIT has returned, the group-commit writer knows every position the
group stored and the public envelope of each event there, chain link included: the
hasher built it from the very stored bytes, with the very reader, that
:func:`infra.event_store.log.read_envelopes` would use to read it back. The writer
publishes each group as a :class:`CommittedRun`; :class:`CommittedFeed` keeps the
latest runs (bounded), and the follower takes the runs that start right after its
position. Whenever it cannot (a gap: another process wrote in between, the feed
overflowed or was attached late, a publication failed), it reads the store as before,
which is what keeps the log, not this feed, the truth.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from domain.envelope import EventEnvelope

MAX_ENVELOPES = 4_096
"""Envelopes kept at most; beyond them the oldest runs go (the follower reads those)."""


@dataclass(frozen=True)
class CommittedRun:
    """Positions ``first..last``, every one of them stored by one committed group
    (private records too, which have no envelope), and the public envelopes among them
    in position order."""

    first: int
    last: int
    envelopes: tuple[EventEnvelope, ...]


class CommittedFeed:
    """The latest committed runs, oldest first. Thread-safe: the writer publishes, the
    follower takes."""

    def __init__(self, max_envelopes: int = MAX_ENVELOPES) -> None:
        self.max_envelopes = max(1, max_envelopes)
        self._runs: deque[CommittedRun] = deque()
        self._size = 0
        self._lock = threading.Lock()

    def publish(self, positions: Sequence[int], envelopes: Sequence[EventEnvelope]) -> None:
        """A committed group: every position it stored, and its public envelopes. A
        group whose positions are not one run (never, under SQLite's write lock) is
        not kept, and the feed is emptied, so nothing after a hole is taken."""
        if not positions:
            return
        first, last = min(positions), max(positions)
        ordered = tuple(sorted(envelopes, key=lambda e: e.position))
        whole = (last - first + 1 == len(set(positions))
                 and all(first <= e.position <= last for e in ordered))
        with self._lock:
            if not whole:
                self._clear()
                return
            self._runs.append(CommittedRun(first, last, ordered))
            self._size += len(ordered) + 1
            while self._size > self.max_envelopes and self._runs:
                gone = self._runs.popleft()
                self._size -= len(gone.envelopes) + 1

    def clear(self) -> None:
        """Forget every run (the follower reads the store from its position on)."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._runs.clear()
        self._size = 0

    def holds_any(self) -> bool:
        """Whether any run is waiting to be taken."""
        return bool(self._runs)

    def take(self, after: int, limit: int) -> tuple[list[EventEnvelope], int] | None:
        """The public envelopes of positions ``after + 1`` up to the end of the runs
        that follow on without a gap (about ``limit`` envelopes at most, whole runs),
        and the last position they cover; None when the feed does not hold position
        ``after + 1`` (read the store). Runs at or before ``after`` are dropped."""
        with self._lock:
            runs = self._runs
            while runs and runs[0].last <= after:
                gone = runs.popleft()
                self._size -= len(gone.envelopes) + 1
            if not runs or not runs[0].first <= after + 1:
                return None
            taken: list[EventEnvelope] = []
            last = after
            while runs and runs[0].first <= last + 1 and (not taken or len(taken) < limit):
                run = runs.popleft()
                self._size -= len(run.envelopes) + 1
                taken.extend(e for e in run.envelopes if e.position > last)
                last = run.last
            return taken, last
