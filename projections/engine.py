"""Runs folds over events: pure, given a reader of the documents as they stand.

Returns the final state of every document the events changed, for the caller to
write (with its checkpoint) however its store makes that safe.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence

from domain.envelope import EventEnvelope
from projections.fold import Document, Fold, Lookup

DocKey = tuple[str, str]


def already_applied(doc: Document | None, event: EventEnvelope) -> bool:
    """Has this document already seen this event (or a later one of its stream)?"""
    return doc is not None and doc.get("_streams", {}).get(event.subject, 0) >= event.stream_version


def folds_by_context(folds: Sequence[Fold]) -> Callable[[str], list[Fold]]:
    """The folds (in order) that an event of a context may feed: those declaring no
    ``contexts``, and those declaring its context."""
    known: dict[str, list[Fold]] = {}

    def feeding(context: str) -> list[Fold]:
        found = known.get(context)
        if found is None:
            found = known[context] = [
                f for f in folds if f.contexts is None or context in f.contexts]
        return found

    return feeding


def fold_events(
    events: Iterable[EventEnvelope], folds: Sequence[Fold], read: Lookup, *,
    blind_writes: bool = False,
) -> dict[DocKey, Document]:
    """The final state of every document ``events`` change.

    With ``blind_writes``, write-once documents (``Fold.append_only``) are not read:
    each is computed as if new and returned even when already stored, for a store
    that keeps the first copy of such a document (the MongoDB store inserts them and
    ignores duplicate keys). Without it, a redelivered event changes nothing at all.
    """
    # A fold makes many small containers and no reference cycles: the cyclic
    # collector would otherwise run every few hundred of them and, often enough,
    # walk every document the process holds (half of a large fold's time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _fold(events, folds, read, blind_writes)
    finally:
        if collecting:
            gc.enable()


def _fold(
    events: Iterable[EventEnvelope], folds: Sequence[Fold], read: Lookup, blind_writes: bool,
) -> dict[DocKey, Document]:
    changed: dict[DocKey, Document] = {}

    def lookup(collection: str, doc_id: str) -> Document | None:
        key = (collection, doc_id)
        return changed[key] if key in changed else read(collection, doc_id)

    feeding = folds_by_context(folds)
    for event in events:
        for fold in feeding(event.context):
            for doc_id in fold.route(event, lookup):
                key = (fold.collection, doc_id)
                blind = blind_writes and fold.append_only
                target = changed.get(key) if blind else lookup(*key)
                if already_applied(target, event):
                    continue
                source_id = fold.source(event, doc_id)
                if source_id == doc_id:
                    source = target
                elif source_id is None:
                    source = None
                else:
                    source = lookup(fold.collection, source_id)
                # Folds may mutate what they are given: copy anything the caller
                # owns (read documents), not the documents this run made itself and
                # is about to replace.
                owned = source_id == doc_id and key in changed
                if fold.mutates_source and not owned:
                    source = fold.copy(source)
                new = fold.evolve_doc(doc_id, source, event, lookup)
                if new is None:
                    continue
                streams = dict((target or {}).get("_streams", {}))
                streams[event.subject] = event.stream_version
                new["_streams"] = streams
                new["_position"] = event.position
                new["_id"] = doc_id
                changed[key] = new
    return changed
