"""The golden fold: a realistic mixed history and what the engine folded it into before
it was made fast (issue 15), kept so every later engine is held to the same documents.

``events.json.gz`` holds two histories made by the real domain: ``demo`` (``opsledger
demo``'s five weeks through the HTTP API, every context: teams, goals, incidents and their
action items, feedback, risks and plans, trainings and policies, compliance findings,
tokens, imports, then a legal hold placed and released and an erasure) and ``bench`` (the
first 3,000 events of the replay benchmark's 200k store). ``digests.json.gz`` holds, for
each history, a digest of every document of the final state (the same whichever way the
history was folded) and, for each way of folding it (:data:`MODES`), of every batch's
changes, computed by the engine of commit ``077917c`` (``make_golden.py`` made both
files; see its docstring).

A digest covers the types, not only the JSON (a tuple is not a list, 1 is not 1.0), so
two documents with one digest are equal as Python values.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from domain.envelope import EventEnvelope
from infra.kafka.projector.batch import BatchReader, fold_batch
from projections.engine import DocKey, fold_events
from projections.fold import Document
from projections.registry import ALL_FOLDS

HERE = Path(__file__).resolve().parent
EVENTS = HERE / "events.json.gz"
DIGESTS = HERE / "digests.json.gz"
BATCH = 97
"""Batches that cut streams anywhere (a prime: no history's rhythm lines up with it)."""


def canonical(value: Any) -> Any:
    """``value`` as nested tuples naming every container's and scalar's type."""
    kind = type(value)
    if kind is dict:
        return ("d", tuple(sorted((str(k), canonical(v)) for k, v in value.items())))
    if kind in (list, tuple):
        return (kind.__name__[0], tuple(canonical(v) for v in value))
    return (kind.__name__, repr(value))


def digest(value: Any) -> str:
    return hashlib.sha256(repr(canonical(value)).encode()).hexdigest()[:16]


def load_golden() -> dict[str, Any]:
    with gzip.open(DIGESTS, "rt", encoding="utf-8") as f:
        golden: dict[str, Any] = json.load(f)
    return golden


def load_histories() -> dict[str, list[EventEnvelope]]:
    with gzip.open(EVENTS, "rt", encoding="utf-8") as f:
        raw: dict[str, list[dict[str, Any]]] = json.load(f)
    return {name: [EventEnvelope.from_dict(e) for e in events] for name, events in raw.items()}


class DictStore:
    """Just enough of the read-store port: keeps what it is given, as given."""

    def __init__(self) -> None:
        self.docs: dict[DocKey, Document] = {}

    def get(self, collection: str, doc_id: str) -> Document | None:
        return self.docs.get((collection, doc_id))

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Document]:
        return {i: d for i in doc_ids if (d := self.docs.get((collection, i))) is not None}


Folding = Callable[[list[EventEnvelope], DictStore], dict[DocKey, Document]]


def _at_once(events: list[EventEnvelope], store: DictStore) -> dict[DocKey, Document]:
    return fold_events(events, ALL_FOLDS, lambda c, i: None)


def _read(events: list[EventEnvelope], store: DictStore) -> dict[DocKey, Document]:
    return fold_events(events, ALL_FOLDS, store.get)


def _blind(events: list[EventEnvelope], store: DictStore) -> dict[DocKey, Document]:
    return fold_events(events, ALL_FOLDS, store.get, blind_writes=True)


def _projector(events: list[EventEnvelope], store: DictStore) -> dict[DocKey, Document]:
    changes, error = fold_batch(events, ALL_FOLDS, BatchReader(store))  # type: ignore[arg-type]
    if error is not None:
        raise error
    return changes


MODES: dict[str, tuple[Folding, int | None]] = {
    "one batch from nothing": (_at_once, None),
    "batches reading the store": (_read, BATCH),
    "batches with blind writes": (_blind, BATCH),
    "the projector's prefetching batches": (_projector, BATCH),
}
"""Each way the engine is called: how, and in batches of how many events (None: all)."""


def batches(events: Sequence[EventEnvelope], size: int | None) -> Iterator[list[EventEnvelope]]:
    step = size or max(1, len(events))
    for i in range(0, len(events), step):
        yield list(events[i : i + step])


def fold_digests(events: Sequence[EventEnvelope], mode: str) -> dict[str, Any]:
    """Folds ``events`` the way ``mode`` names: the digest of each batch's changes and
    of every document of the final state (``"<collection>/<id>"``)."""
    folding, size = MODES[mode]
    store = DictStore()
    per_batch = []
    for batch in batches(events, size):
        changes = folding(batch, store)
        per_batch.append(digest(sorted(changes.items())))
        store.docs.update(changes)
    return {
        "batches": per_batch,
        "documents": {f"{c}/{i}": digest(doc) for (c, i), doc in sorted(store.docs.items())},
    }
