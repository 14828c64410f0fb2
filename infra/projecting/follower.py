"""The embedded follower: applies the event store's notification log to the read
models, in position order, in-process.

The SQLite recorder cannot ``subscribe()``, so the follower polls
``select_notifications``; the ledger wakes it right after each save, so waits for
``min_position`` are short, and a slow poll also catches writes from other
processes. What this process's writer commits is handed over as it commits
(:mod:`infra.event_store.committed`): the follower folds those envelopes as they are,
without reading them back, whenever they follow on from its position, and reads the
store otherwise. Documents and checkpoint are committed in one transaction, so after a
crash or restart it resumes exactly where its last commit ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence

from domain.ledger import Ledger
from infra.event_store.committed import CommittedFeed
from infra.event_store.log import read_envelopes
from infra.read_store.port import CheckpointMovedError, ReadStore, TransactionalReadStore
from projections.engine import fold_events
from projections.fold import Fold

log = logging.getLogger(__name__)


class EmbeddedFollower:
    NAME = "embedded"

    def __init__(
        self, ledger: Ledger, store: ReadStore, folds: Sequence[Fold],
        *, batch: int = 500, poll_interval: float = 1.0,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.folds = folds
        self.batch = batch
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._store_wanted = threading.Event()  # a reader waits: read the store to its end
        self._applied = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._async_wakers: set[Callable[[], None]] = set()  # one per awaiting request
        self.last_error: str | None = None
        self.position = store.checkpoint(self.NAME)
        committed_feed = getattr(ledger.recorder, "committed_feed", None)
        self.feed: CommittedFeed | None = committed_feed() if callable(committed_feed) else None
        self.fed = 0
        """Positions applied from the feed (not read back from the store)."""

    # -- running ---------------------------------------------------------------

    def step(self) -> int:
        """Apply one batch; returns how many notifications it read."""
        return self._step(read_store=True)

    def _step(self, *, read_store: bool) -> int:
        """One batch; ``read_store=False``: from the feed only, unless it holds a gap
        (an empty feed then means nothing more of this process's to apply)."""
        after = self.position
        taken = None if self.feed is None else self.feed.take(after, self.batch)
        fed = taken is not None
        if taken is None:
            if not read_store and self.feed is not None and not self.feed.holds_any():
                return 0
            taken = read_envelopes(self.ledger, after, self.batch)
        envelopes, last = taken
        if last == after:
            return 0
        store = self.store
        try:
            if isinstance(store, TransactionalReadStore):  # reads and writes in one transaction
                store.fold_and_commit(lambda read: fold_events(envelopes, self.folds, read),
                                      (self.NAME, last), expected=after)
            else:
                changes = fold_events(envelopes, self.folds, self.store.get)
                self.store.commit(changes, (self.NAME, last), expected=after)
        except CheckpointMovedError:
            # A rebuild switched in a new generation that already holds these events.
            self._moved_to(self.store.checkpoint(self.NAME))
            return 1
        self._moved_to(last)
        if fed:
            self.fed += last - after
        return last - after

    def _moved_to(self, position: int) -> None:
        """Publish the new position to threads and to awaiting requests."""
        with self._applied:
            self.position = position
            self._applied.notify_all()
            wakers = list(self._async_wakers)
        for wake in wakers:
            wake()

    def catch_up(self) -> int:
        """Apply everything stored so far; returns the number of positions applied."""
        return self._catch_up(read_store=True)

    def _catch_up(self, *, read_store: bool) -> int:
        total = 0
        while (n := self._step(read_store=read_store)) > 0:
            total += n
        return total

    def start(self) -> None:
        self.ledger.add_listener(lambda _position: self._wake.set())
        self._thread = threading.Thread(target=self._run, name="opsledger-follower", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        backoff = self.poll_interval
        read_store = True
        while not self._stop.is_set():
            try:
                self._catch_up(read_store=read_store)
                self.last_error = None
                backoff = self.poll_interval
            except Exception as e:  # a fold or store failure: retry, never skip
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("follower failed at position %s; retrying", self.position + 1)
                backoff = min(backoff * 2, 30.0)
            # Woken by this process's save: its feed says what is new, and the store is
            # read only for a gap; by the poll's timeout, or a reader waiting for a
            # position (perhaps another process's), the store is read to its end.
            woken = self._wake.wait(backoff)
            self._wake.clear()
            wanted = self._store_wanted.is_set()
            if wanted:  # (cleared only once seen: a reader's later ask is kept)
                self._store_wanted.clear()
            read_store = not woken or wanted or self.feed is None

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- read-your-writes ------------------------------------------------------

    def wait_for(self, position: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._applied:
            while self.position < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._store_wanted.set()
                self._wake.set()
                self._applied.wait(remaining)
        return True

    async def wait_for_async(self, position: int, timeout: float) -> bool:
        """``wait_for`` for the event loop: awaits the follower's signal, holding no
        thread (the follower thread wakes the loop with ``call_soon_threadsafe``)."""
        if self.position >= position:
            return True
        loop = asyncio.get_running_loop()
        applied = asyncio.Event()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(applied.set)

        with self._applied:
            self._async_wakers.add(wake)
        try:
            deadline = loop.time() + timeout
            self._store_wanted.set()
            self._wake.set()
            while True:
                applied.clear()  # before the check: a move after it sets the event again
                if self.position >= position:
                    return True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await applied.wait()
        finally:
            with self._applied:
                self._async_wakers.discard(wake)

    def lag(self) -> int:
        return max(0, self.ledger.head_position() - self.position)
