"""Postmortem action items as read models: each item's record on its incident's
document (``action_items``), and the ``action_items`` collection, one document per
item across incidents, for the list by team, owner and status.

An item record: ``id``, ``title``, ``owner_id``, ``due``, ``status`` (``open``,
``done``, ``cancelled`` as recorded; :func:`status_on` derives ``overdue``, an open
item past its due date, when it is read), ``added_at``, ``completed_at``, ``note``,
``link``, ``cancelled_at``, ``cancel_reason``, ``due_history`` and ``owner_history``
(each change with the old and new value, its reason, time, actor and event id) and
``event_ids`` (the events that made it, evidence for the control).

Items published with a postmortem take the ids the domain derives from the incident
and their place (:func:`domain.incidents.action_items.postmortem_item_id`), so events
stored before ids existed fold to the same ids.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.envelope import EventEnvelope
from domain.incidents.action_items import postmortem_item_id
from projections.fold import Document, Fold, Lookup, copy_doc

COLLECTION = "action_items"
ITEM_EVENTS = frozenset({
    "ActionItemAdded", "ActionItemCompleted", "ActionItemReassigned",
    "ActionItemRescheduled", "ActionItemCancelled",
})
"""The incidents events that change one item, named by its ``item_id``."""


def item_id_of(incident_id: str, n: int) -> str:
    """:func:`postmortem_item_id`, remembered: a postmortem's items are named by the
    incidents view, its history and the list of items, for one event (two hashes each)."""
    key = (incident_id, n)
    found = _ITEM_IDS.get(key)
    if found is None:
        found = postmortem_item_id(incident_id, n)
        if len(_ITEM_IDS) >= _MAX_ITEM_IDS:
            _ITEM_IDS.clear()
        _ITEM_IDS[key] = found
    return found


_ITEM_IDS: dict[tuple[str, int], str] = {}
_MAX_ITEM_IDS = 4096


def record(item_id: str, item: dict[str, Any], at: str | None,
           event_id: str | None) -> Document:
    """A new, open item record."""
    return {
        "id": item_id, "title": item.get("title"), "owner_id": item.get("owner_id"),
        "due": item.get("due"), "status": "open", "added_at": at, "completed_at": None,
        "note": None, "link": None, "cancelled_at": None, "cancel_reason": None,
        "due_history": [], "owner_history": [],
        "event_ids": [event_id] if event_id else [],
    }


def published(incident_id: str, items: list[dict[str, Any]], at: str | None,
              event_id: str | None) -> list[Document]:
    """The records of the items a postmortem published."""
    return [record(item_id_of(incident_id, n), item, at, event_id)
            for n, item in enumerate(items, start=1)]


def items_of(incident: Document) -> list[Document]:
    """The incident's item records; a document folded before they existed derives
    them from its postmortem (and keeps them, when it is being folded)."""
    items = incident.get("action_items")
    if items is not None:
        return items  # type: ignore[no-any-return]
    postmortem = incident.get("postmortem") or {}
    event_id = next((m.get("event_id") for m in incident.get("timeline") or []
                     if m.get("type") == "PostmortemPublished"), None)
    return published(str(incident.get("id")), list(postmortem.get("action_items") or []),
                     postmortem.get("published_at"), event_id)


def find_item(incident: Document, item_id: str) -> Document | None:
    return next((item for item in items_of(incident) if item.get("id") == item_id), None)


def status_on(item: Document, today: date) -> str:
    """The item's status as read on ``today`` (UTC): ``overdue`` for an open item whose
    due date has passed."""
    status = str(item.get("status"))
    if status == "open" and str(item.get("due") or "9999-12-31") < today.isoformat():
        return "overdue"
    return status


# -- the item changes, applied to an item record ------------------------------------


def apply_change(item: Document, e: EventEnvelope) -> None:
    """Apply one of :data:`ITEM_EVENTS` (but the adding) to its item's record."""
    d = e.data
    change = {"reason": d.get("reason"), "at": e.occurred_at, "actor": e.actor,
              "event_id": e.id}
    if e.name == "ActionItemCompleted":
        item.update(status="done", completed_at=e.occurred_at, note=d.get("note"),
                    link=d.get("link"))
    elif e.name == "ActionItemReassigned":
        item["owner_id"] = d.get("owner_id")
        item["owner_history"].append({
            "from_owner_id": d.get("from_owner_id"), "owner_id": d.get("owner_id"), **change})
    elif e.name == "ActionItemRescheduled":
        item["due"] = d.get("due")
        item["due_history"].append({"from_due": d.get("from_due"), "due": d.get("due"),
                                    **change})
    elif e.name == "ActionItemCancelled":
        item.update(status="cancelled", cancelled_at=e.occurred_at,
                    cancel_reason=d.get("reason"))
    item["event_ids"].append(e.id)


# -- the list across incidents -------------------------------------------------------


def list_id(incident_id: str, item_id: str) -> str:
    """An item's document id in the list: item ids are unique within an incident."""
    return f"{incident_id}:{item_id}"


def _route(event: EventEnvelope, lookup: Lookup) -> list[str]:
    if event.context != "incidents":
        return []
    if event.name == "PostmortemPublished":
        count = len(event.data.get("action_items") or [])
        return [list_id(event.subject, item_id_of(event.subject, n))
                for n in range(1, count + 1)]
    if event.name in ITEM_EVENTS:
        return [list_id(event.subject, str(event.data.get("item_id")))]
    return []


def _evolve_at(doc_id: str, doc: Document | None, event: EventEnvelope,
               lookup: Lookup) -> Document | None:
    """The item as its incident's document now holds it (the incidents view has
    folded the same event already), with the incident's id and team."""
    incident = lookup("incidents", event.subject)
    item = find_item(incident, doc_id.partition(":")[2]) if incident else None
    if incident is None or item is None:
        return doc
    return {**copy_doc(item), "incident_id": event.subject,
            "team_id": incident.get("team_id")}


def _by_id_only(doc: Document | None, event: EventEnvelope, lookup: Lookup) -> Document | None:
    raise TypeError("the action items fold evolves a document by its id (Fold.evolve_at)")


def _item_event(context: str, name: str) -> bool:
    return name == "PostmortemPublished" or name in ITEM_EVENTS


FOLD = Fold(COLLECTION, _route, _by_id_only, evolve_at=_evolve_at, mutates_source=False,
            contexts=frozenset({"incidents"}), accepts=_item_event)
