"""The incidents view: one document per incident, its status, responders,
postmortem, MTTA/MTTR and a timeline of every moment."""

from __future__ import annotations

from typing import Any

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.times import seconds_between
from projections.views.view import View, existing, fold_of


def _moment(e: EventEnvelope, **extra: Any) -> dict[str, Any]:
    """An incident timeline entry."""
    return {"at": e.occurred_at, "type": e.name, "actor": e.actor, "event_id": e.id, **extra}


def _incident_opened(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    return {
        "id": e.subject, "team_id": d.get("team_id"), "severity": d.get("severity"),
        "service": d.get("service"), "summary": d.get("summary"), "status": "open",
        "opened_at": e.occurred_at, "acknowledged_at": None, "mitigated_at": None,
        "resolved_at": None, "closed_at": None, "responders": [], "root_cause": None,
        "postmortem": None, "mtta_seconds": None, "mttr_seconds": None,
        "timeline": [_moment(
            e, summary=d.get("summary"),
            details={"severity": d.get("severity"), "service": d.get("service")},
        )],
    }


def _incident_acknowledged(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "acknowledged"
    incident["acknowledged_at"] = e.occurred_at
    incident["mtta_seconds"] = seconds_between(incident["opened_at"], e.occurred_at)
    incident["timeline"].append(_moment(e))
    return incident


def _responder_assigned(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    responder = e.data.get("responder_id")
    if responder not in incident["responders"]:
        incident["responders"].append(responder)
    incident["timeline"].append(_moment(e, details={"responder_id": responder}))
    return incident


def _incident_escalated(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["severity"] = e.data.get("to_severity")
    incident["timeline"].append(_moment(e, details={
        "from_severity": e.data.get("from_severity"), "to_severity": e.data.get("to_severity"),
        "reason": e.data.get("reason"),
    }))
    return incident


def _timeline_note_added(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["timeline"].append(_moment(e, text=e.data.get("text")))
    return incident


def _incident_mitigated(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "mitigated"
    incident["mitigated_at"] = e.occurred_at
    incident["timeline"].append(_moment(e, summary=e.data.get("summary")))
    return incident


def _incident_resolved(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "resolved"
    incident["resolved_at"] = e.occurred_at
    incident["root_cause"] = e.data.get("root_cause")
    incident["mttr_seconds"] = seconds_between(incident["opened_at"], e.occurred_at)
    incident["timeline"].append(_moment(
        e, summary=e.data.get("summary"), details={"root_cause": e.data.get("root_cause")}
    ))
    return incident


def _postmortem_published(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["postmortem"] = {
        "causes": list(e.data.get("causes") or []),
        "action_items": [dict(item) for item in e.data.get("action_items") or []],
        "published_at": e.occurred_at,
    }
    incident["timeline"].append(_moment(e, details={
        "causes": list(e.data.get("causes") or []),
        "action_items": len(e.data.get("action_items") or []),
    }))
    return incident


def _incident_closed(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "closed"
    incident["closed_at"] = e.occurred_at
    incident["timeline"].append(_moment(e))
    return incident


INCIDENTS = View(
    collection="incidents",
    context="incidents",
    handlers={
        "IncidentOpened": _incident_opened,
        "IncidentAcknowledged": _incident_acknowledged,
        "ResponderAssigned": _responder_assigned,
        "IncidentEscalated": _incident_escalated,
        "TimelineNoteAdded": _timeline_note_added,
        "IncidentMitigated": _incident_mitigated,
        "IncidentResolved": _incident_resolved,
        "PostmortemPublished": _postmortem_published,
        "IncidentClosed": _incident_closed,
    },
    creating=frozenset({"IncidentOpened"}),
)


FOLD = fold_of(INCIDENTS)
