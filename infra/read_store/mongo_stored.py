"""Which documents a MongoDB store has seen stored, so a write need not find out again.

A document that is neither owned nor write-once is written by inserting it and, if
the insert meets a stored copy, replacing that copy under the stream guard. When the
store already knows the document is stored (a bulk read found it, or an earlier
commit wrote or met it), the insert can only fail, and on FerretDB v1 that failure is
dear: an insert command that meets one duplicate redoes its whole batch one document
per transaction. Such documents go straight to the guarded replacement.

Sound because the store never deletes a document from a generation: once stored, a
document stays stored (only a whole generation is dropped, and the names remembered
here carry its prefix). Bounded: the oldest names go first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from itertools import islice

StoredKey = tuple[str, str]
"""(full collection name, with its generation's prefix; document id)"""


class StoredIds:
    def __init__(self, max_ids: int) -> None:
        self.max_ids = max_ids
        self._ids: dict[StoredKey, None] = {}  # insertion-ordered: the oldest first
        self._lock = threading.Lock()  # the writer threads add side by side

    def __contains__(self, key: StoredKey) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, collection: str, doc_ids: Iterable[str]) -> None:
        if self.max_ids <= 0:
            return
        with self._lock:
            ids = self._ids
            for doc_id in doc_ids:
                key = (collection, doc_id)
                ids.pop(key, None)  # seen again: the newest now
                ids[key] = None
            excess = len(ids) - self.max_ids
            if excess > 0:
                for key in list(islice(ids, excess)):
                    del ids[key]
