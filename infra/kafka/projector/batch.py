"""Reading the store for one batch, one round trip per collection rather than per event,
and folding the batch from memory (:func:`fold_batch`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from domain.envelope import EventEnvelope
from infra.kafka.projector.doc_cache import DocCache
from infra.kafka.projector.poison import StoreUnavailableError
from infra.read_store.port import ReadStore
from projections.engine import DocKey, collector_paused, fold_events, plan_of
from projections.fold import Document, Fold
from projections.registry import APPEND_ONLY

_MAX_FETCH_ROUNDS = 4


class BatchReader:
    """The documents a batch reads, as they stood before it: fetched in bulk, then
    served from memory (``None`` is remembered too). Store errors become
    :class:`StoreUnavailableError`, so they are never mistaken for poison."""

    def __init__(self, store: ReadStore, cache: DocCache | None = None) -> None:
        self.store = store
        self.cache = cache
        self.docs: dict[DocKey, Document | None] = {}
        # Taken as absent without a read: not known to be the stored state.
        self.assumed: set[DocKey] = set()
        self.round_trips = 0

    def assume_absent(self, keys: Iterable[DocKey]) -> None:
        for key in keys:
            if key not in self.docs and not self._from_cache(key):
                self.docs[key] = None
                self.assumed.add(key)

    def _from_cache(self, key: DocKey) -> bool:
        if self.cache is None:
            return False
        known, doc = self.cache.lookup(key)
        if known:
            self.docs[key] = doc
        return known

    def fetch(self, keys: Iterable[DocKey]) -> bool:
        """Load ``keys`` not known yet; whether any of them exists in the store."""
        wanted: dict[str, list[str]] = defaultdict(list)
        found_any = False
        for key in keys:
            if key in self.docs:
                continue
            if self._from_cache(key):
                found_any = found_any or self.docs[key] is not None
            else:
                wanted[key[0]].append(key[1])
        for collection, ids in wanted.items():
            found = store_call(self.store.get_many, collection, ids)
            self.round_trips += 1
            for doc_id in ids:
                doc = found.get(doc_id)
                found_any = found_any or doc is not None
                self.docs[(collection, doc_id)] = doc
        return found_any

    def peek(self, missing: set[DocKey]) -> Callable[[str, str], Document | None]:
        """A reader that answers from memory only and notes what it did not know."""

        def read(collection: str, doc_id: str) -> Document | None:
            key = (collection, doc_id)
            if key in self.docs:
                return self.docs[key]
            missing.add(key)
            return None

        return read

    def read(self, collection: str, doc_id: str) -> Document | None:
        """A reader that falls back to one store read for what it does not know."""
        key = (collection, doc_id)
        if key not in self.docs and not self._from_cache(key):
            self.docs[key] = store_call(self.store.get, collection, doc_id)
            self.round_trips += 1
        return self.docs[key]


def owned_keys(
    changes: Mapping[DocKey, Document], reader: BatchReader, cache: DocCache
) -> frozenset[DocKey]:
    """The changed documents this member alone writes and whose stored copy the batch
    started from (read, or cached): the store may replace them by id.

    A document read as absent is not among them: the store inserts it, one row of a
    bulk insert, where a replacement by id would be a statement and a transaction of
    its own on FerretDB (about 800 new action items per 20,000 events). Should it
    exist after all (another writer), the insert meets it and the store's guard
    decides, as for any document nobody owns.
    """
    docs = reader.docs
    return frozenset(
        key for key in changes
        if docs.get(key) is not None and key not in reader.assumed
        and cache.cacheable(key) and key[0] not in APPEND_ONLY
    )


def store_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as e:
        raise StoreUnavailableError(f"{type(e).__name__}: {e}") from e


def fold_batch(
    events: list[EventEnvelope], folds: Sequence[Fold], reader: BatchReader
) -> tuple[dict[DocKey, Document], Exception | None]:
    """``fold_events`` over a whole batch, reading what it needs in a few bulk reads.

    The folds' own routes say what a batch reads (nothing here interprets document
    content): the documents routes look up are fetched first, in rounds (a route
    may look up a document because of another one it looked up); then every
    document the folds route to (and evolve from) in one last bulk read per
    collection; then the batch is folded from memory, noting any read the prefetch
    missed. A missed document that does not exist changes nothing (the fold saw
    ``None``, which was right); one that exists makes the fold run again.

    Returns the changes, or the exception a fold raised (store failures propagate
    as :class:`StoreUnavailableError`).
    """
    with collector_paused():  # the routing below allocates as much as the fold
        return _fold_batch(events, folds, reader)


def _fold_batch(
    events: list[EventEnvelope], folds: Sequence[Fold], reader: BatchReader
) -> tuple[dict[DocKey, Document], Exception | None]:
    routed: set[DocKey] = set()
    targets: set[DocKey] = set()
    fresh: set[DocKey] = set()
    looked_up: set[DocKey] = set()
    peek = reader.peek(looked_up)

    def discover(collection: str, doc_id: str) -> Document | None:
        # A document an earlier event of the batch routes to will exist when the
        # fold looks it up: an empty stand-in lets the route go on to the lookups
        # that depend on it (e.g. the member an incident names). It is not fetched
        # for that: it is a target (fetched below) or made by the batch itself.
        key = (collection, doc_id)
        if key in routed and key not in reader.docs:
            return {}
        return peek(collection, doc_id)

    todo = list(events)
    feeding = plan_of(folds).feeding  # the folds an event's type feeds
    for _ in range(_MAX_FETCH_ROUNDS):
        looked_up.clear()
        again = []
        for event in todo:
            before = len(looked_up)
            for fold in feeding(event.context, event.name):
                try:
                    ids = list(fold.route(event, discover))
                except Exception:  # noqa: S112 - the real fold reports it
                    continue
                for doc_id in ids:
                    key = (fold.collection, doc_id)
                    source = fold.source(event, doc_id)
                    if not fold.append_only:
                        if key in fresh or (
                            not fold.shared and doc_id == event.subject
                            and event.stream_version == 1 and key not in routed
                        ):
                            # Made by this very event: stored only if it was applied
                            # before (a redelivery), which the store's guard handles.
                            fresh.add(key)
                        else:
                            targets.add(key)
                        if source is not None and source != doc_id:
                            targets.add((fold.collection, source))
                    elif source is not None and source != doc_id and (
                        (fold.collection, source) not in routed
                    ):
                        # Written once and never read back, except as the source of
                        # the next one (history): only that source is read.
                        targets.add((fold.collection, source))
                    routed.add(key)
            if len(looked_up) > before:  # its routes read what we did not know yet
                again.append(event)
        wanted = looked_up - reader.docs.keys()
        if not wanted:
            break
        reader.fetch(wanted)
        todo = again
    # What the folds evolve from: the entity views, and history records not in the batch.
    reader.assume_absent(fresh - targets)
    reader.fetch(targets - reader.docs.keys())
    for _ in range(_MAX_FETCH_ROUNDS):
        missing: set[DocKey] = set()
        changes: dict[DocKey, Document] = {}
        error: Exception | None = None
        try:
            changes = fold_events(events, folds, reader.peek(missing), blind_writes=True)
        except StoreUnavailableError:
            raise
        except Exception as e:
            error = e
        if not missing or not reader.fetch(missing):
            return changes, error
    try:
        return fold_events(events, folds, reader.read, blind_writes=True), None
    except StoreUnavailableError:
        raise
    except Exception as e:
        return {}, e


def overlay(
    changes: dict[DocKey, Document], snapshot: BatchReader
) -> Callable[[str, str], Document | None]:
    def read(collection: str, doc_id: str) -> Document | None:
        key = (collection, doc_id)
        return changes[key] if key in changes else snapshot.read(collection, doc_id)

    return read
