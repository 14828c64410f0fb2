"""The incident page: its timeline with both times where they differ (when each
moment happened, the command's ``occurred_at``, and when OpsLedger recorded it), its
responders, its postmortem and follow-ups (action items), and the forms to
acknowledge, resolve, add a note and complete a follow-up, each carrying the version
the page was made from (``If-Match``) and the session's CSRF token.

An incident of a team the token may not see is not found (404, as an unknown one).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from projections.fold import public
from projections.times import parse_time
from services.api.bootstrap import Runtime
from services.api.deps import OPERATE
from services.api.problems import ProblemError
from services.api.queries import one, with_action_items, with_duplicates
from services.console.auth import SignedIn
from services.console.rendering import PREFIX, notice_of, page

router = APIRouter(include_in_schema=False)

IncidentId = Annotated[UUID, Path()]
UNRESOLVED = ("open", "acknowledged", "mitigated")


def differ(happened: object, recorded: object) -> bool:
    """Whether a moment was recorded at another time than it happened (to the second:
    a live command is recorded within the same second it happens)."""
    if not isinstance(happened, str) or not isinstance(recorded, str):
        return False
    try:
        delta = parse_time(recorded) - parse_time(happened)
    except (ValueError, OverflowError):
        return False
    return abs(delta.total_seconds()) >= 1


def timeline(rt: Runtime, incident: dict[str, Any]) -> list[dict[str, Any]]:
    """The incident's moments with ``recorded_at`` from their audit records and
    ``recorded_late`` where the two times differ."""
    moments = list(incident.get("timeline") or [])
    records = rt.store.get_many("audit_trail", [str(m["event_id"]) for m in moments])
    shown = []
    for moment in moments:
        record = records.get(str(moment["event_id"])) or {}
        recorded = record.get("recorded_at")
        shown.append({**moment, "recorded_at": recorded,
                      "differs": differ(moment.get("at"), recorded),
                      "entity_version": record.get("entity_version")})
    return shown


def incident_of(rt: Runtime, viewer: SignedIn, incident_id: UUID) -> dict[str, Any]:
    incident = one(rt, "incidents", str(incident_id), "incident")
    if not viewer.grant.may_see_team(str(incident.get("team_id"))):
        raise ProblemError(404, f"incident {incident_id} not found")
    [shown] = with_action_items(with_duplicates(rt, [incident]))
    return shown


@router.get(f"{PREFIX}/incidents/{{incident_id}}")
def incident_page(request: Request, incident_id: IncidentId, viewer: SignedIn) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    incident = incident_of(rt, viewer, incident_id)
    team = public(rt.store.get("teams", str(incident["team_id"]))) or {}
    people_ids = {str(r) for r in incident.get("responders") or []} | {
        str(i["owner_id"]) for i in incident["action_items"] if i.get("owner_id")}
    people = {k: public(v) or {} for k, v in rt.store.get_many("members",
                                                               sorted(people_ids)).items()}
    may_act = bool(viewer.grant.roles & set(OPERATE))
    return page(request, "incident.html", f"Incident: {incident.get('summary')}",
                viewer=viewer, notice=notice_of(request), incident=incident, team=team,
                moments=timeline(rt, incident), people=people, may_act=may_act,
                unresolved=incident.get("status") in UNRESOLVED,
                here=f"{PREFIX}/incidents/{incident['id']}")
