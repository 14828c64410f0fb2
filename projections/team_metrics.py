"""A team's figures per week or month: its incidents' times, goal attainment, feedback.

Computed at query time from the team's incident, goal and feedback documents. Each
of an incident's times (to detect, acknowledge, mitigate, resolve; see
:mod:`projections.views.incidents`) is summarised as ``count``, ``mean``, ``median``
and ``p90``: a mean alone hides the long tail that matters. The 90th percentile is
the nearest-rank one, a time some incident actually took. An incident closed as a
duplicate is left out: its original carries the outage.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from statistics import fmean, median
from typing import Any, Literal

from projections.fold import Document
from projections.times import parse_time

Period = Literal["week", "month"]

TIMED: tuple[tuple[str, str], ...] = (
    ("time_to_detect_seconds", "opened_at"),
    ("time_to_acknowledge_seconds", "acknowledged_at"),
    ("time_to_mitigate_seconds", "mitigated_at"),
    ("time_to_resolve_seconds", "resolved_at"),
)
"""Each incident time, and the moment whose period it counts in (when it ended)."""


def period_of(time: str, period: Period) -> str:
    """``2026-W48`` (ISO week) or ``2026-11`` for a moment, in UTC."""
    moment = parse_time(time).astimezone(UTC)
    if period == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{moment.year}-{moment.month:02d}"
    raise ValueError(f"period must be 'week' or 'month', got {period!r}")


def summary(values: list[float]) -> dict[str, Any]:
    """``count``, ``mean``, ``median`` and nearest-rank ``p90`` (None without values)."""
    if not values:
        return {"count": 0, "mean": None, "median": None, "p90": None}
    ranked = sorted(values)
    return {
        "count": len(ranked), "mean": round(fmean(ranked), 1),
        "median": round(median(ranked), 1),
        "p90": round(ranked[math.ceil(0.9 * len(ranked)) - 1], 1),
    }


@dataclass
class _Tally:
    incidents_opened: int = 0
    ack_seconds: list[float] = field(default_factory=list)
    resolve_seconds: list[float] = field(default_factory=list)
    timed: dict[str, list[float]] = field(
        default_factory=lambda: {name: [] for name, _ in TIMED}
    )
    goals_closed: int = 0
    goals_achieved: int = 0
    feedback_count: int = 0
    scores: list[float] = field(default_factory=list)

    def as_row(self, period: str) -> dict[str, Any]:
        return {
            "period": period,
            "incidents_opened": self.incidents_opened,
            "mtta_seconds": _mean(self.ack_seconds, 1),
            "mttr_seconds": _mean(self.resolve_seconds, 1),
            **{name: summary(values) for name, values in self.timed.items()},
            "goals_closed": self.goals_closed,
            "goals_achieved": self.goals_achieved,
            "goal_attainment_pct": (
                round(self.goals_achieved / self.goals_closed * 100, 1)
                if self.goals_closed else None
            ),
            "feedback_count": self.feedback_count,
            "feedback_avg_score": _mean(self.scores, 2),
        }


def _mean(values: list[float], digits: int) -> float | None:
    return round(fmean(values), digits) if values else None


def team_metrics(
    incidents: Iterable[Document], goals: Iterable[Document], feedback: Iterable[Document],
    period: Period,
) -> list[dict[str, Any]]:
    """One row per period in which something happened, oldest first.

    Each thing counts in the period it happened: an incident's opening (and its time
    to detect), its acknowledgement (MTTA, time to acknowledge), mitigation and
    resolution (MTTR, time to resolve) may fall in different periods; a goal counts
    when it closed (attainment = achieved / closed, abandoned included); feedback
    when it was received (the average is over the scored items of every kind passed
    in). Means are None for a period without data.
    """
    if period not in ("week", "month"):
        raise ValueError(f"period must be 'week' or 'month', got {period!r}")
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for incident in incidents:
        if incident.get("duplicate_of"):
            continue
        if incident.get("opened_at"):
            tallies[period_of(incident["opened_at"], period)].incidents_opened += 1
        if incident.get("acknowledged_at") and incident.get("mtta_seconds") is not None:
            tallies[period_of(incident["acknowledged_at"], period)].ack_seconds.append(
                incident["mtta_seconds"]
            )
        if incident.get("resolved_at") and incident.get("mttr_seconds") is not None:
            tallies[period_of(incident["resolved_at"], period)].resolve_seconds.append(
                incident["mttr_seconds"]
            )
        for name, ended in TIMED:
            if incident.get(ended) and incident.get(name) is not None:
                tallies[period_of(incident[ended], period)].timed[name].append(incident[name])
    for goal in goals:
        if goal.get("closed_at") and goal.get("status") != "open":
            tally = tallies[period_of(goal["closed_at"], period)]
            tally.goals_closed += 1
            tally.goals_achieved += goal.get("status") == "achieved"
    for item in feedback:
        if item.get("received_at"):
            tally = tallies[period_of(item["received_at"], period)]
            tally.feedback_count += 1
            if item.get("score") is not None:
                tally.scores.append(item["score"])
    return [tallies[key].as_row(key) for key in sorted(tallies)]
