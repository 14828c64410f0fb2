"""An entity's state after an event, for its compliance history record, taken from the
entity view's document when that is provably the same state rather than evolved again.

Compliance history evolves every entity's state from its own previous record, never from
the entity view (so history does not depend on the view's current state), and so ran
every event's handler twice: once for the view, once for the record (issue 15). The
views fold first, so when the history fold comes to an event the view's document is
already evolved by it. Its content (less the engine's ``_`` bookkeeping) is the state
the record needs exactly when the document stood, before the event, at the state the
previous record holds. That is known, within one run of the engine (one ``lookup``):

- once checked (``==`` on the two states) for the first event of an entity in the run,
  whose state is evolved the usual way; from then on,
- by identity: the record's previous state is the one remembered for the entity, the
  view's document is the very object remembered with it (changed in place by the view
  fold, which does so only with documents the run made), and that document moved by
  exactly one version of its single stream since: this event's, through the same
  handler that would have made the record's state.

Only views whose handlers never change a list or dict in place (``View.shallow_copies``)
share their documents' values this way; the others evolve again. A record's state is a
new dict (it shares values with the view's document, as records of such views already
share them with each other).
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document, Lookup
from projections.views import View, state_in

_Proof = tuple[Document, Document, int]
"""(a record's state, the view document of the same content, the version both are at)."""
_runs: list[tuple[object, dict[str, _Proof]]] = [(None, {})]
"""The proofs of the engine run last asked about, by entity id; one tuple, replaced
whole (a run on another thread starts its own; an entry is used only by identity)."""
_MAX_PROOFS = 65_536


def state_after(view: View, entity: str, before: Document | None, event: EventEnvelope,
                lookup: Lookup) -> Document | None:
    """``state_in(view, before, event)``, from the view's document when it is that."""
    if not view.shallow_copies or entity != event.subject:
        return state_in(view, before, event)
    run, proofs = _runs[0]
    if run is not lookup or len(proofs) >= _MAX_PROOFS:
        proofs = {}
        _runs[0] = (lookup, proofs)
    doc = lookup(view.collection, entity)
    version = event.stream_version
    streams = doc.get("_streams") if doc is not None else None
    if doc is None or streams is None or len(streams) != 1 or streams.get(event.subject) != version:
        return state_in(view, before, event)
    proof = proofs.get(entity)
    if proof is not None and proof[0] is before and proof[1] is doc and proof[2] == version - 1:
        state = _content(doc)
    else:
        evolved = state_in(view, before, event)
        if evolved is None or evolved != _content(doc):
            proofs.pop(entity, None)
            return evolved
        state = evolved
    proofs[entity] = (state, doc, version)
    return state


def _content(doc: Document) -> Document:
    """``doc`` without the engine's bookkeeping (which the engine always writes)."""
    content = doc.copy()
    for key in ("_streams", "_position", "_id"):
        content.pop(key, None)
    return content
