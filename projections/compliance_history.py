"""Compliance history: every version of every entity, with the event that made it.

One record per (entity, version), id ``<entity id>:<version, 10 digits>`` so records
sort by version. The entity is the event's aggregate, or for a decision on a finding
the finding id (:func:`projections.views.entity_of`). Version n is evolved from the
record of version n-1 (``Fold.source``), so history never depends on the entity
view's current state; an event the entity views do not know still gets its record,
with the state unchanged.

Each record carries the ``team_id`` of its entity (:mod:`projections.team_scope`),
taken from the recorded state, not from the entity view; records folded before the
field existed lack it (and match no team-scoped filter) until a rebuild or replay.

A record's ``time`` is when its event happened (business time), ``recorded_at`` when
the ledger recorded it: "as of" questions (what the ledger knew at T) read the
latter, "effective at" questions (how things stood at E) the former; both axes at
once (:func:`state_as_of`) answer "at E, as we knew it at T".
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.envelope import EventEnvelope
from projections.fold import Document, Fold, Lookup
from projections.mirrored_state import state_after
from projections.team_scope import team_of
from projections.times import parse_time
from projections.views import View, finding_decisions, may_have_a_view, state_in, view_of_type

COLLECTION = "compliance_history"


class HistoryGapError(LookupError):
    """The record of the previous version is missing: stop and replay, never skip."""


def record_id(entity_id: str, version: int) -> str:
    if version < len(_PADDED):
        return f"{entity_id}:{_PADDED[version]}"
    return f"{entity_id}:{version:010d}"


_PADDED = tuple(f"{v:010d}" for v in range(1024))
"""The first versions, padded once (a format spec per record cost more than the rest of
its id)."""


_Entity = tuple[EventEnvelope | None, "View | None", str, str]
_last: list[_Entity] = [(None, None, "", "")]
"""The view, entity id and record id of the last event asked about: its route, source
and evolve each need them, and they depend on the event alone. One tuple, replaced
whole, so a fold on another thread never sees half of another event's."""


def _entity(event: EventEnvelope) -> _Entity:
    last = _last[0]
    if last[0] is not event:
        # view_of and entity_of in one step: this runs twice per event and batch.
        if event.context == finding_decisions.CONTEXT and finding_decisions.is_finding_event(
                event):
            view: View | None = finding_decisions.FINDING_DECISIONS
            entity = str(event.data["finding_id"])
        else:
            view, entity = view_of_type(event.context, event.name), event.subject
        last = _last[0] = (event, view, entity, record_id(entity, event.stream_version))
    return last


def _route(event: EventEnvelope, lookup: Lookup) -> list[str]:
    _, view, _, record = _entity(event)
    return [] if view is None else [record]


def _source(event: EventEnvelope, doc_id: str) -> str | None:
    if event.stream_version <= 1:
        return None
    return record_id(_entity(event)[2], event.stream_version - 1)


def _evolve(previous: Document | None, event: EventEnvelope, lookup: Lookup) -> Document:
    _, view, entity, record = _entity(event)
    if previous is None and event.stream_version > 1:
        raise HistoryGapError(
            f"no history record of {entity} at version {event.stream_version - 1}"
        )
    before = previous["state"] if previous is not None else None
    state = (state_after(view, entity, before, event, lookup) if view is not None
             else state_in(view, before, event))
    return {
        "id": record,
        "entity_id": entity,
        # The entity's own state stands in for its view: history stays independent of it.
        "team_id": team_of(event, lambda collection, doc_id: state),
        "context": event.context,
        "version": event.stream_version,
        "position": event.position,
        "time": event.occurred_at,
        "recorded_at": event.recorded_at,
        "event_id": event.id,
        "event_type": event.type,
        "event_name": event.name,
        "actor": event.actor,
        "state": state,
    }


FOLD = Fold(COLLECTION, _route, _evolve, source=_source, append_only=True,
            mutates_source=False, accepts=may_have_a_view)


def known_at(record: Document) -> str:
    """When the ledger learnt what ``record`` says: its event's recording time (a
    record folded before ``recorded_at`` existed has it as its ``time``)."""
    return str(record.get("recorded_at") or record["time"])


def state_as_of(records: Iterable[Document], as_of: str,
                effective_at: str | None = None) -> Document | None:
    """The latest record (highest version) the ledger had recorded at ``as_of``, else
    None: what it knew then, whenever the changes happened. With ``effective_at``, the
    latest of those whose change had happened by then: the entity as it was at
    ``effective_at``, as known at ``as_of``.

    ``records`` are one entity's history records sorted by version. The ledger keeps
    each aggregate's events in business order, so the versions that had happened by
    ``effective_at`` are a prefix and the latest of them holds the state then.
    """
    known_by = parse_time(as_of)
    happened_by = parse_time(effective_at) if effective_at is not None else None
    latest = None
    for record in records:
        if parse_time(known_at(record)) > known_by:
            continue
        if happened_by is not None and parse_time(str(record["time"])) > happened_by:
            continue
        latest = record
    return latest
