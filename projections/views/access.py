"""The tokens read model: one document per issued token, its metadata and whether it was
revoked. Never the secret nor its digest.

``status`` is ``active`` or ``revoked`` here; whether an active token has expired
depends on when it is asked, so the query answers ``expired`` (a fold stays pure).
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document, Fold, Lookup
from projections.views.view import MissingDocumentError, View

COLLECTION = "tokens"
CONTEXT = "access"


def _token_issued(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    return {
        "id": e.subject, "token_id": e.subject, "principal": d.get("principal"),
        "roles": list(d.get("roles") or []), "teams": list(d.get("teams") or []),
        "issued_at": e.occurred_at, "issued_by": e.actor, "expires_at": d.get("expires_at"),
        "reason": d.get("reason") or "", "status": "active",
        "revoked_at": None, "revoked_by": None, "revoked_reason": None,
    }


def _token_revoked(doc: Document | None, e: EventEnvelope) -> Document:
    if doc is None:  # pragma: no cover - View.evolve refuses a revocation of nothing first
        raise MissingDocumentError(f"token {e.subject} was revoked before it was issued")
    token = doc
    token["status"] = "revoked"
    token["revoked_at"] = e.occurred_at
    token["revoked_by"] = e.actor
    token["revoked_reason"] = e.data.get("reason")
    return token


TOKENS = View(
    collection=COLLECTION,
    context=CONTEXT,
    handlers={"TokenIssued": _token_issued, "TokenRevoked": _token_revoked},
    creating=frozenset({"TokenIssued"}),
)


def _route(event: EventEnvelope, lookup: Lookup) -> list[str]:
    return [event.subject] if event.context == CONTEXT else []


FOLD = Fold(COLLECTION, _route, TOKENS.evolve, contexts=frozenset({CONTEXT}))
