"""Compliance: every version of every entity, the state as of a time, and findings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from services.api.models.common import JsonNumber, ReadDocument

FindingStatus = Literal["open", "resolved"]
"""Open while the control is still breached; resolved once put right (late)."""


class EntityVersionPublic(ReadDocument):
    """An entity at one version, with the event that made it; ``state`` is the entity's
    document as its view held it then (None for an event no view knows)."""

    id: str
    entity_id: str
    team_id: str | None = Field(
        default=None, description="the entity's team (absent from records folded before "
                                  "the field, until a rebuild)")
    context: str
    version: int
    position: int
    time: str = Field(description="when the event happened (business time)")
    recorded_at: str | None = Field(
        default=None, description="when the ledger recorded it (absent from records folded "
                                  "before the field, whose `time` is the recording time)")
    event_id: str
    event_type: str
    event_name: str
    actor: str
    state: dict[str, Any] | None


class EntityHistoryPublic(BaseModel):
    items: list[EntityVersionPublic]
    next_cursor: str | None


class _AsOf(ReadDocument):
    as_of: str = Field(description="the recording time asked for (default: now)")
    effective_at: str | None = Field(
        default=None, description="the business time asked for, when one was")


class EntityAsOfPublic(EntityVersionPublic, _AsOf):
    """The entity's latest version the ledger had recorded at ``as_of`` (whenever its
    changes happened); with ``effective_at``, the latest of those that had happened by
    then. (Fields of the later base come first: ``as_of`` leads, as it always has.)"""


class FindingPublic(ReadDocument):
    """A breach of a compliance control, open or put right late, with its evidence."""

    id: str
    control: str
    subject_id: str
    team_id: str | None
    status: FindingStatus
    opened_at: str
    resolved_at: str | None
    summary: str
    evidence_event_ids: list[str]
    severity: str | None
    breached_by_seconds: JsonNumber | None
    occurred_at: str | None = Field(
        default=None, description="backdated_entry: when the event happened")
    recorded_at: str | None = Field(
        default=None, description="backdated_entry: when it was recorded")
    actor: str | None = Field(default=None, description="backdated_entry: who recorded it")


class FindingsPublic(BaseModel):
    items: list[FindingPublic]
    next_cursor: str | None
