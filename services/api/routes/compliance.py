"""Compliance: every version of every entity, as-of state, and control findings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from domain.envelope import iso_time
from infra.read_store.port import Range
from projections import compliance_controls
from projections.fold import public
from services.api.deps import Auditor, Cursor, Fresh, Limit, RuntimeDep
from services.api.problems import ProblemError
from services.api.queries import page
from services.api.schemas import UtcDateTime
from services.runtime import Runtime

router = APIRouter(tags=["compliance"])


def _iso(value: datetime) -> str:
    return iso_time(value)


@router.get("/v1/compliance/entities/{entity_id}/history")
def entity_history(entity_id: Annotated[str, Path(max_length=100)], grant: Auditor,
                   rt: RuntimeDep, _: Fresh, limit: Limit = 50,
                   cursor: Cursor = None) -> dict[str, Any]:
    """Every version of an entity, with the event that made it."""
    result = page(rt, "compliance_history", {"entity_id": entity_id}, limit=limit,
                  cursor=cursor, order_by="version")
    if not result["items"] and cursor is None:
        raise ProblemError(404, f"entity {entity_id} not found")
    return result


@router.get("/v1/compliance/entities/{entity_id}")
def entity_as_of(entity_id: Annotated[str, Path(max_length=100)], grant: Auditor,
                 rt: RuntimeDep, _: Fresh, as_of: UtcDateTime | None = None) -> dict[str, Any]:
    """The entity's state as of a time (default: now)."""
    when = _iso(as_of or datetime.now(UTC))
    latest = None
    for record in rt.store.iter_find(
        "compliance_history", {"entity_id": entity_id, "time": Range(lte=when)},
        order_by="version",
    ):
        latest = record
    if latest is None:
        raise ProblemError(404, f"entity {entity_id} did not exist at {when}")
    return {"as_of": when, **(public(latest) or {})}


def all_docs(rt: Runtime, collection: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in rt.store.iter_find(collection, filters)]


@router.get("/v1/compliance/findings")
def findings(
    grant: Auditor, rt: RuntimeDep, _: Fresh,
    control: Annotated[str | None, Query(max_length=100)] = None,
    team_id: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
) -> dict[str, Any]:
    """Findings of the compliance controls, with the events that evidence them."""
    by_team = {"team_id": team_id} if team_id else {}
    found = compliance_controls.evaluate(
        incidents=all_docs(rt, "incidents", by_team),
        goals=all_docs(rt, "goals", by_team),
        role_changes=all_docs(rt, "audit_trail", {"name": "RoleAssigned"}),
        members=all_docs(rt, "members", by_team),
        now_iso=_iso(datetime.now(UTC)),
        thresholds=rt.settings.control_thresholds(),
    )
    items = [
        f for f in found
        if (control is None or f["control"] == control)
        and (status is None or f["status"] == status)
        and (team_id is None or f.get("team_id") == team_id)
    ]
    return {"items": items, "next_cursor": None}
