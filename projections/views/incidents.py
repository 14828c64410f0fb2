"""The incidents view: one document per incident, its status, responders,
postmortem, how long each stage took and a timeline of every moment.

The times to acknowledge, mitigate and resolve run from the impact's start when it is
known, else from the opening (time to detect runs from the one to the other);
``mtta_seconds`` and ``mttr_seconds`` keep running from the opening. The first
acknowledgement and mitigation are the ones timed; a reopened incident is timed to
its last resolution. A duplicate names its original (``duplicate_of``); the
reverse link is read from that field (``services.api.routes.incidents``), since the
two incidents' streams are not ordered against each other. Postmortem action items
and their follow-ups are kept in ``action_items`` (:mod:`.action_items`).
"""

from __future__ import annotations

from typing import Any

from domain.envelope import EventEnvelope
from projections.fold import Document, copy_doc
from projections.times import seconds_between
from projections.views import action_items
from projections.views.view import View, existing, fold_of


def _moment(e: EventEnvelope, **extra: Any) -> dict[str, Any]:
    """An incident timeline entry."""
    return {"at": e.occurred_at, "type": e.name, "actor": e.actor, "event_id": e.id, **extra}


_UNTIMED = dict.fromkeys((
    "time_to_detect_seconds", "time_to_acknowledge_seconds", "time_to_mitigate_seconds",
    "time_to_resolve_seconds",
))


def _since(start: str | None, end: str | None) -> float | None:
    return seconds_between(start, end) if start and end else None


def _retimed(incident: Document) -> Document:
    """The durations, from the moments as they now stand (never negative)."""
    opened, impact = incident["opened_at"], incident.get("impact_started_at")
    start = impact or opened
    incident["time_to_detect_seconds"] = _since(impact, opened)
    incident["time_to_acknowledge_seconds"] = _since(start, incident["acknowledged_at"])
    incident["time_to_mitigate_seconds"] = _since(start, incident["mitigated_at"])
    incident["time_to_resolve_seconds"] = _since(start, incident["resolved_at"])
    incident["mtta_seconds"] = _since(opened, incident["acknowledged_at"])
    incident["mttr_seconds"] = _since(opened, incident["resolved_at"])
    return incident


def _noted(incident: Document, moment: dict[str, Any]) -> list[dict[str, Any]]:
    """The incident's timeline with ``moment`` added: a new list (the view's handlers
    never change a list in place, :attr:`View.shallow_copies`)."""
    return [*incident["timeline"], moment]


