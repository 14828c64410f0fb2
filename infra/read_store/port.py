"""The read-store port: documents by collection, queried by simple filters.

Adapters: :mod:`infra.read_store.sqlite` (embedded, the default) and
:mod:`infra.read_store.mongo` (MongoDB / FerretDB). One contract test suite
runs against both. What only some stores can do is declared here too:
:class:`TransactionalReadStore` (the embedded one) and :class:`Generations` (both).

Contract:
- ``commit(changes, checkpoint)`` writes the final state of each changed document
  and advances the named checkpoint. Embedded: one transaction. MongoDB: documents
  first (each write idempotent on its own), checkpoint last, so a crash in between
  only makes the engine redo work it will then skip.
- A document never replaces a stored one that is ahead of it on any stream it was
  built from (``_streams``), so a late or repeated write cannot regress it.
- ``owned``: documents the caller alone writes (it holds the only partition that
  feeds them) and whose stored state it read before computing them. A store may
  write them without the guard (FerretDB cannot evaluate it without a collection
  scan); the embedded store, which has transactions, ignores the hint.
- ``commit`` returns the documents whose write it cannot vouch for: a stored copy
  was already there and the guard may have kept it (the caller must not assume its
  own copy is the stored one). The embedded store, transactional, returns none.
- ``has_position(p)``: the event at global position ``p`` has its audit record, and
  (MongoDB writes ``audit_trail`` last) every other effect of its batch is stored.
- ``find`` filters by equality (or :class:`Range`, or :class:`AnyOf`) on top-level
  fields, orders by one field ascending with the id as tie-break, and pages by an
  opaque cursor. As in SQL, ``None`` matches nothing: an equality with ``None``, and
  ``None`` among the values of an :class:`AnyOf`, never match a document (not even
  one without the field), so a filter on a field that older documents lack fails
  closed.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from projections.fold import Document, Lookup

NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
"""What a collection (and, past its leading underscores, a field) may be called: stores
build table, collection and field names from it, so nothing else reaches a query."""


def check_name(collection: str) -> str:
    """``collection``, if it is a valid collection name (else ``ValueError``)."""
    if not NAME.match(collection):
        raise ValueError(f"bad collection name {collection!r}")
    return collection


@dataclass(frozen=True)
class Range:
    gte: Any = None
    lte: Any = None


@dataclass(frozen=True)
class AnyOf:
    """Matches a field equal to one of ``values`` (none: matches nothing)."""

    values: tuple[Any, ...]

    def __init__(self, values: Iterable[Any]) -> None:
        object.__setattr__(self, "values", tuple(values))

    def present(self) -> list[Any]:
        """The values that can match (``None`` never does)."""
        return [value for value in self.values if value is not None]


Filters = Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Document]
    next_cursor: str | None


class CheckpointMovedError(RuntimeError):
    """Someone else (a rebuild) moved the checkpoint: re-read it and fold again."""


class BadCursorError(ValueError):
    """The cursor was not made by this store (HTTP 400)."""


def encode_cursor(order_value: Any, doc_id: str) -> str:
    raw = json.dumps([order_value, doc_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_INT64 = range(-(2**63), 2**63)


def _orderable(value: Any) -> bool:
    """What ``encode_cursor`` mints as an order value, and every store can bind: null,
    text, a 64-bit integer or a finite number (never a list, an object, a boolean,
    an integer past 64 bits, NaN or infinity)."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in _INT64
    return isinstance(value, float) and math.isfinite(value)


def decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
        if not isinstance(decoded, list):
            raise TypeError(decoded)
        value, doc_id = decoded
    except (ValueError, TypeError, RecursionError):
        raise BadCursorError("the cursor is not valid") from None
    if not isinstance(doc_id, str) or not _orderable(value):
        raise BadCursorError("the cursor is not valid")
    return value, doc_id


class PagedIteration:
    """``iter_find`` for any store with ``find``: page by page, so memory stays flat."""

    def find(
        self, collection: str, filters: Filters, *, order_by: str = "_id",
        limit: int = 50, cursor: str | None = None,
    ) -> Page:
        raise NotImplementedError

    def iter_find(
        self, collection: str, filters: Filters, *, order_by: str = "_id", chunk: int = 1000,
    ) -> Iterator[Document]:
        cursor: str | None = None
        while True:
            page = self.find(collection, filters, order_by=order_by, limit=chunk, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


class ReadStore(Protocol):
    def get(self, collection: str, doc_id: str) -> Document | None: ...

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Document]: ...

    def find(
        self, collection: str, filters: Filters, *, order_by: str = "_id",
        limit: int = 50, cursor: str | None = None,
    ) -> Page: ...

    def iter_find(
        self, collection: str, filters: Filters, *, order_by: str = "_id",
        chunk: int = 1000,
    ) -> Iterator[Document]: ...

    def commit(
        self, changes: Mapping[tuple[str, str], Document], checkpoint: tuple[str, int],
        *, expected: int | None = None, owned: AbstractSet[tuple[str, str]] = frozenset(),
    ) -> AbstractSet[tuple[str, str]]: ...

    def checkpoint(self, name: str) -> int: ...

    def has_position(self, position: int) -> bool: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class TransactionalReadStore(ReadStore, Protocol):
    """A read store that can fold inside its write transaction (the embedded one)."""

    def fold_and_commit(
        self, compute: Callable[[Lookup], Mapping[tuple[str, str], Document]],
        checkpoint: tuple[str, int], *, expected: int | None = None,
    ) -> None:
        """``commit(compute(read), checkpoint)`` with the reads inside the write
        transaction, so nothing can change what the changes were computed from."""
        ...


@runtime_checkable
class Generations(Protocol):
    """A store whose collections come in generations, side by side: one serves while
    the next is built (blue/green rebuilds).

    Both stores switch in their own way, because they can promise different things:
    the embedded store renames the built tables into place in one transaction that
    also folds in what was stored meanwhile (``SQLiteReadStore.switch_to``); MongoDB
    moves a pointer document once the new generation's consumer group has caught up
    (``MongoReadStore.switch_generation``).
    """

    def active_generation(self) -> tuple[str, str]:
        """``(prefix, group_suffix)`` of the generation that serves: the suffix names
        the consumer group projecting into it (``""`` for the embedded store, whose
        follower's checkpoint moves with the switch)."""
        ...

    def drop_generation(self, prefix: str) -> list[str]:
        """Drop every collection of generation ``prefix``; the names dropped."""
        ...
