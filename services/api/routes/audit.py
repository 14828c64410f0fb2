"""The audit trail: one record per event, oldest first, and its export as a file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from domain.envelope import iso_time
from infra.read_store.port import Range
from projections.fold import public
from services.api.deps import Auditor, Cursor, Fresh, Limit, RuntimeDep
from services.api.queries import page
from services.runtime import Runtime

router = APIRouter(tags=["audit"])

CSV_COLUMNS = (
    "position", "time", "actor", "type", "entity_id", "entity_version", "reason",
    "id", "correlation_id", "causation_id", "prev_hash", "hash", "data",
)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else iso_time(value)


def audit_filters(
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    filters: dict[str, Any] = {"entity_id": entity_id, "actor": actor, "type": type}
    if since or until:
        filters["time"] = Range(gte=_iso(since), lte=_iso(until))
    return filters


@router.get("/v1/audit")
def audit_trail(
    grant: Auditor, rt: RuntimeDep, _: Fresh,
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None, until: datetime | None = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """The audit trail, one record per event, oldest first."""
    filters = audit_filters(entity_id, actor, type, since, until)
    return page(rt, "audit_trail", filters, limit=limit, cursor=cursor, order_by="position")


def export_lines(rt: Runtime, filters: dict[str, Any], fmt: str) -> Iterator[bytes]:
    """Stream the export in chunks: memory stays bounded whatever the trail's size."""
    clean = {k: v for k, v in filters.items() if v is not None}
    records = rt.store.iter_find("audit_trail", clean, order_by="position", chunk=1000)
    if fmt == "jsonl":
        for record in records:
            yield orjson.dumps(public(record)) + b"\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for n, record in enumerate(records, 1):
        row = public(record) or {}
        writer.writerow([
            orjson.dumps(row.get("data")).decode() if c == "data" else row.get(c, "")
            for c in CSV_COLUMNS
        ])
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


@router.get("/v1/audit/export")
def audit_export(
    grant: Auditor, rt: RuntimeDep, _: Fresh,
    format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None, until: datetime | None = None,
) -> StreamingResponse:
    """The audit trail as a JSONL or CSV file, streamed."""
    filters = audit_filters(entity_id, actor, type, since, until)
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    return StreamingResponse(
        export_lines(rt, filters, format), media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )
