"""How a replay writes: the next batch is folded while the last one is written.

A replay is the only writer of its target (a store of its own, or a rebuild's new
generation), so what it last wrote is what the target holds. The writer remembers
the recent documents (bounded, least recently used go first) and every document of
the batch still being written, and answers the fold's reads from them; only what it
never saw is read from the target, and the target then holds it already. A target
that was empty when the replay began holds nothing the replay did not write: the
writer remembers which changing documents it wrote (their keys' hashes) and answers
"none" for every other one without asking.

The write runs on one thread beside the fold: SQLite (and pymongo, on the network)
let go of the GIL while they work, so on two cores a replay folds and writes at
once. One batch at most is in flight; a failed write is raised by the next call.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol, runtime_checkable

from infra.read_store.port import ReadStore
from projections import compliance_history
from projections.engine import DocKey
from projections.fold import Document
from projections.registry import APPEND_ONLY

REMEMBERED = 10_000
"""Documents kept in memory besides the batch in flight (entity views being changed,
mostly): enough for the open incidents, goals and feedback of a busy organisation."""
SOURCES = frozenset({compliance_history.COLLECTION})
"""Write-once collections whose documents are read again: each history record is
the source of its entity's next one."""
PEOPLE = frozenset({"teams", "members"})
"""Few documents, read by many folds now and then: remembered apart (on the 200k
store, the views of incidents and goals pushed them out of ``docs`` and a replay
read them back from the target 650 times)."""


@runtime_checkable
class SoleWriterStore(Protocol):
    """A target only the replay writes (a new file, a rebuild's generation), e.g.
    :class:`~infra.read_store.sqlite_bulk.SQLiteBulkStore`, or the same written by a
    process of its own (:class:`~infra.read_store.bulk_load_process.BulkLoadProcess`)."""

    def get(self, collection: str, doc_id: str) -> Document | None: ...

    def load(self, changes: Mapping[DocKey, Document], checkpoint: tuple[str, int]) -> None:
        """Write ``changes`` and ``checkpoint`` in one transaction, as the only writer
        of the documents."""

    def bulk_loading(self) -> AbstractContextManager[None]:
        """Around the whole load (e.g. indexes made at its end)."""

    def empty(self) -> bool:
        """Holds no document yet."""


class ReplayWriter:
    def __init__(self, target: ReadStore | SoleWriterStore,
                 remembered: int = REMEMBERED) -> None:
        self.target = target
        self.size = remembered
        self.docs: OrderedDict[DocKey, Document | None] = OrderedDict()
        self.sources: OrderedDict[DocKey, Document | None] = OrderedDict()
        """The latest history records, apart: a batch writes thousands, which would
        push the entity views out of ``docs``."""
        self.people: OrderedDict[DocKey, Document | None] = OrderedDict()
        self.in_flight: Mapping[DocKey, Document] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="replay-writer")
        self._writing: Future[None] | None = None
        # Hashes of the keys of the changing documents written so far, when the
        # target began empty (a million-event replay writes ~200,000: a set of ints
        # is a fifth of the keys' size; a collision only costs a read).
        self.written: set[int] | None = (
            set() if isinstance(target, SoleWriterStore) and target.empty() else None)
        self.write_seconds = 0.0
        """Time the writer thread spent writing."""
        self.write_cpu_seconds = 0.0
        self.wait_seconds = 0.0
        """Time the caller spent waiting for the writer (the write side bounding)."""

    def read(self, collection: str, doc_id: str) -> Document | None:
        key = (collection, doc_id)
        if key in self.in_flight:
            return self.in_flight[key]
        remembered = self._remembered(collection)
        if key in remembered:
            remembered.move_to_end(key)
            return remembered[key]
        written = self.written
        if written is not None and collection not in APPEND_ONLY and hash(key) not in written:
            return None
        doc = self.target.get(collection, doc_id)
        self._keep(key, doc, remembered)
        return doc

    def write(self, changes: Mapping[DocKey, Document], checkpoint: tuple[str, int]) -> None:
        """Start writing ``changes`` once the batch before is written."""
        self.wait()
        written = self.written
        for key, doc in self.in_flight.items():
            collection = key[0]
            if collection not in APPEND_ONLY:
                self._keep(key, doc, self._remembered(collection))
                if written is not None:
                    written.add(hash(key))
            elif collection in SOURCES:
                self._keep(key, doc, self.sources)
        self.in_flight = changes
        self._writing = self._pool.submit(self._store, changes, checkpoint)

    def _store(self, changes: Mapping[DocKey, Document], checkpoint: tuple[str, int]) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        if isinstance(self.target, SoleWriterStore):
            self.target.load(changes, checkpoint)
        else:
            self.target.commit(changes, checkpoint)
        self.write_seconds += time.perf_counter() - started
        self.write_cpu_seconds += time.thread_time() - cpu

    def loading(self) -> AbstractContextManager[None]:
        """Around the whole replay: a sole-writer store's bulk load."""
        if isinstance(self.target, SoleWriterStore):
            return self.target.bulk_loading()
        return nullcontext()

    def wait(self) -> None:
        """Until the batch in flight is written (its error, if it failed)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            started = time.perf_counter()
            try:
                writing.result()
            finally:
                self.wait_seconds += time.perf_counter() - started

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)

    def _remembered(self, collection: str) -> OrderedDict[DocKey, Document | None]:
        if collection in SOURCES:
            return self.sources
        return self.people if collection in PEOPLE else self.docs

    def _keep(self, key: DocKey, doc: Document | None,
              docs: OrderedDict[DocKey, Document | None]) -> None:
        docs[key] = doc
        docs.move_to_end(key)
        while len(docs) > self.size:
            docs.popitem(last=False)
