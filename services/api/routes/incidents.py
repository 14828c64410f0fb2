"""Incidents: open, acknowledge, escalate, resolve, review, close."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from domain.incidents import commands as c
from domain.incidents.aggregate import Severity, Status
from services.api.deps import (
    CommandCtx,
    Cursor,
    Limit,
    Operator,
    RuntimeDep,
    check_list_scope,
    check_team,
)
from services.api.models.common import CommandAnswer, Empty, answer
from services.api.models.incidents import (
    IncidentAssign,
    IncidentDuplicate,
    IncidentEscalate,
    IncidentImpact,
    IncidentMitigate,
    IncidentNote,
    IncidentOpen,
    IncidentPostmortem,
    IncidentPublic,
    IncidentReopen,
    IncidentResolve,
    IncidentsPublic,
)
from services.api.queries import (
    in_thread,
    json_answer,
    one,
    page,
    read,
    with_action_items,
    with_duplicates,
)
from services.api.reading import FreshRead

router = APIRouter(tags=["incidents"])


@router.post("/v1/incidents", status_code=201)
async def open_incident(body: IncidentOpen, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
                        response: Response) -> CommandAnswer:
    """Open an incident."""
    check_team(grant, body.team_id)
    command = c.OpenIncident(
        body.team_id, body.severity, body.service, body.summary, body.incident_id,
    )
    return answer(await in_thread(rt.incidents.open, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/acknowledge")
async def acknowledge(incident_id: UUID, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
                      response: Response, body: Empty | None = None) -> CommandAnswer:
    """Acknowledge an open incident."""
    command = c.Acknowledge(incident_id)
    return answer(await in_thread(rt.incidents.acknowledge, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/assign")
async def assign(incident_id: UUID, body: IncidentAssign, grant: Operator, ctx: CommandCtx,
                 rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Assign a responder."""
    command = c.AssignResponder(incident_id, body.responder_id)
    return answer(await in_thread(rt.incidents.assign_responder, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/escalate")
async def escalate(incident_id: UUID, body: IncidentEscalate, grant: Operator, ctx: CommandCtx,
                   rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Raise the severity (never lower it); a reason is required."""
    command = c.Escalate(incident_id, body.severity, body.reason)
    return answer(await in_thread(rt.incidents.escalate, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/notes")
async def add_note(incident_id: UUID, body: IncidentNote, grant: Operator, ctx: CommandCtx,
                   rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Add a note to the incident's timeline."""
    command = c.AddNote(incident_id, body.text)
    return answer(await in_thread(rt.incidents.add_note, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/mitigate")
async def mitigate(incident_id: UUID, body: IncidentMitigate, grant: Operator, ctx: CommandCtx,
                   rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Record that the impact is mitigated."""
    command = c.Mitigate(incident_id, body.summary)
    return answer(await in_thread(rt.incidents.mitigate, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/resolve")
async def resolve(incident_id: UUID, body: IncidentResolve, grant: Operator, ctx: CommandCtx,
                  rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Resolve the incident."""
    command = c.Resolve(incident_id, body.summary, body.root_cause)
    return answer(await in_thread(rt.incidents.resolve, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/postmortem")
async def postmortem(incident_id: UUID, body: IncidentPostmortem, grant: Operator, ctx: CommandCtx,
                     rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Publish the postmortem: causes and action items (owner, due date)."""
    items = [
        {"title": i.title, "owner_id": str(i.owner_id), "due": i.due} for i in body.action_items
    ]
    command = c.PublishPostmortem(incident_id, list(body.causes), items)
    return answer(await in_thread(rt.incidents.publish_postmortem, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/close")
async def close(incident_id: UUID, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
                response: Response, body: Empty | None = None) -> CommandAnswer:
    """Close a resolved incident (SEV1/SEV2 need a published postmortem first)."""
    return answer(await in_thread(rt.incidents.close, c.CloseIncident(incident_id), ctx), response)


@router.post("/v1/incidents/{incident_id}/impact")
async def impact(incident_id: UUID, body: IncidentImpact, grant: Operator, ctx: CommandCtx,
                 rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Record when the impact began (at or before the opening; 409 otherwise): the
    times to detect, acknowledge, mitigate and resolve then run from it."""
    command = c.RecordImpactStart(incident_id, body.started_at, body.reason)
    return answer(await in_thread(rt.incidents.record_impact_start, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/reopen")
async def reopen(incident_id: UUID, body: IncidentReopen, grant: Operator, ctx: CommandCtx,
                 rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Open a resolved or closed incident again (the resolution did not hold)."""
    command = c.Reopen(incident_id, body.reason)
    return answer(await in_thread(rt.incidents.reopen, command, ctx), response)


@router.post("/v1/incidents/{incident_id}/duplicate")
async def duplicate(incident_id: UUID, body: IncidentDuplicate, grant: Operator, ctx: CommandCtx,
                    rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Close the incident as a duplicate of another one (which must exist, and not be
    this one or a duplicate itself); it is left out of the metrics."""
    command = c.MarkDuplicate(incident_id, body.of_incident_id, body.reason)
    return answer(await in_thread(rt.incidents.mark_duplicate, command, ctx), response)


@router.get("/v1/incidents", response_model=IncidentsPublic, response_model_exclude_unset=True)
async def list_incidents(
    reader: FreshRead, team_id: UUID | None = None,
    status: Annotated[Status | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Response:
    """Incidents with their timeline and MTTA/MTTR, oldest first."""
    grant, rt = reader.grant, reader.runtime
    check_list_scope(grant, team_id)
    filters = {"team_id": str(team_id) if team_id else None, "status": status,
               "severity": severity}

    def query() -> dict[str, Any]:
        found = page(rt, "incidents", filters, limit=limit, cursor=cursor,
                     order_by="opened_at")
        with_action_items(with_duplicates(rt, found["items"]))
        return found

    return json_answer(await read(rt, query))


@router.get("/v1/incidents/{incident_id}", response_model=IncidentPublic,
            response_model_exclude_unset=True)
async def get_incident(incident_id: UUID, reader: FreshRead) -> Response:
    """One incident with its timeline and action items."""
    grant, rt = reader.grant, reader.runtime
    incident = await read(rt, one, rt, "incidents", str(incident_id), "incident")
    check_team(grant, incident["team_id"])
    return json_answer(with_action_items(await read(rt, with_duplicates, rt, [incident]))[0])
