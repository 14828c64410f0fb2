"""The overview: the token's teams; open incidents by severity (each one that nobody
has acknowledged yet with its Acknowledge form); open findings by control; overdue
follow-ups (postmortem action items) and trainings.

Everything is read with the API's own team scope (:func:`services.api.deps.team_scope`
in the queries, never filtered afterwards), so a scoped token reads nothing of another
team. Findings are shown to the roles that may read them on the API (leads, auditors,
admins).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from domain.incidents.aggregate import SEVERITIES
from infra.auth import Grant
from infra.read_store.port import AnyOf
from projections.fold import public
from projections.people_standing import matrix
from projections.views.action_items import COLLECTION as ACTION_ITEMS
from services.api.bootstrap import Runtime
from services.api.compliance_findings import findings_summary, now_iso
from services.api.deps import AUDIT, team_scope
from services.api.queries import item_status_filter, visible_teams, with_item_status
from services.console.auth import SignedIn
from services.console.rendering import PREFIX, notice_of, page

router = APIRouter(include_in_schema=False)

OPEN = ("open", "acknowledged", "mitigated")
"""An incident's statuses before it is resolved."""


def open_incidents(rt: Runtime, grant: Grant) -> list[dict[str, Any]]:
    found = rt.store.iter_find("incidents", {**team_scope(grant), "status": AnyOf(OPEN)},
                               order_by="opened_at")
    return [d for d in (public(doc) for doc in found) if d is not None]


def findings_by_control(rt: Runtime, grant: Grant) -> list[tuple[str, int]]:
    return sorted(findings_summary(rt, team_scope(grant), now_iso()).open_by_control.items())


def overdue_items(rt: Runtime, grant: Grant) -> list[dict[str, Any]]:
    found = rt.store.iter_find(ACTION_ITEMS, {**team_scope(grant),
                                              **item_status_filter("overdue")},
                               order_by="due")
    return with_item_status([d for d in (public(doc) for doc in found) if d is not None])


def overdue_trainings(rt: Runtime, teams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each overdue assignment (member x training) of the teams, soonest due first."""
    now = datetime.now(UTC)
    overdue = []
    for team in teams:
        team_id = str(team["id"])
        trainings = rt.store.iter_find("trainings", {"team_id": team_id},
                                       order_by="defined_at")
        members = rt.store.iter_find("members", {"team_id": team_id})
        for row in matrix(trainings, members, team_id, now):
            overdue += [{"team": team, "member": row, "training": cell}
                        for cell in row["trainings"] if cell["overdue"]]
    return sorted(overdue, key=lambda o: (str(o["training"]["due"]), str(o["member"]["name"])))


@router.get(PREFIX)
def overview(request: Request, viewer: SignedIn) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    grant = viewer.grant
    teams = visible_teams(rt, grant)
    incidents = open_incidents(rt, grant)
    by_severity = Counter(i["severity"] for i in incidents)
    may_read_findings = bool(grant.roles & set(AUDIT))
    return page(
        request, "overview.html", "Overview", viewer=viewer,
        notice=notice_of(request),
        teams=teams, team_names={str(t["id"]): t.get("name") for t in teams},
        severities=[(s, by_severity.get(s, 0)) for s in SEVERITIES],
        incidents=incidents,
        findings=findings_by_control(rt, grant) if may_read_findings else None,
        overdue_items=overdue_items(rt, grant), overdue_trainings=overdue_trainings(rt, teams),
    )
