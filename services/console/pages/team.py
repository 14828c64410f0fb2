"""The team page: its roster with each member's role history; its goals with their
progress toward the target; weekly charts of the time to acknowledge and to resolve
(median and p90) and of the feedback score, each with its data table.

A team the token may not see is not found (404, as an unknown one: ids of other teams
are not confirmed). The figures are the API's (``GET /v1/performance/teams/{id}/metrics``,
through :func:`services.api.queries.team_periods`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from infra.auth import Grant
from projections.fold import public
from services.api.bootstrap import Runtime
from services.api.problems import ProblemError
from services.api.queries import one, team_periods
from services.console.auth import SignedIn
from services.console.charts import Chart, Series, render_svg
from services.console.rendering import PREFIX, page

router = APIRouter(include_in_schema=False)

TeamId = Annotated[str, Path(max_length=100)]
ChartName = Literal["acknowledge", "resolve", "feedback"]
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
"""An SVG chart holds its own <style> and nothing else (no script, nothing fetched)."""


def team_of(rt: Runtime, grant: Grant, team_id: str) -> dict[str, Any]:
    """The team, or 404 (also for a team of another scope than the token's)."""
    if not grant.may_see_team(team_id):
        raise ProblemError(404, f"team {team_id} not found")
    return one(rt, "teams", team_id, "team")


def roster(rt: Runtime, team: dict[str, Any]) -> list[dict[str, Any]]:
    """The team's roster entries, each with its member's role history (the entries
    that started while the member was on this team)."""
    entries = list(team.get("roster") or [])
    members = rt.store.get_many("members", [str(e["member_id"]) for e in entries])
    rows = []
    for entry in entries:
        member = public(members.get(str(entry["member_id"]))) or {}
        rows.append({**entry, "is_lead": entry["member_id"] == team.get("lead_id"),
                     "roles": list(member.get("roles") or [])})
    return sorted(rows, key=lambda r: (not r.get("active"), str(r.get("name") or "")))


def _incident_times(rows: list[dict[str, Any]], field: str, what: str, unit: str,
                    per: float, name: str) -> Chart:
    """The weekly median and p90 of one of the incidents' times, in ``unit``."""
    def values(stat: str) -> list[float | None]:
        return [None if row[field][stat] is None else round(row[field][stat] / per, 1)
                for row in rows]

    return Chart(f"Time to {what}, per week ({unit})",
                 f"Median and 90th percentile of the time {name} took to {what} an "
                 f"incident, per ISO week in which it did.", unit,
                 [row["period"] for row in rows],
                 [Series("median", values("median")), Series("p90", values("p90"))])


def weekly_charts(rt: Runtime, team: dict[str, Any]) -> dict[str, Chart]:
    rows = team_periods(rt, str(team["id"]), "week")
    name = team.get("name") or "the team"
    return {
        "acknowledge": _incident_times(rows, "time_to_acknowledge_seconds", "acknowledge",
                                       "minutes", 60, name),
        "resolve": _incident_times(rows, "time_to_resolve_seconds", "resolve", "hours",
                                   3600, name),
        "feedback": Chart(
            "Feedback score, per week (0 to 10)",
            f"The average score of the feedback {name} received, per ISO week.",
            "score", [row["period"] for row in rows],
            [Series("average score", [row["feedback_avg_score"] for row in rows])]),
    }


@router.get(f"{PREFIX}/teams/{{team_id}}")
def team_page(request: Request, team_id: TeamId, viewer: SignedIn) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    team = team_of(rt, viewer.grant, team_id)
    goals = [public(g) for g in rt.store.iter_find("goals", {"team_id": team_id},
                                                   order_by="set_at")]
    return page(request, "team.html", f"Team {team.get('name') or team_id}", viewer=viewer,
                team=team, roster=roster(rt, team), goals=goals,
                charts=weekly_charts(rt, team))


@router.get(f"{PREFIX}/teams/{{team_id}}/charts/{{chart}}.svg")
def team_chart(request: Request, team_id: TeamId, chart: ChartName,
               viewer: SignedIn) -> Response:
    rt: Runtime = request.app.state.runtime
    team = team_of(rt, viewer.grant, team_id)
    svg = render_svg(weekly_charts(rt, team)[chart])
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Security-Policy": CHART_CSP})
