"""The batch being written while the next one folds: the projector's pipeline.

One writer thread runs ``store.commit`` for one batch at a time (:class:`InFlight`)
while the consumer thread folds the next batch over what that write will leave in
the store. The next fold reads a document the write is changing from the write
itself (its change), but only if the projector alone writes it (cacheable: the
same rule as :mod:`.doc_cache`), and notes it as *speculated*; any other such
document (a shared one) is read from the store once the write is done. When the
write returns, the speculation holds unless the store kept another copy of one of
those documents (its ``uncertain`` answer): then the next batch is folded again.

A failed write puts its batch back in hand (with its outcome) and the batch folded
meanwhile is dropped and fetched again, so batches are stored in log order, and
offsets are committed on the consumer thread only after their batch's write
returned. No poll runs while a write is in flight, so rebalances only ever meet
written or unwritten batches, never one half-way.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

from projections.engine import DocKey
from projections.fold import Document

if TYPE_CHECKING:
    from infra.kafka.projector.outcome import Outcome, PolledBatch


@dataclass
class InFlight:
    """A batch whose changes the writer thread is storing."""

    batch: PolledBatch
    outcome: Outcome
    future: Future[AbstractSet[DocKey] | None]

    @property
    def changes(self) -> dict[DocKey, Document]:
        return self.outcome.changes

    def wait(self) -> None:
        """Until the write is done (its error, if any, is for :meth:`result`)."""
        wait([self.future])

    def result(self) -> AbstractSet[DocKey] | None:
        """The store's answer (the documents it may have kept another copy of);
        raises the write's error."""
        return self.future.result()


class Writer:
    """The one thread that writes batches, started on first use."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, batch: PolledBatch, outcome: Outcome,
               write: Callable[[], AbstractSet[DocKey] | None]) -> InFlight:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="projector-writer")
        return InFlight(batch, outcome, self._pool.submit(write))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
