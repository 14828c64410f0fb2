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

import re
import time
from collections.abc import Iterator
from typing import Any

import orjson

from domain.personal import ERASED
from infra.personal.keys import KeyStore
from infra.personal.sealing import PREFIX, WITHIN, is_sealed, parse, unseal
from infra.read_store.port import Document, Filters, Page, ReadStore

OPENED_SECONDS = 10.0
OPENED_MAX = 8192
DOCUMENTS_MAX = 2048
_WALKED = (str, dict, list)
_PREFIX_BYTES = PREFIX.encode()
_WITHIN_BYTES = re.compile(WITHIN.pattern.encode())
_KEYED = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""A document JSON would change the types of (a datetime) is never remembered."""

_Used = tuple[tuple[str, "bytes | None"], ...]


class Revealer:
    """Opens sealed values. Each value opened is remembered with the key that opened
    it, for :data:`OPENED_SECONDS` at most (at most :data:`OPENED_MAX` of them): a
    read-model page opens the same few values again and again, and AES-GCM with a
    fresh context costs more than the rest of the read. A remembered value is answered
    only while the key store still gives that same key, looked up on every reveal, so
    an erasure takes effect exactly as without it.

    Whole documents opened are remembered the same way (at most :data:`DOCUMENTS_MAX`),
    by their stored JSON, with the key each of their subjects had *before* they were
    opened (so an erasure meanwhile can only miss, never answer plaintext), and answered
    as fresh objects parsed from the opened JSON (a route may change what it is given):
    walking a page's fifty documents was most of its cost."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        self._opened: dict[str, tuple[str, bytes, str]] = {}  # value: subject, key, text
        self._documents: dict[tuple[str, bytes], tuple[_Used, bytes]] = {}
        self._since = time.monotonic()

    def _forget_when_due(self) -> None:
        now = time.monotonic()
        if (now - self._since >= OPENED_SECONDS or len(self._opened) >= OPENED_MAX
                or len(self._documents) >= DOCUMENTS_MAX):
            # All at once: no plaintext is kept longer than that.
            self._opened, self._documents = {}, {}
            self._since = now

    def reveal(self, value: str) -> str:
        """A sealed value's plaintext, or ``"[erased]"`` when its key is gone."""
        self._forget_when_due()
        known = self._opened.get(value)
        if known is not None:
            subject, key, plaintext = known
            if self.keys.key(subject) == key:
                return plaintext
            self._opened.pop(value, None)
        sealed = parse(value)
        live = self.keys.key(sealed.subject)
        if live is None:
            return ERASED
        plaintext = unseal(sealed, live)
        self._opened[value] = (sealed.subject, live, plaintext)
        return plaintext

    def reveal_tree(self, value: Any) -> Any:
        """``value`` with every sealed string in it opened: new dicts and lists on the
        way to each sealed string, the very same objects wherever there is none (a
        read-model page is mostly ids, times and numbers: copying them all cost more
        than opening the few sealed values)."""
        if isinstance(value, str):
            return self._reveal_text(value) if PREFIX in value else value
        if isinstance(value, dict):
            changed: dict[str, Any] | None = None
            for k, v in value.items():
                # Strings inline: a call per plain string was most of a page's cost.
                if type(v) is str:
                    if PREFIX not in v:
                        continue
                    opened = self._reveal_text(v)
                elif isinstance(v, _WALKED):
                    opened = self.reveal_tree(v)
                    if opened is v:
                        continue
                else:
                    continue
                changed = changed or {}
                changed[k] = opened
            return value if changed is None else {**value, **changed}
        if isinstance(value, list):
            items = [self.reveal_tree(v) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value

    def _reveal_text(self, text: str) -> str:
        """A text that holds sealed values, opened: most often one whole sealed value."""
        if text in self._opened:  # a whole sealed value, opened before: no regex
            return self.reveal(text)
        return WITHIN.sub(lambda m: self.reveal(m.group(0)), text)

    def reveal_document(self, collection: str, doc: Document | None) -> Document | None:
        if doc is None:
            return None
        try:
            stored = orjson.dumps(doc, option=_KEYED)
        except TypeError:  # not plain JSON: walked, never remembered
            return self._opened_document(collection, doc)
        if _PREFIX_BYTES not in stored:
            return doc
        self._forget_when_due()
        known = self._documents.get((collection, stored))
        if known is not None:
            used, opened = known
            if all(self.keys.key(subject) == key for subject, key in used):
                fresh: Document = orjson.loads(opened)
                return fresh
        used = tuple((subject, self.keys.key(subject)) for subject in _subjects_in(stored))
        revealed = self._opened_document(collection, doc)
        opened = orjson.dumps(revealed)
        if orjson.loads(opened) == revealed:  # the same types once parsed again
            self._documents[(collection, stored)] = (used, opened)
        return revealed

    def _opened_document(self, collection: str, doc: Document) -> Document:
        revealed: Document = self.reveal_tree(doc)
        if collection == "audit_trail":
            sealed = dict(sealed_paths(doc.get("data")))
            if sealed:
                revealed["sealed"] = sealed
        return revealed


def _subjects_in(stored: bytes) -> list[str]:
    """The subjects whose keys open the sealed values in a document's JSON."""
    return sorted({f"{m.group(1).decode()}:{m.group(2).decode()}"
                   for m in _WITHIN_BYTES.finditer(stored)})


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
