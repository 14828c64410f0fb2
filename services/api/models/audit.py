"""The audit trail: one record per public event."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.api.models.common import ReadDocument


class AuditRecordPublic(ReadDocument):
    """Who did what, when, why and on which entity, with the event's data and its link
    in the hash chain."""

    id: str
    position: int
    time: str = Field(description="when the event happened (business time)")
    recorded_at: str | None = Field(
        default=None, description="when the ledger recorded it (absent from records folded "
                                  "before the field, whose `time` is the recording time, "
                                  "until a rebuild)")
    actor: str
    type: str
    name: str
    context: str
    entity_id: str
    team_id: str | None = Field(
        default=None, description="the event's team; None for events of no team (absent "
                                  "from records folded before the field, until a rebuild)")
    entity_version: int
    import_run_id: str | None = Field(
        default=None, description="the import run (declared backfill) it was recorded in")
    recorded_late: bool | None = Field(
        default=None, description="recorded after it happened, outside an import run "
                                  "(absent from records folded before the field)")
    reason: str | None
    data: dict[str, Any]
    sealed: dict[str, str] | None = Field(
        default=None, description="the stored ciphertext of each personal value `data` "
                                  "shows opened (dotted path to `pii:v1:...`), so the record "
                                  "can be re-hashed as stored; absent: no personal data")
    correlation_id: str
    causation_id: str
    prev_hash: str | None
    hash: str | None


class AuditTrailPublic(BaseModel):
    items: list[AuditRecordPublic]
    next_cursor: str | None
