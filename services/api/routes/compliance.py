"""Compliance: every version of every entity, as-of state, and control findings.

All follow the token's teams: an entity of another team is not found (404, as an
unknown one, so ids of other teams are not confirmed), a ``team_id`` of another team
is 403.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from domain.envelope import iso_time
from infra.read_store.port import BadCursorError, decode_cursor, encode_cursor
from projections import compliance_controls, compliance_history
from projections.fold import public
from projections.times import parse_time
from services.api.deps import (
    Auditor,
    Cursor,
    Fresh,
    Limit,
    RuntimeDep,
    may_see_record,
    team_scope,
)
from services.api.models.common import UtcDateTime
from services.api.models.compliance import (
    EntityAsOfPublic,
    EntityHistoryPublic,
    FindingsPublic,
    FindingStatus,
)
from services.api.problems import ProblemError
from services.api.queries import control_policies, page

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


def _after(cursor: str) -> tuple[datetime, str]:
    """The (opened at, id) of the last finding of the previous page."""
    opened_at, finding_id = decode_cursor(cursor)
    try:
        return parse_time(str(opened_at)), finding_id
    except (ValueError, TypeError, OverflowError):
        raise BadCursorError("the cursor is not valid") from None


def _order(finding: dict[str, Any]) -> tuple[datetime, str]:
    return parse_time(finding["opened_at"]), finding["id"]


@router.get("/v1/compliance/findings", response_model=FindingsPublic,
            response_model_exclude_unset=True)
def findings(
    grant: Auditor, rt: RuntimeDep, _: Fresh,
    control: Annotated[str | None, Query(max_length=100)] = None,
    team_id: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[FindingStatus | None, Query()] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """Findings of the compliance controls on the token's teams, with the events that
    evidence them; oldest first (opening time, then id), paged like every list."""
    after = _after(cursor) if cursor else None
    scope = team_scope(grant, team_id)  # in the queries: other teams are never read
    role_changes = list(rt.store.iter_find(
        "audit_trail", {"name": "RoleAssigned", **scope}, order_by="position"))
    member_ids = sorted({
        member_id for r in role_changes
        if isinstance(member_id := (r.get("data") or {}).get("member_id"), str)
    })
    found = compliance_controls.evaluate(
        incidents=rt.store.iter_find("incidents", scope),
        goals=rt.store.iter_find("goals", scope),
        role_changes=role_changes,
        members=rt.store.get_many("members", member_ids).values(),
        now_iso=iso_time(datetime.now(UTC)),
        policies=control_policies(rt),
        late_records=rt.store.iter_find(
            "audit_trail", {"recorded_late": True, **scope}, order_by="position"),
    )
    selected = [
        f for f in found
        if (control is None or f["control"] == control)
        and (status is None or f["status"] == status)
        and (team_id is None or f.get("team_id") == team_id)
        and may_see_record(grant, f.get("team_id"))
        and (after is None or _order(f) > after)
    ]
    items = selected[:limit]
    next_cursor = None
    if len(selected) > limit:
        next_cursor = encode_cursor(items[-1]["opened_at"], items[-1]["id"])
    return {"items": items, "next_cursor": next_cursor}
