"""How a replay writes: the next batch is folded while the last one is written.

A replay is the only writer of its target (a store of its own, or a rebuild's new
generation), so what it last wrote is what the target holds. The writer remembers
the recent documents (bounded, least recently used go first) and every document of
the batch still being written, and answers the fold's reads from them; only what it
never saw is read from the target, and the target then holds it already.

The write runs on one thread beside the fold: SQLite (and pymongo, on the network)
let go of the GIL while they work, so on two cores a replay folds and writes at
once. One batch at most is in flight; a failed write is raised by the next call.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol, runtime_checkable

from infra.read_store.port import ReadStore
from projections.engine import DocKey
from projections.fold import Document
from projections.registry import APPEND_ONLY

REMEMBERED = 10_000
"""Documents kept in memory besides the batch in flight (entity views being changed,
mostly): enough for the open incidents, goals and feedback of a busy organisation."""


@runtime_checkable
class SoleWriterStore(Protocol):
    def load(self, changes: Mapping[DocKey, Document], checkpoint: tuple[str, int]) -> None:
        """Write ``changes`` and ``checkpoint`` in one transaction, as the only writer
        of the documents."""

    def indexes_deferred(self) -> AbstractContextManager[None]:
        """Loads without secondary indexes, made when it ends."""


class ReplayWriter:
    def __init__(self, target: ReadStore, remembered: int = REMEMBERED) -> None:
        self.target = target
        self.size = remembered
        self.docs: OrderedDict[DocKey, Document | None] = OrderedDict()
        self.in_flight: Mapping[DocKey, Document] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="replay-writer")
        self._writing: Future[None] | None = None

    def read(self, collection: str, doc_id: str) -> Document | None:
        key = (collection, doc_id)
        if key in self.in_flight:
            return self.in_flight[key]
        if key in self.docs:
            self.docs.move_to_end(key)
            return self.docs[key]
        doc = self.target.get(collection, doc_id)
        self._keep(key, doc)
        return doc

    def write(self, changes: Mapping[DocKey, Document], checkpoint: tuple[str, int]) -> None:
        """Start writing ``changes`` once the batch before is written."""
        self.wait()
        for key, doc in self.in_flight.items():
            if key[0] not in APPEND_ONLY:  # read again only as a history's source
                self._keep(key, doc)
        self.in_flight = changes
        self._writing = self._pool.submit(self._store, changes, checkpoint)

    def _store(self, changes: Mapping[DocKey, Document], checkpoint: tuple[str, int]) -> None:
        if isinstance(self.target, SoleWriterStore):
            self.target.load(changes, checkpoint)
        else:
            self.target.commit(changes, checkpoint)

    def loading(self) -> AbstractContextManager[None]:
        """Around the whole replay: a sole-writer store defers its indexes."""
        if isinstance(self.target, SoleWriterStore):
            return self.target.indexes_deferred()
        return nullcontext()

    def wait(self) -> None:
        """Until the batch in flight is written (its error, if it failed)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)

    def _keep(self, key: DocKey, doc: Document | None) -> None:
        self.docs[key] = doc
        self.docs.move_to_end(key)
        while len(self.docs) > self.size:
            self.docs.popitem(last=False)
