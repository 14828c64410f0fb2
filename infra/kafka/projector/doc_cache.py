"""The projector's memory of the documents it alone writes, so steady state reads nothing.

A projector holding a partition is the only writer of every document fed by that
partition's aggregates alone (all but ``projections.registry.SHARED``), and folds
read only documents of the stream they fold. So what it last wrote or read is what
the store holds, until the group rebalances: the cache is cleared then (and when
membership is in doubt), and filled again by reads. Write-once documents are the
same for every writer and may always be kept, but those no fold reads back
(:func:`unread_collections`: the audit trail, timelines) are not: they would only
push out the documents that are read.

Bounded: least recently used entries go first. ``None`` is kept too ("not stored").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from projections.engine import DocKey
from projections.fold import Document, Fold, same_document

_MISSING = object()


def unread_collections(folds: Iterable[Fold]) -> frozenset[str]:
    """Write-once collections whose documents the projector never reads: it writes
    them blind (``fold_events(blind_writes=True)``), and each is its own source, so
    no later document evolves from one (history records, evolved from the previous
    version's, are read)."""
    return frozenset(f.collection for f in folds
                     if f.append_only and f.source is same_document)


class DocCache:
    def __init__(self, max_docs: int, *, never: Iterable[str] = ()) -> None:
        self.max_docs = max_docs
        self.never = frozenset(never)
        self._docs: OrderedDict[DocKey, Document | None] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._docs)

    def lookup(self, key: DocKey) -> tuple[bool, Document | None]:
        """Whether the key is known, and its document (``None``: known absent)."""
        found = self._docs.get(key, _MISSING)
        if found is _MISSING:
            self.misses += 1
            return False, None
        self.hits += 1
        self._docs.move_to_end(key)
        return True, found  # type: ignore[return-value]

    def remember(self, key: DocKey, doc: Document | None) -> None:
        if self.max_docs <= 0 or key[0] in self.never:
            return
        self._docs[key] = doc
        self._docs.move_to_end(key)
        while len(self._docs) > self.max_docs:
            self._docs.popitem(last=False)

    def cacheable(self, key: DocKey) -> bool:
        return self.max_docs > 0 and key[0] not in self.never

    def learn(
        self, read: dict[DocKey, Document | None], assumed: AbstractSet[DocKey],
        written: dict[DocKey, Document], uncertain: AbstractSet[DocKey],
    ) -> None:
        """After a batch is stored: what it read (but not what it only assumed), then
        what it wrote (but not what the store may have kept another copy of)."""
        for key, doc in read.items():
            if key not in assumed:
                self.remember(key, doc)
        for key, doc in written.items():
            if key not in uncertain:
                self.remember(key, doc)

    def clear(self) -> None:
        self._docs.clear()
