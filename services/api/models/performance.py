"""Performance: a member's dated timeline and a team's per-period metrics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from projections.team_metrics import Period
from services.api.models.common import JsonNumber, ReadDocument


class TimelineEntryPublic(ReadDocument):
    """Something a member did or that happened to them: a check-in, an incident handled,
    feedback, a role change."""

    id: str
    owner: str
    member_id: str | None
    team_id: str | None
    time: str
    position: int
    kind: str
    summary: str
    event_id: str
    details: dict[str, Any]


class MemberTimelinePublic(BaseModel):
    items: list[TimelineEntryPublic]
    next_cursor: str | None


class TimeSummaryPublic(BaseModel):
    """One incident time over a period, in seconds; None without data."""

    count: int
    mean: JsonNumber | None
    median: JsonNumber | None
    p90: JsonNumber | None


class PeriodMetricsPublic(ReadDocument):
    """One period in which something happened; means are None without data. Incidents
    closed as duplicates are left out."""

    period: str
    incidents_opened: int
    mtta_seconds: JsonNumber | None
    mttr_seconds: JsonNumber | None
    time_to_detect_seconds: TimeSummaryPublic
    time_to_acknowledge_seconds: TimeSummaryPublic
    time_to_mitigate_seconds: TimeSummaryPublic
    time_to_resolve_seconds: TimeSummaryPublic
    goals_closed: int
    goals_achieved: int
    goal_attainment_pct: JsonNumber | None
    feedback_count: int
    feedback_avg_score: JsonNumber | None


class TeamMetricsPublic(BaseModel):
    team_id: str
    period: Period
    items: list[PeriodMetricsPublic]
