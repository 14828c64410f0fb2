"""Performance: a member's dated timeline and a team's per-period metrics."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from projections.team_metrics import Period
from services.api.deps import Cursor, Fresh, Limit, Reader, RuntimeDep, check_team
from services.api.models.common import UtcDateTime
from services.api.models.performance import MemberTimelinePublic, TeamMetricsPublic
from services.api.queries import one, page, team_periods, time_range

router = APIRouter(tags=["performance"])


@router.get("/v1/performance/members/{member_id}/timeline",
            response_model=MemberTimelinePublic, response_model_exclude_unset=True)
def member_timeline(
    member_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh,
    since: UtcDateTime | None = None, until: UtcDateTime | None = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """A member's dated timeline: check-ins, incidents handled, feedback, role changes."""
    member = one(rt, "members", str(member_id), "member")
    check_team(grant, member.get("team_id", ""))
    filters: dict[str, Any] = {"owner": f"member:{member_id}", "time": time_range(since, until)}
    return page(rt, "timeline", filters, limit=limit, cursor=cursor, order_by="time")


@router.get("/v1/performance/teams/{team_id}/metrics", response_model=TeamMetricsPublic,
            response_model_exclude_unset=True)
def team_metrics_route(
    team_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh,
    period: Annotated[Period, Query()] = "week",
) -> dict[str, Any]:
    """Per-period metrics: MTTA, MTTR, goal attainment, feedback score."""
    check_team(grant, team_id)
    one(rt, "teams", str(team_id), "team")
    periods = team_periods(rt, str(team_id), period)
    return {"team_id": str(team_id), "period": period, "items": periods}
