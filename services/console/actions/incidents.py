"""Actions on incidents, through the incidents' command service (as the API's
``/v1/incidents/{id}/...`` routes): acknowledge, resolve, add a note, complete a
follow-up (a postmortem action item). Each form's fields are checked by the API's own
body model, so the console accepts exactly what the API accepts."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.incidents import commands as c
from services.api.bootstrap import Runtime
from services.api.deps import OPERATE
from services.api.models.action_items import ActionItemComplete
from services.api.models.incidents import IncidentNote, IncidentResolve
from services.console.actions.commands import body_of, context_of, optional, run
from services.console.auth import CheckedPost
from services.console.rendering import PREFIX

router = APIRouter(include_in_schema=False)

INCIDENT = f"{PREFIX}/incidents/{{incident_id}}"


@router.post(f"{INCIDENT}/acknowledge")
async def acknowledge(request: Request, incident_id: UUID, posted: CheckedPost) -> Response:
    rt: Runtime = request.app.state.runtime
    ctx = await context_of(request, posted, OPERATE)
    return await run(request, posted, "incident", "acknowledged",
                     lambda: rt.incidents.acknowledge(c.Acknowledge(incident_id), ctx))


@router.post(f"{INCIDENT}/resolve")
async def resolve(request: Request, incident_id: UUID, posted: CheckedPost) -> Response:
    rt: Runtime = request.app.state.runtime
    body = body_of(IncidentResolve, {"summary": posted.form.get("summary", ""),
                                     "root_cause": posted.form.get("root_cause", "")})
    ctx = await context_of(request, posted, OPERATE)
    return await run(request, posted, "incident", "resolved",
                     lambda: rt.incidents.resolve(
                         c.Resolve(incident_id, body.summary, body.root_cause), ctx))


@router.post(f"{INCIDENT}/notes")
async def add_note(request: Request, incident_id: UUID, posted: CheckedPost) -> Response:
    rt: Runtime = request.app.state.runtime
    body = body_of(IncidentNote, {"text": posted.form.get("text", "")})
    ctx = await context_of(request, posted, OPERATE)
    return await run(request, posted, "incident", "noted",
                     lambda: rt.incidents.add_note(c.AddNote(incident_id, body.text), ctx))


@router.post(f"{INCIDENT}/action-items/{{item_id}}/complete")
async def complete_follow_up(request: Request, incident_id: UUID, item_id: UUID,
                             posted: CheckedPost) -> Response:
    rt: Runtime = request.app.state.runtime
    body = body_of(ActionItemComplete, {"note": posted.form.get("note", ""),
                                        "link": optional(posted.form, "link")})
    ctx = await context_of(request, posted, OPERATE)
    return await run(request, posted, "incident", "follow-up-completed",
                     lambda: rt.incidents.complete_action_item(c.CompleteActionItem(
                         incident_id, item_id, body.note, body.link), ctx))
