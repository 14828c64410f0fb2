"""Opening sealed personal data where it leaves OpsLedger: API answers, exports, replays.

Read models keep what the events carry (sealed values), so no MongoDB document or
SQLite read model ever holds plaintext, and an erasure needs no rewrite of any of them:
the values simply stop opening. :class:`Revealer` opens every sealed string in a
document, whatever its shape, since each sealed value names its subject
(``infra/personal/sealing.py``); :class:`RevealingReadStore` does so for every document
a reader gets from a read store.

An audit record keeps, beside its opened ``data``, the sealed values it was stored with
(``sealed``: dotted path to ciphertext), so an exported line can still be re-hashed
(:func:`infra.contract.cloudevents.cloudevent_of_audit_record`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from domain.personal import ERASED
from infra.personal.keys import KeyStore
from infra.personal.sealing import PREFIX, WITHIN, is_sealed, parse, unseal
from infra.read_store.port import Document, Filters, Page, ReadStore

OPENED_SECONDS = 10.0
OPENED_MAX = 8192


class Revealer:
    """Opens sealed values. Each value opened is remembered with the key that opened
    it (at most :data:`OPENED_MAX` values, each for :data:`OPENED_SECONDS`): a read
    model's page opens the same few values again and again, and AES-GCM with a fresh
    context costs more than the rest of the read. A remembered value is answered only
    while the key store still gives that same key, looked up on every reveal, so an
    erasure takes effect exactly as without it; a subject found erased is forgotten."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        # subject -> (key, when first opened, {sealed value: plaintext})
        self._opened: dict[str, tuple[bytes, float, dict[str, str]]] = {}
        self._count = 0

    def reveal(self, value: str) -> str:
        """A sealed value's plaintext, or ``"[erased]"`` when its key is gone."""
        subject = _subject_in(value)
        key = self.keys.key(subject) if subject else None
        opened = self._opened.get(subject) if subject else None
        if key is None:
            if opened is not None:
                self._forget(subject)
            parse(value)  # a malformed value is refused, not passed off as erased
            return ERASED
        if opened is not None:
            if opened[0] == key and time.monotonic() - opened[1] < OPENED_SECONDS:
                known = opened[2].get(value)
                if known is not None:
                    return known
            else:
                self._forget(subject)
                opened = None
        plaintext = unseal(parse(value), key)
        self._remember(subject, key, opened, value, plaintext)
        return plaintext

    def _remember(self, subject: str, key: bytes,
                  opened: tuple[bytes, float, dict[str, str]] | None,
                  value: str, plaintext: str) -> None:
        if self._count >= OPENED_MAX:
            self._opened.clear()  # rare, and cheap to refill: simpler than an LRU
            self._count = 0
            opened = None
        if opened is None:
            opened = (key, time.monotonic(), {})
            self._opened[subject] = opened
        if value not in opened[2]:
            opened[2][value] = plaintext
            self._count += 1

    def _forget(self, subject: str) -> None:
        gone = self._opened.pop(subject, None)
        if gone is not None:
            self._count -= len(gone[2])

    def reveal_tree(self, value: Any) -> Any:
        """``value`` with every sealed string in it opened (a copy where anything is)."""
        if isinstance(value, str):
            if PREFIX not in value:
                return value
            return WITHIN.sub(lambda m: self.reveal(m.group(0)), value)
        if isinstance(value, dict):
            return {k: self.reveal_tree(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.reveal_tree(v) for v in value]
        return value

    def reveal_document(self, collection: str, doc: Document | None) -> Document | None:
        if doc is None:
            return None
        revealed: Document = self.reveal_tree(doc)
        if collection == "audit_trail":
            sealed = dict(sealed_paths(doc.get("data")))
            if sealed:
                revealed["sealed"] = sealed
        return revealed


def _subject_in(value: str) -> str:
    """The ``<kind>:<id>`` a sealed value names, without checking the rest ("" when it
    has no such part): the full parse comes with the first opening."""
    parts = value.split(":", 4)
    return f"{parts[2]}:{parts[3]}" if len(parts) == 5 else ""


def sealed_paths(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(dotted path, sealed value)`` of every sealed string inside ``value``."""
    if is_sealed(value):
        yield prefix, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from sealed_paths(v, f"{prefix}.{k}" if prefix else str(k))


def revealing(store: ReadStore, keys: KeyStore | None) -> ReadStore:
    """``store`` as readers see it: personal data opened with ``keys`` (as it is,
    without a key store)."""
    if keys is None:
        return store
    return RevealingReadStore(store, Revealer(keys))


WRITES = frozenset({"commit", "fold_and_commit"})


class RevealingReadStore:
    """A read store for readers: documents come with personal data opened. It refuses
    to write (a fold that read opened documents would write plaintext back): folds
    write to ``inner``. Everything else (checkpoints, generations, ``close``) is the
    store underneath's."""

    def __init__(self, store: ReadStore, revealer: Revealer) -> None:
        self.inner = store
        self.revealer = revealer

    def __getattr__(self, name: str) -> Any:
        if name in WRITES:
            raise AttributeError(f"{name}: a revealing store is read-only; fold into "
                                 "the store underneath, which keeps personal data sealed")
        return getattr(self.inner, name)

    def get(self, collection: str, doc_id: str) -> Document | None:
        return self.revealer.reveal_document(collection, self.inner.get(collection, doc_id))

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Document]:
        found = self.inner.get_many(collection, doc_ids)
        return {k: self.revealer.reveal_document(collection, v) or {} for k, v in found.items()}

    def find(self, collection: str, filters: Filters, **kwargs: Any) -> Page:
        page = self.inner.find(collection, filters, **kwargs)
        items = [self.revealer.reveal_document(collection, d) or {} for d in page.items]
        return type(page)(items, page.next_cursor)

    def iter_find(self, collection: str, filters: Filters, **kwargs: Any) -> Iterator[Document]:
        for doc in self.inner.iter_find(collection, filters, **kwargs):
            yield self.revealer.reveal_document(collection, doc) or {}
