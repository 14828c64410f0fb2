"""The audit trail: one record per event, oldest first, and its export as a file.

Both follow the token's teams: a token for some teams reads only the records of
those teams (``team_id`` of the record, in the query), a token for all teams
(``"*"``) reads every record, those of no team included (e.g. token management).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from infra.audit.export import export_chunks
from services.api.deps import Auditor, Cursor, Fresh, Limit, RuntimeDep, team_scope
from services.api.models.audit import AuditTrailPublic
from services.api.models.common import UtcDateTime
from services.api.queries import page, time_range

router = APIRouter(tags=["audit"])


Since = Annotated[UtcDateTime | None, Query(description="happened at or after (business time)")]
Until = Annotated[UtcDateTime | None, Query(description="happened at or before (business time)")]
RecordedSince = Annotated[UtcDateTime | None, Query(
    description="recorded at or after (records folded before `recorded_at` existed never "
                "match, until a rebuild)")]
RecordedUntil = Annotated[UtcDateTime | None, Query(description="recorded at or before")]


def audit_filters(
    entity_id: str | None = None, actor: str | None = None, type: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
    recorded_since: datetime | None = None, recorded_until: datetime | None = None,
) -> dict[str, Any]:
    """The audit trail's filters: ``since``/``until`` on when events happened (the
    record's ``time``), ``recorded_since``/``recorded_until`` on when they were
    recorded (``recorded_at``); both may be given."""
    filters: dict[str, Any] = {"entity_id": entity_id, "actor": actor, "type": type}
    happened = time_range(since, until)
    if happened is not None:
        filters["time"] = happened
    recorded = time_range(recorded_since, recorded_until)
    if recorded is not None:
        filters["recorded_at"] = recorded
    return filters


@router.get("/v1/audit", response_model=AuditTrailPublic, response_model_exclude_unset=True)
def audit_trail(
    grant: Auditor, rt: RuntimeDep, _: Fresh,
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    team_id: Annotated[UUID | None, Query(description="only this team's records")] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=200)] = None,
    since: Since = None, until: Until = None,
    recorded_since: RecordedSince = None, recorded_until: RecordedUntil = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """The audit trail, one record per event, oldest first, of the token's teams: who
    did what, when it happened (``time``) and when it was recorded (``recorded_at``)."""
    filters = {**audit_filters(entity_id, actor, type, since, until, recorded_since,
                               recorded_until),
               **team_scope(grant, team_id)}
    return page(rt, "audit_trail", filters, limit=limit, cursor=cursor, order_by="position")


@router.get("/v1/audit/export")
def audit_export(
    grant: Auditor, rt: RuntimeDep, _: Fresh,
    format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    team_id: Annotated[UUID | None, Query(description="only this team's records")] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=200)] = None,
    since: Since = None, until: Until = None,
    recorded_since: RecordedSince = None, recorded_until: RecordedUntil = None,
) -> StreamingResponse:
    """The audit trail of the token's teams as a JSONL or CSV file, streamed (the same
    filters as ``GET /v1/audit``)."""
    filters = {**audit_filters(entity_id, actor, type, since, until, recorded_since,
                               recorded_until),
               **team_scope(grant, team_id)}
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    return StreamingResponse(
        export_chunks(rt.store, filters, format), media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )
