"""Small helpers the query routes share: fetch one document or a page of them."""

from __future__ import annotations

from typing import Any

from infra.read_store.port import Filters
from projections.fold import public
from services.api.bootstrap import Runtime
from services.api.problems import ProblemError


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
