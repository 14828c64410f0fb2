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
def open_incident(body: IncidentOpen, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
                  response: Response) -> CommandAnswer:
    """Open an incident."""
    check_team(grant, body.team_id)
    return answer(rt.incidents.open(c.OpenIncident(
        body.team_id, body.severity, body.service, body.summary, body.incident_id,
    ), ctx), response)


@router.post("/v1/incidents/{incident_id}/acknowledge")
def acknowledge(incident_id: UUID, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
                response: Response, body: Empty | None = None) -> CommandAnswer:
    """Acknowledge an open incident."""
    return answer(rt.incidents.acknowledge(c.Acknowledge(incident_id), ctx), response)


@router.post("/v1/incidents/{incident_id}/assign")
def assign(incident_id: UUID, body: IncidentAssign, grant: Operator, ctx: CommandCtx,
           rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Assign a responder."""
    return answer(rt.incidents.assign_responder(
        c.AssignResponder(incident_id, body.responder_id), ctx), response)


@router.post("/v1/incidents/{incident_id}/escalate")
def escalate(incident_id: UUID, body: IncidentEscalate, grant: Operator, ctx: CommandCtx,
             rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Raise the severity (never lower it); a reason is required."""
    return answer(rt.incidents.escalate(
        c.Escalate(incident_id, body.severity, body.reason), ctx), response)


@router.post("/v1/incidents/{incident_id}/notes")
def add_note(incident_id: UUID, body: IncidentNote, grant: Operator, ctx: CommandCtx,
             rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Add a note to the incident's timeline."""
    return answer(rt.incidents.add_note(c.AddNote(incident_id, body.text), ctx), response)


@router.post("/v1/incidents/{incident_id}/mitigate")
def mitigate(incident_id: UUID, body: IncidentMitigate, grant: Operator, ctx: CommandCtx,
             rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Record that the impact is mitigated."""
    return answer(rt.incidents.mitigate(c.Mitigate(incident_id, body.summary), ctx), response)


@router.post("/v1/incidents/{incident_id}/resolve")
def resolve(incident_id: UUID, body: IncidentResolve, grant: Operator, ctx: CommandCtx,
            rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Resolve the incident."""
    return answer(rt.incidents.resolve(
        c.Resolve(incident_id, body.summary, body.root_cause), ctx), response)


@router.post("/v1/incidents/{incident_id}/postmortem")
def postmortem(incident_id: UUID, body: IncidentPostmortem, grant: Operator, ctx: CommandCtx,
               rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Publish the postmortem: causes and action items (owner, due date)."""
    items = [
        {"title": i.title, "owner_id": str(i.owner_id), "due": i.due} for i in body.action_items
    ]
    return answer(rt.incidents.publish_postmortem(
        c.PublishPostmortem(incident_id, list(body.causes), items), ctx), response)


@router.post("/v1/incidents/{incident_id}/close")
def close(incident_id: UUID, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
          response: Response, body: Empty | None = None) -> CommandAnswer:
    """Close a resolved incident (SEV1/SEV2 need a published postmortem first)."""
    return answer(rt.incidents.close(c.CloseIncident(incident_id), ctx), response)


@router.post("/v1/incidents/{incident_id}/impact")
def impact(incident_id: UUID, body: IncidentImpact, grant: Operator, ctx: CommandCtx,
           rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Record when the impact began (at or before the opening; 409 otherwise): the
    times to detect, acknowledge, mitigate and resolve then run from it."""
    return answer(rt.incidents.record_impact_start(
        c.RecordImpactStart(incident_id, body.started_at, body.reason), ctx), response)


@router.post("/v1/incidents/{incident_id}/reopen")
def reopen(incident_id: UUID, body: IncidentReopen, grant: Operator, ctx: CommandCtx,
           rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Open a resolved or closed incident again (the resolution did not hold)."""
    return answer(rt.incidents.reopen(c.Reopen(incident_id, body.reason), ctx), response)


@router.post("/v1/incidents/{incident_id}/duplicate")
def duplicate(incident_id: UUID, body: IncidentDuplicate, grant: Operator, ctx: CommandCtx,
              rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Close the incident as a duplicate of another one (which must exist, and not be
    this one or a duplicate itself); it is left out of the metrics."""
    return answer(rt.incidents.mark_duplicate(
        c.MarkDuplicate(incident_id, body.of_incident_id, body.reason), ctx), response)


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
