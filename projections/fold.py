"""What a read model is: folds from (document, event) to document.

A fold names the documents an event touches (``route``) and computes each one's
next state (``evolve``). Both may consult other read models through ``lookup``
(read-only, already up to date with every earlier event), e.g. the goal view to
learn whose timeline a check-in belongs on.

The engine that runs folds adds bookkeeping to every document it writes:
``_streams`` maps each aggregate id that fed the document to the last stream
version applied, so a redelivered event is skipped, and ``_position`` is the last
global position applied. Folds never read or write keys starting with ``_``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from domain.envelope import EventEnvelope

Document = dict[str, Any]
Lookup = Callable[[str, str], Document | None]
EvolveAt = Callable[[str, Document | None, EventEnvelope, Lookup], Document | None]
"""(document id, document, event, lookup) to the document's next state."""


_SHARED = frozenset({str, int, float, bool, type(None), tuple})
"""Values a copy shares rather than copies: immutable, so no fold can change them."""


_all_shared = _SHARED.issuperset


def copy_doc(value: Any) -> Any:
    """A deep copy of a JSON-like value (dicts, lists, scalars), many times faster than
    :func:`copy.deepcopy`, which is most of a fold's time otherwise: scalars are shared
    without a call per item (documents are mostly scalars, and long lists of event
    ids), and a container holding nothing else (an event's data, a list of ids) is
    copied whole, its items' types checked without a Python step per item. Tuples and
    other immutable values are shared, as deepcopy would share them."""
    kind = type(value)
    if kind is dict:
        if _all_shared(map(type, value.values())):
            return value.copy()
        return {key: item if type(item) in _SHARED else copy_doc(item)
                for key, item in value.items()}
    if kind is list:
        if _all_shared(map(type, value)):
            return value[:]
        return [item if type(item) in _SHARED else copy_doc(item) for item in value]
    return value


def no_lookup(collection: str, doc_id: str) -> Document | None:
    return None


def same_document(event: EventEnvelope, doc_id: str) -> str | None:
    """A fold's default ``source``: each document evolves from its own last state."""
    return doc_id


@dataclass(frozen=True)
class Fold:
    """One read model's fold into one collection."""

    collection: str
    route: Callable[[EventEnvelope, Lookup], Iterable[str]]
    evolve: Callable[[Document | None, EventEnvelope, Lookup], Document | None]
    # The document whose state the new one is evolved from; by default the same
    # id. History records evolve the previous version's record into a new one.
    source: Callable[[EventEnvelope, str], str | None] = same_document
    # Every document is written once and never changes (an audit record, a history
    # record, a timeline entry): the engine evolves it without reading it first, and
    # a store may treat a second write of the same id as already done.
    append_only: bool = False
    # Documents fed by several streams (a member moved between teams), which are not
    # ordered against each other and may be folded by several writers at once.
    shared: bool = False
    # Whether ``evolve`` may modify the document it is given (entity views update
    # in place); if not, the engine passes the stored source without copying it.
    mutates_source: bool = True
    # For a fold whose documents one event cannot tell apart by itself (the action
    # items a postmortem publishes, one document each): the engine calls this with
    # the document's id instead of ``evolve``.
    evolve_at: EvolveAt | None = None
    # The contexts whose events ``route`` may send anywhere (None: any context): the
    # engine asks no other event's route, so an event costs only the folds it feeds.
    contexts: frozenset[str] | None = None
    # Of those contexts' event types (context, name), whether ``route`` may send one
    # anywhere (None: every type): asked once per type, so an event is not even
    # offered to the folds that never route its type.
    accepts: Callable[[str, str], bool] | None = None
    # How the engine copies a document it owns before ``evolve`` may modify it.
    copy: Callable[[Document | None], Document | None] = copy_doc

    def evolve_doc(
        self, doc_id: str, doc: Document | None, event: EventEnvelope, lookup: Lookup
    ) -> Document | None:
        """The next state of the document ``doc_id`` (``doc`` before ``event``)."""
        if self.evolve_at is not None:
            return self.evolve_at(doc_id, doc, event, lookup)
        return self.evolve(doc, event, lookup)


def by_subject(event: EventEnvelope, lookup: Lookup) -> list[str]:
    return [event.subject]


def public(doc: Document | None) -> Document | None:
    """A document without the engine's bookkeeping, as the API shows it."""
    if doc is None:
        return None
    # A copy, then the few bookkeeping keys out: a comprehension over every key cost
    # twice as much, and a page answers fifty of these.
    shown = dict(doc)
    for key in [k for k in shown if k[:1] == "_"]:
        del shown[key]
    return shown