def _incident_opened(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    return {
        "id": e.subject, "team_id": d.get("team_id"), "severity": d.get("severity"),
        "service": d.get("service"), "summary": d.get("summary"), "status": "open",
        "opened_at": e.occurred_at, "acknowledged_at": None, "mitigated_at": None,
        "resolved_at": None, "closed_at": None, "responders": [], "root_cause": None,
        "postmortem": None, "mtta_seconds": None, "mttr_seconds": None,
        "impact_started_at": None, "duplicate_of": None, "action_items": [], **_UNTIMED,
        "timeline": [_moment(
            e, summary=d.get("summary"),
            details={"severity": d.get("severity"), "service": d.get("service")},
        )],
    }


def _incident_acknowledged(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "acknowledged"
    if incident["acknowledged_at"] is None:  # after a reopening, the first one is timed
        incident["acknowledged_at"] = e.occurred_at
    incident["timeline"] = _noted(incident, _moment(e))
    return _retimed(incident)


def _responder_assigned(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    responder = e.data.get("responder_id")
    if responder not in incident["responders"]:
        incident["responders"] = [*incident["responders"], responder]
    incident["timeline"] = _noted(incident, _moment(e, details={"responder_id": responder}))
    return incident


def _incident_escalated(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["severity"] = e.data.get("to_severity")
    incident["timeline"] = _noted(incident, _moment(e, details={
        "from_severity": e.data.get("from_severity"), "to_severity": e.data.get("to_severity"),
        "reason": e.data.get("reason"),
    }))
    return incident


def _timeline_note_added(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["timeline"] = _noted(incident, _moment(e, text=e.data.get("text")))
    return incident


def _incident_mitigated(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "mitigated"
    if incident["mitigated_at"] is None:
        incident["mitigated_at"] = e.occurred_at
    incident["timeline"] = _noted(incident, _moment(e, summary=e.data.get("summary")))
    return _retimed(incident)


def _incident_resolved(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "resolved"
    incident["resolved_at"] = e.occurred_at
    incident["root_cause"] = e.data.get("root_cause")
    incident["timeline"] = _noted(incident, _moment(
        e, summary=e.data.get("summary"), details={"root_cause": e.data.get("root_cause")}
    ))
    return _retimed(incident)


def _postmortem_published(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["postmortem"] = {
        "causes": list(e.data.get("causes") or []),
        "action_items": [dict(item) for item in e.data.get("action_items") or []],
        "published_at": e.occurred_at,
    }
    incident["action_items"] = action_items.published(
        e.subject, list(e.data.get("action_items") or []), e.occurred_at, e.id)
    incident["timeline"] = _noted(incident, _moment(e, details={
        "causes": list(e.data.get("causes") or []),
        "action_items": len(e.data.get("action_items") or []),
    }))
    return incident


def _incident_closed(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "closed"
    incident["closed_at"] = e.occurred_at
    incident["timeline"] = _noted(incident, _moment(e))
    return incident


def _impact_start_recorded(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["impact_started_at"] = e.data.get("started_at")
    incident["timeline"] = _noted(incident, _moment(e, details={
        "started_at": e.data.get("started_at"), "reason": e.data.get("reason"),
    }))
    return _retimed(incident)


def _incident_reopened(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "open"
    incident["resolved_at"] = None
    incident["closed_at"] = None
    incident["timeline"] = _noted(incident, _moment(e, details={"reason": e.data.get("reason")}))
    return _retimed(incident)


def _incident_marked_duplicate(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    incident["status"] = "closed"
    incident["closed_at"] = e.occurred_at
    incident["duplicate_of"] = e.data.get("of_incident_id")
    incident["timeline"] = _noted(incident, _moment(e, details={
        "of_incident_id": e.data.get("of_incident_id"), "reason": e.data.get("reason"),
    }))
    return incident


def _action_item_added(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    item_id = str(e.data.get("item_id"))
    incident["action_items"] = [*action_items.items_of(incident), action_items.record(
        item_id, e.data, e.occurred_at, e.id)]
    incident["timeline"] = _noted(incident, _moment(e, details={
        "item_id": item_id, "title": e.data.get("title"), "owner_id": e.data.get("owner_id"),
        "due": e.data.get("due"),
    }))
    return incident


def _action_item_changed(doc: Document | None, e: EventEnvelope) -> Document:
    incident = existing(doc)
    item_id = str(e.data.get("item_id"))
    # The changed item is a copy, so the incident's earlier states keep theirs.
    items = [copy_doc(item) if item.get("id") == item_id else item
             for item in action_items.items_of(incident)]
    incident["action_items"] = items
    item = action_items.find_item(incident, item_id)
    if item is not None:
        action_items.apply_change(item, e)
    incident["timeline"] = _noted(incident, _moment(e, details=dict(e.data)))
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
        "ImpactStartRecorded": _impact_start_recorded,
        "IncidentReopened": _incident_reopened,
        "IncidentMarkedDuplicate": _incident_marked_duplicate,
        "ActionItemAdded": _action_item_added,
        **dict.fromkeys(action_items.ITEM_EVENTS - {"ActionItemAdded"}, _action_item_changed),
    },
    creating=frozenset({"IncidentOpened"}),
    shallow_copies=True,
)


FOLD = fold_of(INCIDENTS)
