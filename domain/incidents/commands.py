"""What can be asked of an incident: imperative, validated at the edge, checked by the aggregate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class OpenIncident:
    team_id: UUID
    severity: str
    service: str
    summary: str
    incident_id: UUID | None = None


@dataclass(frozen=True)
class Acknowledge:
    incident_id: UUID


@dataclass(frozen=True)
class AssignResponder:
    incident_id: UUID
    responder_id: UUID


@dataclass(frozen=True)
class Escalate:
    incident_id: UUID
    severity: str
    reason: str


@dataclass(frozen=True)
class AddNote:
    incident_id: UUID
    text: str


@dataclass(frozen=True)
class Mitigate:
    incident_id: UUID
    summary: str


@dataclass(frozen=True)
class Resolve:
    incident_id: UUID
    summary: str
    root_cause: str = ""


@dataclass(frozen=True)
class PublishPostmortem:
    incident_id: UUID
    causes: list[str]
    action_items: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class CloseIncident:
    incident_id: UUID


@dataclass(frozen=True)
class RecordImpactStart:
    incident_id: UUID
    started_at: datetime
    reason: str


@dataclass(frozen=True)
class Reopen:
    incident_id: UUID
    reason: str


@dataclass(frozen=True)
class MarkDuplicate:
    incident_id: UUID
    of_incident_id: UUID
    reason: str


@dataclass(frozen=True)
class AddActionItem:
    incident_id: UUID
    title: str
    owner_id: UUID
    due: str
    item_id: UUID | None = None


@dataclass(frozen=True)
class CompleteActionItem:
    incident_id: UUID
    item_id: UUID
    note: str
    link: str | None = None


@dataclass(frozen=True)
class ReassignActionItem:
    incident_id: UUID
    item_id: UUID
    owner_id: UUID
    reason: str


@dataclass(frozen=True)
class RescheduleActionItem:
    incident_id: UUID
    item_id: UUID
    due: str
    reason: str


@dataclass(frozen=True)
class CancelActionItem:
    incident_id: UUID
    item_id: UUID
    reason: str
