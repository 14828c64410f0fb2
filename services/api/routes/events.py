"""The event log over HTTP: CloudEvents 1.0 JSON, in position order, from the store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from infra.cloudevents import to_cloudevent
from infra.notifications import read_envelopes
from services.api.deps import FeedReader, RuntimeDep

router = APIRouter(tags=["events"])


@router.get("/v1/events")
def events_feed(
    grant: FeedReader, rt: RuntimeDep,
    after: Annotated[int, Query(ge=0, description="last position seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Stored events after a position, as CloudEvents; ``next_after`` continues."""
    items: list[dict[str, Any]] = []
    cursor = after
    # Bounded: non-public records (idempotency keys) are skipped, so read on until
    # the page is full or the log ends, at most a few rounds.
    for _ in range(10):
        envelopes, last = read_envelopes(rt.ledger, cursor, limit - len(items))
        items += [to_cloudevent(e) for e in envelopes]
        if last == cursor or len(items) >= limit:
            cursor = last
            break
        cursor = last
    return {"items": items, "next_after": cursor, "head": rt.ledger.head_position(),
            "next_cursor": str(cursor) if items else None}
