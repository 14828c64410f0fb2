"""Incidents: the bodies of their commands, and the incident documents."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.incidents.aggregate import Severity, Status
from services.api.models.action_items import ActionItemPublic
from services.api.models.common import (
    CommandBody,
    IsoDate,
    JsonNumber,
    Name,
    OptionalText,
    ReadDocument,
    Reason,
    StrictBody,
    Text,
    UtcDateTime,
)

# -- requests -------------------------------------------------------------------------


class IncidentOpen(CommandBody):
    team_id: UUID
    severity: Severity
    service: Name
    summary: Text
    incident_id: UUID | None = None


class IncidentAssign(CommandBody):
    responder_id: UUID


class IncidentEscalate(CommandBody):
    severity: Severity
    reason: Reason


class IncidentNote(CommandBody):
    text: Text


class IncidentMitigate(CommandBody):
    summary: Text


class IncidentResolve(CommandBody):
    summary: Text
    root_cause: OptionalText = ""


class ActionItem(StrictBody):
    title: Name
    owner_id: UUID
    due: IsoDate


class IncidentPostmortem(CommandBody):
    causes: Annotated[list[Text], Field(min_length=1, max_length=50)]
    action_items: Annotated[list[ActionItem], Field(max_length=100)] = Field(default_factory=list)


class IncidentImpact(CommandBody):
    """When the impact began: at or before the opening."""

    started_at: UtcDateTime
    reason: Reason


class IncidentReopen(CommandBody):
    reason: Reason


class IncidentDuplicate(CommandBody):
    of_incident_id: UUID
    reason: Reason


# -- answers --------------------------------------------------------------------------


class TimelineMomentPublic(ReadDocument):
    """One event on an incident's timeline; ``summary``, ``text`` or ``details`` as the
    event has them."""

    at: str
    type: str
    actor: str
    event_id: str


class PostmortemPublic(ReadDocument):
    causes: list[str]
    action_items: list[dict[str, Any]]
    published_at: str


class IncidentPublic(ReadDocument):
    """An incident with its timeline and how long each stage took, in seconds: to
    detect (impact start to opening), and to acknowledge, mitigate and resolve (from
    the impact start when known, else from the opening); MTTA/MTTR from the opening.
    ``duplicate_of`` names the original of a duplicate; ``duplicates`` the incidents
    closed as duplicates of this one. ``action_items``: the postmortem's items and those
    added since, with their follow-up."""

    id: str
    team_id: str
    severity: Severity
    service: str
    summary: str
    status: Status
    opened_at: str
    acknowledged_at: str | None
    mitigated_at: str | None
    resolved_at: str | None
    closed_at: str | None
    responders: list[str]
    root_cause: str | None
    postmortem: PostmortemPublic | None
    mtta_seconds: JsonNumber | None
    mttr_seconds: JsonNumber | None
    # Defaults: documents folded before these fields existed lack them until a rebuild.
    impact_started_at: str | None = None
    time_to_detect_seconds: JsonNumber | None = None
    time_to_acknowledge_seconds: JsonNumber | None = None
    time_to_mitigate_seconds: JsonNumber | None = None
    time_to_resolve_seconds: JsonNumber | None = None
    duplicate_of: str | None = None
    duplicates: list[str] = []
    action_items: list[ActionItemPublic] = []
    timeline: list[TimelineMomentPublic]
    version: int
    event_ids: list[str]


class IncidentsPublic(BaseModel):
    items: list[IncidentPublic]
    next_cursor: str | None
