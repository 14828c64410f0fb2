"""The event log over HTTP: CloudEvents 1.0 JSON, in position order, from the store.

A token scoped to some teams reads only its teams' events, decided from the event
store (:mod:`infra.event_store.stream_teams`); events of no team (token management) only a token
of every team reads. Positions stay global, so a scoped feed has gaps, and one page
may be short or even empty while ``next_cursor`` still moves on: keep following it
until it is ``null`` (the end of the log for now).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from infra.contract.cloudevents import to_cloudevent
from infra.event_store.log import read_envelopes
from infra.event_store.stream_teams import stream_teams
from services.api.deps import FeedReader, RuntimeDep, may_see_record
from services.api.models.events import EventsPublic
from services.api.problems import ProblemError

router = APIRouter(tags=["events"])

MAX_POSITION = 2**63 - 1
"""The largest position a store can hold (a signed 64-bit integer)."""
ROUNDS = 10
"""Reads per page at most: a scoped page scans at most ``ROUNDS * limit`` records."""


def _position_of(cursor: str) -> int:
    """The position a ``next_cursor`` of this feed stands for; anything else is 400."""
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_POSITION:
        raise ProblemError(400, "the cursor is not valid (use next_cursor as it was given)")
    return int(cursor)


@router.get("/v1/events", response_model=EventsPublic, response_model_exclude_unset=True)
def events_feed(
    grant: FeedReader, rt: RuntimeDep,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="last position seen")] = 0,
    cursor: Annotated[str | None, Query(
        max_length=20, description="next_cursor of the previous page (wins over after)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Stored events after a position, as CloudEvents, of the token's teams; follow
    ``next_cursor`` (or ``next_after``). A scoped page may be short or empty while
    ``next_cursor`` still advances; positions have gaps."""
    start = _position_of(cursor) if cursor is not None else after
    teams = None if "*" in grant.teams else stream_teams(rt.ledger)
    items: list[dict[str, Any]] = []
    position = start
    # Nothing after the head (and never a read past 2^63 - 1).
    ended = position >= rt.ledger.head_position()
    # Bounded: records that are not shown (idempotency keys, other teams' events)
    # are passed over, so read on until the page is full or the log ends, at most
    # ROUNDS reads of `limit` records each.
    for _ in range(ROUNDS):
        if ended or len(items) >= limit:
            break
        envelopes, last = read_envelopes(rt.ledger, position, limit)
        if last == position:
            ended = True
            break
        for envelope in envelopes:
            if teams is None or may_see_record(grant, teams.team_of(envelope)):
                items.append(to_cloudevent(envelope))
                if len(items) >= limit:
                    last = envelope.position  # the rest of this read comes next page
                    break
        position = last
    return {"items": items, "next_after": position, "head": rt.ledger.head_position(),
            "next_cursor": str(position) if items or not ended else None}
