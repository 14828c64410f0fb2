"""Incidents: open, acknowledge, escalate, resolve, review, close."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field

from domain.incidents import commands as c
from services.api.deps import (
    CommandCtx,
    Cursor,
    Fresh,
    Limit,
    Operator,
    Reader,
    RuntimeDep,
    check_list_scope,
    check_team,
)
from services.api.queries import one, page
from services.api.schemas import (
    CommandAnswer,
    IsoDate,
    Name,
    OptionalText,
    Reason,
    StrictBody,
    Text,
    answer,
)

router = APIRouter(tags=["incidents"])
ANSWERS: dict[int | str, dict[str, Any]] = {201: {"model": CommandAnswer}}
Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
Status = Literal["open", "acknowledged", "mitigated", "resolved", "closed"]


class IncidentCreate(StrictBody):
    team_id: UUID
    severity: Severity
    service: Name
    summary: Text
    incident_id: UUID | None = None


class Empty(StrictBody):
    pass


class AssignBody(StrictBody):
    responder_id: UUID


class EscalateBody(StrictBody):
    severity: Severity
    reason: Reason


class NoteBody(StrictBody):
    text: Text


class SummaryBody(StrictBody):
    summary: Text


class ResolveBody(StrictBody):
    summary: Text
    root_cause: OptionalText = ""


class ActionItem(StrictBody):
    title: Name
    owner_id: UUID
    due: IsoDate


class PostmortemBody(StrictBody):
    causes: Annotated[list[Text], Field(min_length=1, max_length=50)]
    action_items: Annotated[list[ActionItem], Field(max_length=100)] = Field(default_factory=list)


@router.post("/v1/incidents", status_code=201, responses=ANSWERS)
def open_incident(body: IncidentCreate, grant: Operator, ctx: CommandCtx,
                  rt: RuntimeDep) -> Any:
    """Open an incident."""
    check_team(grant, body.team_id)
    return answer(rt.incidents.open(c.OpenIncident(
        body.team_id, body.severity, body.service, body.summary, body.incident_id,
    ), ctx))


@router.post("/v1/incidents/{incident_id}/acknowledge", response_model=CommandAnswer)
def acknowledge(incident_id: UUID, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
                body: Empty | None = None) -> Any:
    """Acknowledge an open incident."""
    return answer(rt.incidents.acknowledge(c.Acknowledge(incident_id), ctx))


@router.post("/v1/incidents/{incident_id}/assign", response_model=CommandAnswer)
def assign(incident_id: UUID, body: AssignBody, grant: Operator, ctx: CommandCtx,
           rt: RuntimeDep) -> Any:
    """Assign a responder."""
    return answer(rt.incidents.assign_responder(
        c.AssignResponder(incident_id, body.responder_id), ctx))


@router.post("/v1/incidents/{incident_id}/escalate", response_model=CommandAnswer)
def escalate(incident_id: UUID, body: EscalateBody, grant: Operator, ctx: CommandCtx,
             rt: RuntimeDep) -> Any:
    """Raise the severity (never lower it); a reason is required."""
    return answer(rt.incidents.escalate(
        c.Escalate(incident_id, body.severity, body.reason), ctx))


@router.post("/v1/incidents/{incident_id}/notes", response_model=CommandAnswer)
def add_note(incident_id: UUID, body: NoteBody, grant: Operator, ctx: CommandCtx,
             rt: RuntimeDep) -> Any:
    """Add a note to the incident's timeline."""
    return answer(rt.incidents.add_note(c.AddNote(incident_id, body.text), ctx))


@router.post("/v1/incidents/{incident_id}/mitigate", response_model=CommandAnswer)
def mitigate(incident_id: UUID, body: SummaryBody, grant: Operator, ctx: CommandCtx,
             rt: RuntimeDep) -> Any:
    """Record that the impact is mitigated."""
    return answer(rt.incidents.mitigate(c.Mitigate(incident_id, body.summary), ctx))


@router.post("/v1/incidents/{incident_id}/resolve", response_model=CommandAnswer)
def resolve(incident_id: UUID, body: ResolveBody, grant: Operator, ctx: CommandCtx,
            rt: RuntimeDep) -> Any:
    """Resolve the incident."""
    return answer(rt.incidents.resolve(
        c.Resolve(incident_id, body.summary, body.root_cause), ctx))


@router.post("/v1/incidents/{incident_id}/postmortem", response_model=CommandAnswer)
def postmortem(incident_id: UUID, body: PostmortemBody, grant: Operator, ctx: CommandCtx,
               rt: RuntimeDep) -> Any:
    """Publish the postmortem: causes and action items (owner, due date)."""
    items = [
        {"title": i.title, "owner_id": str(i.owner_id), "due": i.due} for i in body.action_items
    ]
    return answer(rt.incidents.publish_postmortem(
        c.PublishPostmortem(incident_id, list(body.causes), items), ctx))


@router.post("/v1/incidents/{incident_id}/close", response_model=CommandAnswer)
def close(incident_id: UUID, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
          body: Empty | None = None) -> Any:
    """Close a resolved incident (SEV1/SEV2 need a published postmortem first)."""
    return answer(rt.incidents.close(c.CloseIncident(incident_id), ctx))


@router.get("/v1/incidents")
def list_incidents(
    grant: Reader, rt: RuntimeDep, _: Fresh, team_id: UUID | None = None,
    status: Annotated[Status | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """Incidents with their timeline and MTTA/MTTR, oldest first."""
    check_list_scope(grant, team_id)
    filters = {"team_id": str(team_id) if team_id else None, "status": status,
               "severity": severity}
    return page(rt, "incidents", filters, limit=limit, cursor=cursor, order_by="opened_at")


@router.get("/v1/incidents/{incident_id}")
def get_incident(incident_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """One incident with its timeline."""
    incident = one(rt, "incidents", str(incident_id), "incident")
    check_team(grant, incident["team_id"])
    return incident
