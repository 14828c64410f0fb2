"""Postmortem action items: their stable ids, what a valid one is, and the rules of
their follow-up (complete, reassign, move the due date, cancel).

An item published with a postmortem has no id in its event (events stored before
ids existed have none either): its id is derived from the incident's id and its
place in the postmortem (:func:`postmortem_item_id`), the same on every load and in
every fold, so old stores keep folding to the same answers. An item added later
carries its id in its event.

Pure rules over the incident's ``action_items`` state (id → item); the aggregate
records the events (:mod:`domain.incidents.aggregate`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args
from urllib.parse import urlsplit
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.aggregate import require, require_reason
from domain.errors import NotFoundError, ValidationError
from domain.meta import CommandMeta

ItemStatus = Literal["open", "done", "cancelled"]
"""Where an action item stands, as recorded; ``overdue`` is derived when read (an open
item past its due date), never recorded."""
ITEM_OPEN, ITEM_DONE, ITEM_CANCELLED = get_args(ItemStatus)
ACTION_ITEM_FIELDS = ("title", "owner_id", "due")
MAX_LINK = 2_000
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def postmortem_item_id(incident_id: UUID | str, n: int) -> str:
    """The id of the ``n``-th (from 1) action item published with the postmortem."""
    try:
        namespace = UUID(str(incident_id))
    except ValueError:  # incident ids are UUIDs; a fold must not fail on one that is not
        namespace = uuid5(NAMESPACE_URL, f"opsledger:incident:{incident_id}")
    return str(uuid5(namespace, f"postmortem-action-item-{n}"))


def due_date(value: Any, what: str) -> str:
    """``value`` as a calendar date ``YYYY-MM-DD`` (malformed: :class:`ValidationError`)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        value = value.isoformat()
    text = str(value or "").strip()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValidationError(f"{what} needs a due date as YYYY-MM-DD, got {value!r}") from None


def checked_item(item: Any, what: str) -> dict[str, str]:
    """A valid ``{title, owner_id, due}`` (e.g. ``what`` = "action item 2")."""
    if not isinstance(item, dict):
        raise ValidationError(f"{what} must be an object with title, owner_id, due")
    unknown = set(item) - set(ACTION_ITEM_FIELDS)
    if unknown:
        raise ValidationError(f"{what} has unknown fields: {', '.join(sorted(unknown))}")
    title = str(item.get("title") or "").strip()
    owner_id = str(item.get("owner_id") or "").strip()
    if not title:
        raise ValidationError(f"{what} needs a title")
    if not owner_id:
        raise ValidationError(f"{what} needs an owner_id")
    return {"title": title, "owner_id": owner_id, "due": due_date(item.get("due"), what)}


def tracker_link(link: str | None) -> str | None:
    """An absolute http(s) URL (a ticket in the team's tracker), or None for none."""
    if link is None or not link.strip():
        return None
    link = link.strip()
    parts = urlsplit(link)
    if (parts.scheme.lower() not in {"http", "https"} or not parts.hostname
            or len(link) > MAX_LINK or any(c.isspace() for c in link)):
        raise ValidationError(f"link must be an http(s) URL of at most {MAX_LINK} characters")
    return link


def require_due_not_past(due: str, meta: CommandMeta, what: str) -> None:
    """A due date is set for the future: not before the day (UTC) the change happened."""
    today = meta.business_time.astimezone(UTC).date().isoformat()
    require(due >= today, f"{what} {due} was already in the past on the day it was set "
                          f"({today})")


class ActionItems:
    """The rules over one incident's items (id → ``{title, owner_id, due, status}``)."""

    def __init__(self, incident_id: UUID, items: dict[str, dict[str, Any]]) -> None:
        self.incident_id = incident_id
        self.items = items

    def new(self, item_id: UUID, title: str, owner_id: UUID, due: str,
            meta: CommandMeta) -> dict[str, str]:
        """The data of a new item ``item_id`` (not yet one of the incident's)."""
        require(str(item_id) not in self.items,
                f"incident {self.incident_id} already has action item {item_id}")
        item = checked_item({"title": title, "owner_id": str(owner_id), "due": due},
                            "an action item")
        require_due_not_past(item["due"], meta, "an action item's due date")
        return {"item_id": str(item_id), **item}

    def open_item(self, item_id: UUID, action: str) -> dict[str, Any]:
        """The item, if it is still open (unknown: 404; done or cancelled: 409)."""
        item = self.items.get(str(item_id))
        if item is None:
            raise NotFoundError(
                f"incident {self.incident_id} has no action item {item_id}")
        require(item["status"] == ITEM_OPEN,
                f"action item {item_id} is {item['status']} and can't {action}")
        return item

    def completion(self, item_id: UUID, note: str, link: str | None) -> dict[str, Any]:
        self.open_item(item_id, "be completed")
        note = note.strip()
        require(bool(note), "completing an action item needs a note")
        return {"item_id": str(item_id), "note": note, "link": tracker_link(link)}

    def reassignment(self, item_id: UUID, owner_id: UUID, reason: str) -> dict[str, Any]:
        item = self.open_item(item_id, "be reassigned")
        require(item["owner_id"] != str(owner_id),
                f"action item {item_id} is already owned by {owner_id}")
        return {"item_id": str(item_id), "from_owner_id": item["owner_id"],
                "owner_id": str(owner_id), "reason": require_reason(reason, "a reassignment")}

    def rescheduling(self, item_id: UUID, due: str, reason: str,
                     meta: CommandMeta) -> dict[str, Any]:
        item = self.open_item(item_id, "get a new due date")
        new_due = due_date(due, "a new due date")
        require(new_due != item["due"], f"action item {item_id} is already due {new_due}")
        require_due_not_past(new_due, meta, "a new due date")
        return {"item_id": str(item_id), "from_due": item["due"], "due": new_due,
                "reason": require_reason(reason, "a new due date")}

    def cancellation(self, item_id: UUID, reason: str) -> dict[str, Any]:
        self.open_item(item_id, "be cancelled")
        return {"item_id": str(item_id), "reason": require_reason(reason, "a cancellation")}
