"""Compliance: every version of every entity and its as-of state (the findings of the
controls are in :mod:`services.api.routes.findings`).

All follow the token's teams: an entity of another team is not found (404, as an
unknown one, so ids of other teams are not confirmed), a ``team_id`` of another team
is 403.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path

from domain.envelope import iso_time
from projections import compliance_history
from projections.fold import public
from services.api.deps import (
    Auditor,
    Cursor,
    Fresh,
    Limit,
    RuntimeDep,
    team_scope,
)
from services.api.models.common import UtcDateTime
from services.api.models.compliance import (
    EntityAsOfPublic,
    EntityHistoryPublic,
)
from services.api.problems import ProblemError
from services.api.queries import page

router = APIRouter(tags=["compliance"])


@router.get("/v1/compliance/entities/{entity_id}/history", response_model=EntityHistoryPublic,
            response_model_exclude_unset=True)
def entity_history(entity_id: Annotated[str, Path(max_length=100)], grant: Auditor,
                   rt: RuntimeDep, _: Fresh, limit: Limit = 50,
                   cursor: Cursor = None) -> dict[str, Any]:
    """Every version of an entity, with the event that made it."""
    filters = {"entity_id": entity_id, **team_scope(grant)}
    result = page(rt, "compliance_history", filters, limit=limit, cursor=cursor,
                  order_by="version")
    if not result["items"] and cursor is None:
        raise ProblemError(404, f"entity {entity_id} not found")
    return result


@router.get("/v1/compliance/entities/{entity_id}", response_model=EntityAsOfPublic,
            response_model_exclude_unset=True)
def entity_as_of(entity_id: Annotated[str, Path(max_length=100)], grant: Auditor,
                 rt: RuntimeDep, _: Fresh, as_of: UtcDateTime | None = None,
                 effective_at: UtcDateTime | None = None) -> dict[str, Any]:
    """The entity's state as the ledger knew it at ``as_of`` (recording time, default:
    now): the changes recorded by then, whenever they happened. With ``effective_at``
    (business time), the entity as it was then, as known at ``as_of``."""
    when = iso_time(as_of or datetime.now(UTC))
    at = iso_time(effective_at) if effective_at is not None else None
    # Selected here, not in the query: records folded before ``recorded_at`` existed
    # know it by their ``time`` (compliance_history.known_at).
    latest = compliance_history.state_as_of(rt.store.iter_find(
        "compliance_history", {"entity_id": entity_id, **team_scope(grant)},
        order_by="version",
    ), when, at)
    if latest is None:
        detail = f"entity {entity_id} did not exist at {when}"
        if at is not None:
            detail = f"entity {entity_id} did not exist at {at} as known at {when}"
        raise ProblemError(404, detail)
    found = public(latest) or {}
    return {"as_of": when, **({"effective_at": at} if at is not None else {}), **found}
