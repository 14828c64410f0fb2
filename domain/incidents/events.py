"""The public wire names of the incidents context (one topic: ``opsledger.incidents.events``)."""

from __future__ import annotations

from domain.incidents.aggregate import Incident

CONTEXT = Incident.CONTEXT
EVENTS = (
    Incident.IncidentOpened, Incident.IncidentAcknowledged, Incident.ResponderAssigned,
    Incident.IncidentEscalated, Incident.TimelineNoteAdded, Incident.IncidentMitigated,
    Incident.IncidentResolved, Incident.PostmortemPublished, Incident.IncidentClosed,
    Incident.ImpactStartRecorded, Incident.IncidentReopened, Incident.IncidentMarkedDuplicate,
    Incident.ActionItemAdded, Incident.ActionItemCompleted, Incident.ActionItemReassigned,
    Incident.ActionItemRescheduled, Incident.ActionItemCancelled,
)
