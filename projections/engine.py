"""Runs folds over events: pure, given a reader of the documents as they stand.

Returns the final state of every document the events changed, for the caller to
write (with its checkpoint) however its store makes that safe.

The engine is the inner loop of every replay, rebuild and projector, so it does per
event only what that event needs (issue 15): the folds an event can feed are worked
out once per event type (:class:`FoldPlan`, from each fold's ``contexts`` and
``accepts``), a document the run made itself is evolved in place and keeps its own
bookkeeping dict, and only documents the caller owns (read ones) are copied, once per
run. ``tests/unit/projections/test_golden_fold.py`` holds it to the documents of the
engine before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from domain.envelope import EventEnvelope
from projections.collector import collector_paused
from projections.fold import Document, EvolveAt, Fold, Lookup, same_document

__all__ = ["DocKey", "FoldPlan", "Step", "already_applied", "collector_paused", "fold_events",
           "folds_by_context", "plan_of"]

DocKey = tuple[str, str]
_NONE: dict[str, int] = {}


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


class Step(NamedTuple):
    """What the engine asks of one fold, its fields read once per event type rather
    than per event: ``source`` None for a fold whose documents evolve from themselves,
    ``copy`` None for one whose evolve never changes what it is given."""

    route: Callable[[EventEnvelope, Lookup], Iterable[str]]
    collection: str
    evolve: Callable[[Document | None, EventEnvelope, Lookup], Document | None]
    evolve_at: EvolveAt | None
    source: Callable[[EventEnvelope, str], str | None] | None
    copy: Callable[[Document | None], Document | None] | None
    append_only: bool


def _step(fold: Fold) -> Step:
    return Step(fold.route, fold.collection, fold.evolve, fold.evolve_at,
                None if fold.source is same_document else fold.source,
                fold.copy if fold.mutates_source else None, fold.append_only)


class FoldPlan:
    """The folds an event of each type (context, name) may feed, in order, worked out
    the first time the type is seen: a fold of other contexts, or one whose
    ``accepts`` refuses the type, is never asked to route it."""

    __slots__ = ("_by_type", "_steps", "folds")

    def __init__(self, folds: Sequence[Fold]) -> None:
        self.folds = tuple(folds)
        self._by_type: dict[tuple[str, str], tuple[Fold, ...]] = {}
        self._steps: dict[tuple[str, str], tuple[Step, ...]] = {}

    def feeding(self, context: str, name: str) -> tuple[Fold, ...]:
        found = self._by_type.get((context, name))
        if found is None:
            found = self._by_type[(context, name)] = tuple(
                f for f in self.folds
                if (f.contexts is None or context in f.contexts)
                and (f.accepts is None or f.accepts(context, name)))
        return found

    def steps(self, context: str, name: str) -> tuple[Step, ...]:
        """:meth:`feeding`, as the engine's steps."""
        found = self._steps.get((context, name))
        if found is None:
            found = self._steps[(context, name)] = tuple(
                map(_step, self.feeding(context, name)))
        return found


_PLANS: dict[tuple[int, ...], FoldPlan] = {}
_MAX_PLANS = 64


def plan_of(folds: Sequence[Fold]) -> FoldPlan:
    """The plan of ``folds``, kept (for the few fold lists a process uses). Known by
    the folds' ids, not their (field by field) hashes: a kept plan holds its folds, so
    no other fold can have one of their ids while it is kept."""
    key = tuple(map(id, folds))
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[key] = FoldPlan(folds)
    return plan


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
    with collector_paused():
        return _fold(events, plan_of(folds), read, blind_writes)


def _fold(
    events: Iterable[EventEnvelope], plan: FoldPlan, read: Lookup, blind_writes: bool,
) -> dict[DocKey, Document]:
    changed: dict[DocKey, Document] = {}
    mine_get = changed.get

    def lookup(collection: str, doc_id: str) -> Document | None:
        doc = mine_get((collection, doc_id))  # never None: no fold writes None
        return doc if doc is not None else read(collection, doc_id)

    steps_of = plan.steps
    for event in events:
        subject, version = event.subject, event.stream_version
        for route, collection, evolve, evolve_at, source_of, copy, append_only in steps_of(
                event.context, event.name):
            doc_ids = route(event, lookup)
            if not doc_ids:
                continue
            for doc_id in doc_ids:
                key = (collection, doc_id)
                target = mine_get(key)
                owned = target is not None
                if not owned and not (blind_writes and append_only):
                    target = read(collection, doc_id)
                if target is not None and target.get("_streams", _NONE).get(subject, 0) >= version:
                    continue
                # ``mine``: the document evolve is given was made by this run, so it
                # may change it in place, bookkeeping included (a copy of the
                # caller's may share that with it: a fold copies only what it changes).
                if source_of is None:
                    source, mine = target, owned
                else:
                    source_id = source_of(event, doc_id)
                    if source_id == doc_id:
                        source, mine = target, owned
                    elif source_id is None:
                        source, mine = None, False
                    else:
                        source, mine = lookup(collection, source_id), False
                if copy is not None and not mine and source is not None:
                    source = copy(source)
                if evolve_at is not None:
                    new = evolve_at(doc_id, source, event, lookup)
                else:
                    new = evolve(source, event, lookup)
                if new is None:
                    continue
                if mine and new is source:
                    streams = new.get("_streams")
                    if streams is None:
                        streams = new["_streams"] = {}
                else:
                    kept = target.get("_streams") if target is not None else None
                    streams = new["_streams"] = dict(kept) if kept else {}
                streams[subject] = version
                new["_position"] = event.position
                new["_id"] = doc_id
                changed[key] = new
    return changed
