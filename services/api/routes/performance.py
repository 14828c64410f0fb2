"""Performance: a member's dated timeline and a team's per-period metrics."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from infra.read_store.port import Range
from projections.fold import public
from projections.performance_timeline import team_metrics
from services.api.deps import Cursor, Fresh, Limit, Reader, RuntimeDep, check_team
from services.api.queries import one, page
from services.api.routes.audit import _iso
from services.api.schemas import UtcDateTime

router = APIRouter(tags=["performance"])


@router.get("/v1/performance/members/{member_id}/timeline")
def member_timeline(
    member_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh,
    since: UtcDateTime | None = None, until: UtcDateTime | None = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """A member's dated timeline: check-ins, incidents handled, feedback, role changes."""
    member = one(rt, "members", str(member_id), "member")
    check_team(grant, member.get("team_id", ""))
    filters: dict[str, Any] = {"owner": f"member:{member_id}"}
    if since or until:
        filters["time"] = Range(gte=_iso(since), lte=_iso(until))
    return page(rt, "timeline", filters, limit=limit, cursor=cursor, order_by="time")


@router.get("/v1/performance/teams/{team_id}/metrics")
def team_metrics_route(
    team_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh,
    period: Annotated[Literal["week", "month"], Query()] = "week",
) -> dict[str, Any]:
    """Per-period metrics: MTTA, MTTR, goal attainment, feedback score."""
    check_team(grant, team_id)
    one(rt, "teams", str(team_id), "team")
    by_team = {"team_id": str(team_id)}

    def docs(collection: str) -> list[dict[str, Any]]:
        return [public(d) or {} for d in rt.store.iter_find(collection, by_team)]

    periods = team_metrics(docs("incidents"), docs("goals"), docs("feedback"), period)
    return {"team_id": str(team_id), "period": period, "items": periods}
