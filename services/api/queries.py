"""Small helpers the query routes share: fetch one document or a page of them, read a
time range, and complete documents with what is derived when they are read."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import anyio
import orjson
from fastapi import Response

from domain.envelope import iso_time
from infra.auth import Grant
from infra.read_store.port import AnyOf, Filters, Range
from infra.read_store.sqlite import SQLiteReadStore
from projections.control_policies import Policies
from projections.fold import public
from projections.team_metrics import Period, team_metrics
from projections.views.action_items import items_of, status_on
from services.api.bootstrap import Runtime
from services.api.problems import ProblemError

T = TypeVar("T")


async def read(runtime: Runtime, query: Callable[..., T], *args: Any) -> T:
    """``query(*args)`` for an ``async`` route. On the embedded store it runs on the
    event loop: a read of the local SQLite file (WAL: readers never wait for the
    writer) takes microseconds, less than the hop to a worker thread and back. Over
    MongoDB, a network round trip, it runs in a worker thread."""
    if isinstance(runtime.sealed_store, SQLiteReadStore):
        return query(*args)
    return await anyio.to_thread.run_sync(query, *args)


_COMMANDS = concurrent.futures.ThreadPoolExecutor(max_workers=40, thread_name_prefix="command")


async def in_thread(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)`` in a worker thread, for an ``async`` command route: a command
    blocks until its group commits. The event loop's own executor, not anyio's worker
    threads (which FastAPI uses for a plain ``def`` route): no capacity limiter or
    cancel scope to enter, which took a quarter of the event loop's GIL samples under
    32 connections of ``POST /v1/feedback``. A request that goes away still has its
    command run to its end, as before."""
    return await asyncio.get_running_loop().run_in_executor(_COMMANDS, call, *args)


def json_answer(content: Any) -> Response:
    """A read's answer, serialized once (orjson). Its route still declares the
    ``response_model`` that documents it; FastAPI validates nothing it is handed as a
    ``Response``, and need not: read-model documents are JSON already, and their models
    take any further field as it is (:class:`~services.api.models.common.ReadDocument`).
    For a page of 50 the validation cost more than the query."""
    return Response(orjson.dumps(content), media_type="application/json")


def one(runtime: Runtime, collection: str, doc_id: str, what: str) -> dict[str, Any]:
    doc = public(runtime.store.get(collection, doc_id))
    if doc is None:
        raise ProblemError(404, f"{what} {doc_id} not found")
    return doc


def page(
    runtime: Runtime, collection: str, filters: Filters, *, limit: int, cursor: str | None,
    order_by: str = "_id",
) -> dict[str, Any]:
    clean = {k: v for k, v in filters.items() if v is not None}
    found = runtime.store.find(collection, clean, order_by=order_by, limit=limit, cursor=cursor)
    return {"items": [public(d) for d in found.items], "next_cursor": found.next_cursor}


def control_policies(runtime: Runtime) -> Policies:
    """The controls' policies: the settings' version 1 and the versions added since
    (the ``control_policies`` view)."""
    return Policies.of(runtime.settings.control_thresholds(),
                       runtime.store.iter_find("control_policies", {}))


def time_range(since: datetime | None, until: datetime | None) -> Range | None:
    """``since``..``until`` (either may be open) as a filter on event times, if either
    is given."""
    if since is None and until is None:
        return None
    return Range(gte=None if since is None else iso_time(since),
                 lte=None if until is None else iso_time(until))


def with_duplicates(runtime: Runtime, incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each incident with the ids of those closed as its duplicates (``duplicates``),
    read from their ``duplicate_of``: the two incidents' streams are not ordered against
    each other, so a fold writing the link on the original would race its own events."""
    found: dict[str, list[str]] = {incident["id"]: [] for incident in incidents}
    if found:
        by_original: Filters = {"duplicate_of": AnyOf(found)}
        for doc in runtime.store.iter_find("incidents", by_original, order_by="opened_at"):
            found[doc["duplicate_of"]].append(doc["id"])
    for incident in incidents:
        incident["duplicates"] = found[incident["id"]]
    return incidents


def with_action_items(incidents: list[dict[str, Any]], today: date | None = None,
                      ) -> list[dict[str, Any]]:
    """Each incident with its action items as read ``today`` (UTC): ``overdue`` derived
    (an open item past its due date); a document folded before item records existed
    shows those of its postmortem."""
    today = today or datetime.now(UTC).date()
    for incident in incidents:
        incident["action_items"] = with_item_status(items_of(incident), today)
    return incidents


def with_item_status(items: list[dict[str, Any]], today: date | None = None,
                     ) -> list[dict[str, Any]]:
    today = today or datetime.now(UTC).date()
    return [{**item, "status": status_on(item, today)} for item in items]


def item_status_filter(status: str | None) -> Filters:
    """The stored fields that give an action item's status as read today (UTC):
    ``open`` is not yet due, ``overdue`` open past its due date."""
    today = datetime.now(UTC).date()
    if status == "open":
        return {"status": "open", "due": Range(gte=today.isoformat())}
    if status == "overdue":
        return {"status": "open", "due": Range(lte=(today - timedelta(days=1)).isoformat())}
    return {"status": status}


def visible_teams(runtime: Runtime, grant: Grant) -> list[dict[str, Any]]:
    """Every team the token may see, by (name, id): all of them for a token of every
    team, else the token's own (read by id: no other team is ever read)."""
    if "*" in grant.teams:
        docs = list(runtime.store.iter_find("teams", {}, order_by="name"))
    else:
        docs = list(runtime.store.get_many("teams", sorted(grant.teams)).values())
    return sorted((t for t in (public(d) for d in docs) if t is not None),
                  key=lambda t: (str(t.get("name") or ""), str(t["id"])))


def team_periods(runtime: Runtime, team_id: str, period: Period) -> list[dict[str, Any]]:
    """The team's figures per period (:func:`projections.team_metrics.team_metrics`)
    from its incidents, goals and feedback."""
    by_team = {"team_id": team_id}

    def docs(collection: str) -> list[dict[str, Any]]:
        return [public(d) or {} for d in runtime.store.iter_find(collection, by_team)]

    return team_metrics(docs("incidents"), docs("goals"), docs("feedback"), period)
