"""Compliance: every version of every entity, the state as of a time, and findings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from services.api.models.common import (
    CommandAnswer,
    CommandBody,
    JsonNumber,
    OccurredAt,
    ReadDocument,
    Reason,
)

FindingStatus = Literal["open", "resolved"]
"""Open while the control is still breached; resolved once put right (late)."""
FindingState = Literal["open", "resolved", "waived", "risk_accepted"]
"""The status with the decisions applied: a resolved finding stays resolved; an open one
is waived or risk-accepted while such a decision is in force (until its ``until``)."""
DecisionKind = Literal["waived", "risk_accepted", "reopened"]

_UNTIL_FORMAT: dict[str, Any] = {"format": "date-time"}


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


class DecisionPublic(ReadDocument):
    """A decision on a finding: which, by whom, when, why and until when."""

    kind: DecisionKind
    by: str = Field(description="the principal who decided")
    at: str = Field(description="when it was decided (business time)")
    recorded_at: str = Field(description="when OpsLedger recorded it")
    reason: str
    until: str | None = Field(description="when it lapses (none: a waiver for good)")
    event_id: str
    in_force: bool = Field(description="whether it sets the finding's state now")


class LateDueChange(BaseModel):
    """A due date moved after it had passed: when, by whom, from and to, and why."""

    event_id: str | None
    from_due: str | None
    due: str | None
    at: str | None
    reason: str | None
    actor: str | None


class FindingPublic(ReadDocument):
    """A breach of a compliance control, open or put right late, with its evidence and
    the decisions on it."""

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
    item_id: str | None = Field(
        default=None, description="action_item_overdue: the action item's id")
    late_due_changes: list[LateDueChange] | None = Field(
        default=None, description="action_item_overdue: each move of its due date made "
                                  "after it had passed (evidence, never a reset)")
    state: FindingState
    decision: DecisionPublic | None = Field(
        description="the latest decision (none: nothing was decided)")
    decisions: list[DecisionPublic] = Field(description="every decision, oldest first")


class FindingsPublic(BaseModel):
    items: list[FindingPublic]
    next_cursor: str | None


# -- decisions on findings -------------------------------------------------------------


class FindingWaive(CommandBody):
    reason: Reason
    until: OccurredAt | None = Field(
        default=None, json_schema_extra=dict(_UNTIL_FORMAT),
        description="RFC 3339 with an offset, after the decision: the waiver lapses then "
                    "(default: it holds until reopened)")


class FindingAcceptRisk(CommandBody):
    reason: Reason
    until: OccurredAt = Field(
        json_schema_extra=dict(_UNTIL_FORMAT),
        description="RFC 3339 with an offset, after the decision and at most a year after "
                    "it: the acceptance lapses then")


class FindingReopen(CommandBody):
    reason: Reason


class FindingDecided(CommandAnswer):
    """The command answer (the id and version of the finding's decisions), with the
    finding and its state after the decision."""

    finding_id: str
    state: FindingState
