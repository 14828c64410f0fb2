"""The audit trail: one record per public event (who, what, when, why, on which entity).

Records are keyed by event id, so a redelivered event rewrites nothing. Events
without a context (the ledger's private idempotency records) are not public and
are not audited.

Each record carries the ``team_id`` its event belongs to (:mod:`projections.team_scope`;
``None`` for events of no team), so a team-scoped reader's filter runs in the query.
Records folded before the field existed lack it and match no scoped filter: a
rebuild (``opsledger rebuild``) or a replay fills it in.

Both times of an event: ``time`` is when it happened (business time, the CloudEvent
``time``), ``recorded_at`` when the ledger recorded it. Records folded before
``recorded_at`` existed lack it (their ``time`` was the recording time then): they
match no filter on it until a rebuild.

``import_run_id`` names the import run (declared backfill) the event was recorded in;
``recorded_late`` marks an event recorded after it happened outside any import run,
the only ones the ``backdated_entry`` control looks at (in the query: the tolerance
is the control's). Records folded before these existed lack them; their events had
no business time of their own, so none was late.
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document, Fold, Lookup, copy_doc
from projections.team_scope import team_of

COLLECTION = "audit_trail"


def _route(event: EventEnvelope, lookup: Lookup) -> list[str]:
    return [event.id] if event.context else []


def _evolve(doc: Document | None, event: EventEnvelope, lookup: Lookup) -> Document:
    return {
        "id": event.id,
        "position": event.position,
        "time": event.occurred_at,
        "recorded_at": event.recorded_at,
        "import_run_id": event.import_run_id or None,
        "recorded_late": event.recorded_at > event.occurred_at and not event.import_run_id,
        "actor": event.actor,
        "type": event.type,
        "name": event.name,
        "context": event.context,
        "entity_id": event.subject,
        "team_id": team_of(event, lookup),
        "entity_version": event.stream_version,
        "reason": event.data.get("reason"),
        "data": copy_doc(event.data),
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _public(context: str, name: str) -> bool:
    return bool(context)


FOLD = Fold(COLLECTION, _route, _evolve, append_only=True, accepts=_public)
