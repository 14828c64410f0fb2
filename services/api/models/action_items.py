"""Postmortem action items: the bodies of their follow-up commands, and the item
documents (on an incident, and in the list across incidents)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from domain.incidents.action_items import MAX_LINK
from services.api.models.common import CommandBody, IsoDate, Name, ReadDocument, Reason, Text

ItemStatusRead = Literal["open", "overdue", "done", "cancelled"]
"""An item's status as read: ``overdue`` is an open item whose due date (a UTC day) is
over, derived when it is read."""

Link = Annotated[str, StringConstraints(
    strip_whitespace=True, max_length=MAX_LINK, pattern=r"^[hH][tT][tT][pP][sS]?://[^\s/?#]+\S*$",
)]
"""A tracker link: an absolute http(s) URL."""

# -- requests -------------------------------------------------------------------------


class ActionItemAdd(CommandBody):
    title: Name
    owner_id: UUID
    due: IsoDate
    item_id: UUID | None = Field(
        default=None, description="the item's id (default: a new one); unique within the "
                                  "incident (409 otherwise)")


class ActionItemComplete(CommandBody):
    note: Text
    link: Link | None = Field(default=None, description="the tracker ticket (http or https)")


class ActionItemReassign(CommandBody):
    owner_id: UUID
    reason: Reason


class ActionItemDue(CommandBody):
    due: IsoDate = Field(description="the new due date (not in the past)")
    reason: Reason


class ActionItemCancel(CommandBody):
    reason: Reason


# -- answers --------------------------------------------------------------------------


class _Change(ReadDocument):
    reason: str | None
    at: str
    actor: str
    event_id: str


class DueChangePublic(_Change):
    from_due: str
    due: str


class OwnerChangePublic(_Change):
    from_owner_id: str
    owner_id: str


class ActionItemPublic(ReadDocument):
    """A postmortem action item and its follow-up."""

    id: str
    title: str
    owner_id: str
    due: str
    status: ItemStatusRead
    added_at: str | None
    completed_at: str | None = None
    note: str | None = None
    link: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    due_history: list[DueChangePublic] = []
    owner_history: list[OwnerChangePublic] = []
    event_ids: list[str] = []


class ActionItemListed(ActionItemPublic):
    """An action item in the list across incidents: with its incident and team."""

    incident_id: str
    team_id: str


class ActionItemsPublic(BaseModel):
    items: list[ActionItemListed]
    next_cursor: str | None
