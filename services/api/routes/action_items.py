"""Postmortem action items: add one after the postmortem, complete, reassign, move
the due date, cancel; and the list across incidents by team, owner and status."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from domain.incidents import commands as c
from projections.views.action_items import COLLECTION
from services.api.deps import (
    CommandCtx,
    Cursor,
    Fresh,
    Limit,
    Operator,
    Reader,
    RuntimeDep,
    check_list_scope,
)
from services.api.models.action_items import (
    ActionItemAdd,
    ActionItemCancel,
    ActionItemComplete,
    ActionItemDue,
    ActionItemReassign,
    ActionItemsPublic,
    ItemStatusRead,
)
from services.api.models.common import CommandAnswer, answer
from services.api.queries import item_status_filter, page, with_item_status

router = APIRouter(tags=["action items"])

ITEM = "/v1/incidents/{incident_id}/action-items/{item_id}"


@router.post("/v1/incidents/{incident_id}/action-items", status_code=201)
def add(incident_id: UUID, body: ActionItemAdd, grant: Operator, ctx: CommandCtx,
        rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Add an action item to a published postmortem (409 before one); the answer's
    ``id`` is the item's. The owner is an active member of the incident's team."""
    return answer(rt.incidents.add_action_item(c.AddActionItem(
        incident_id, body.title, body.owner_id, body.due, body.item_id), ctx), response)


@router.post(f"{ITEM}/complete")
def complete(incident_id: UUID, item_id: UUID, body: ActionItemComplete, grant: Operator,
             ctx: CommandCtx, rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Complete an open item, with a note and optionally the tracker link."""
    return answer(rt.incidents.complete_action_item(c.CompleteActionItem(
        incident_id, item_id, body.note, body.link), ctx), response)


@router.post(f"{ITEM}/reassign")
def reassign(incident_id: UUID, item_id: UUID, body: ActionItemReassign, grant: Operator,
             ctx: CommandCtx, rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Give an open item to another active member of the incident's team."""
    return answer(rt.incidents.reassign_action_item(c.ReassignActionItem(
        incident_id, item_id, body.owner_id, body.reason), ctx), response)


@router.post(f"{ITEM}/due")
def move_due_date(incident_id: UUID, item_id: UUID, body: ActionItemDue, grant: Operator,
                  ctx: CommandCtx, rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Move an open item's due date (not into the past). Moved after it had passed,
    the overdue finding stays, with this change as evidence."""
    return answer(rt.incidents.reschedule_action_item(c.RescheduleActionItem(
        incident_id, item_id, body.due, body.reason), ctx), response)


@router.post(f"{ITEM}/cancel")
def cancel(incident_id: UUID, item_id: UUID, body: ActionItemCancel, grant: Operator,
           ctx: CommandCtx, rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Cancel an open item, with the reason."""
    return answer(rt.incidents.cancel_action_item(c.CancelActionItem(
        incident_id, item_id, body.reason), ctx), response)


@router.get("/v1/action-items", response_model=ActionItemsPublic,
            response_model_exclude_unset=True)
def list_action_items(
    grant: Reader, rt: RuntimeDep, _: Fresh, team_id: UUID | None = None,
    owner_id: UUID | None = None,
    status: Annotated[ItemStatusRead | None, Query(
        description="`open` (not yet due), `overdue` (open, past its due date), `done`, "
                    "`cancelled`")] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """Action items across incidents, soonest due first (then by id)."""
    check_list_scope(grant, team_id)
    filters = {"team_id": str(team_id) if team_id else None,
               "owner_id": str(owner_id) if owner_id else None, **item_status_filter(status)}
    found = page(rt, COLLECTION, filters, limit=limit, cursor=cursor, order_by="due")
    found["items"] = with_item_status(found["items"])
    return found
