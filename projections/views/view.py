"""The machinery every entity view shares: a ``View`` is the fold of one context's
events into one document per entity, one small handler per event name.

A versioned view (one that holds an aggregate) keeps that aggregate's ``version``
(for ``If-Match``) and the ids of every event applied (``event_ids``, evidence for
compliance findings). An event name the view does not know changes none of its
fields but those two, so a client never sees a stale version because the domain
learnt a new event before the projections did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from domain.envelope import EventEnvelope
from projections.fold import Document, Fold, Lookup, copy_doc, no_lookup

Handler = Callable[[Document | None, EventEnvelope], Document]
"""Next state of a document; it may mutate and return the one it is given."""

Route = Callable[[EventEnvelope, Lookup], list[str]]


class MissingDocumentError(LookupError):
    """An event arrived for a document that an earlier event should have created.

    Raised rather than skipped: a projector must stop and replay, never skip.
    """


@dataclass(frozen=True)
class View:
    """The fold of one context's events into one document per entity."""

    collection: str
    context: str
    handlers: Mapping[str, Handler]
    creating: frozenset[str]
    versioned: bool = True
    event_prefix: str = ""
    """In a context of several aggregates, each with its view, the prefix of the names
    of this view's events (``Risk``, ``Plan``): every event of an aggregate is named
    after it, so a name the view does not know yet still reaches its document."""
    shallow_copies: bool = False
    """The handlers set a document's own keys and never change a list or dict below them
    in place (they put a new one in its place), so a copy for :meth:`evolve` is a new
    top-level dict sharing every value: what history records of the view's entities
    cost (most of a fold's copying, and of the objects a store of them holds)."""

    def holds(self, event: EventEnvelope) -> bool:
        """Whether ``event`` changes one of this view's entities."""
        return event.context == self.context and event.name.startswith(self.event_prefix)

    def holds_type(self, context: str, name: str) -> bool:
        """Whether events of this type change this view's entities."""
        return context == self.context and name.startswith(self.event_prefix)

    def copied(self, doc: Document | None) -> Document | None:
        """A copy of ``doc`` for :meth:`evolve` to change: deep, except for the list of
        ``event_ids``, which evolve never changes in place (it puts a longer list in its
        place) and which is most of a long-lived entity's document."""
        if doc is None:
            return None
        if self.shallow_copies:
            return dict(doc)
        if not self.versioned:
            copied: Document = copy_doc(doc)
            return copied
        return {key: value if key == "event_ids" else copy_doc(value)
                for key, value in doc.items()}

    def evolve(
        self, doc: Document | None, event: EventEnvelope, lookup: Lookup = no_lookup
    ) -> Document | None:
        if event.context != self.context:
            return doc
        handler = self.handlers.get(event.name)
        if handler is None:
            return self._bookkeep(doc, event) if doc is not None else None
        if doc is None and event.name not in self.creating:
            raise MissingDocumentError(
                f"{event.name} (stream version {event.stream_version}) for "
                f"{self.collection} of {event.subject}, which no earlier event created"
            )
        return self._bookkeep(handler(doc, event), event)

    def _bookkeep(self, doc: Document, event: EventEnvelope) -> Document:
        if self.versioned:
            doc["version"] = event.stream_version
            doc["event_ids"] = [*doc.get("event_ids", []), event.id]
        return doc


def subject_route(view: View) -> Route:
    """Routes each event ``view`` holds to the document of its subject."""

    def route(event: EventEnvelope, lookup: Lookup) -> list[str]:
        return [event.subject] if view.holds(event) else []

    return route


def fold_of(view: View, route: Route | None = None, *, shared: bool = False) -> Fold:
    """The engine's fold for ``view``: by default, one document per subject. Only the
    events the view holds are routed (``route`` too must route no others: the view's
    ``evolve`` would leave their documents as they are)."""
    return Fold(view.collection, route or subject_route(view), view.evolve,
                shared=shared, copy=view.copied, contexts=frozenset({view.context}),
                accepts=view.holds_type)


def existing(doc: Document | None) -> Document:
    """The document a non-creating handler is given (``View.evolve`` checked it)."""
    if doc is None:  # pragma: no cover - guarded by View.evolve
        raise MissingDocumentError("no document to update")
    return doc
