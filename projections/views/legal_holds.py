"""The legal holds view: one document per hold (``privacy`` context, ``LegalHold...``
events), whether it is active, who placed it and who released it, and why."""

from __future__ import annotations

from typing import Any

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.views.view import View, existing, fold_of

COLLECTION = "legal_holds"


def scope_of(data: dict[str, Any]) -> dict[str, Any]:
    """What the hold names, as the API answers it."""
    if data.get("scope") == "team":
        return {"team_id": data.get("team_id")}
    id_field = "member_id" if data.get("scope") == "member" else "customer_id"
    return {"subject": {"kind": data.get("scope"), id_field: data.get("subject_id")}}


def _placed(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    return {
        "id": e.subject, "hold_id": e.subject, "scope": scope_of(d), "team_id": d.get("team_id"),
        "reason": d.get("reason"), "placed_by": e.actor, "placed_at": e.occurred_at,
        "active": True, "released_by": None, "released_at": None, "release_reason": None,
    }


def _released(doc: Document | None, e: EventEnvelope) -> Document:
    hold = existing(doc)
    hold.update({"active": False, "released_by": e.actor, "released_at": e.occurred_at,
                 "release_reason": e.data.get("reason")})
    return hold


LEGAL_HOLDS = View(
    collection=COLLECTION,
    context="privacy",
    event_prefix="LegalHold",
    handlers={"LegalHoldPlaced": _placed, "LegalHoldReleased": _released},
    creating=frozenset({"LegalHoldPlaced"}),
    shallow_copies=True,
)

FOLD = fold_of(LEGAL_HOLDS)
