"""Control policies: the body that adds a version, and the controls with their history."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from domain.compliance.policy import MAX_THRESHOLD
from services.api.models.common import CommandAnswer, CommandBody, OccurredAt, Reason


def _integral(value: Any) -> Any:
    """JSON has one number type: ``30.0`` is the integer 30 (as JSON Schema reads it);
    ``30.5``, ``"30"`` and ``true`` stay what they are, and are refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


ThresholdName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ThresholdValue = Annotated[int, BeforeValidator(_integral),
                           Field(strict=True, ge=1, le=MAX_THRESHOLD)]


class ControlThresholdsSet(CommandBody):
    thresholds: dict[ThresholdName, ThresholdValue] = Field(
        max_length=20,
        description="exactly the control's thresholds by name (see GET "
                    "/v1/compliance/controls), each a whole number from 1 to "
                    f"{MAX_THRESHOLD}; a missing or unknown name is 422")
    effective_from: OccurredAt = Field(
        json_schema_extra={"format": "date-time"},
        description="from when the version judges facts (by when they happened): RFC 3339 "
                    "with an offset, not before the previous version's, and at most 5 "
                    "minutes in the past unless the request is in an import run "
                    "(OpsLedger-Import-Run)")
    reason: Reason = Field(description="why the thresholds change")


class ControlThresholdsAnswer(CommandAnswer):
    control: str
    policy_version: int = Field(description="the version this command added (the settings' "
                                            "is version 1)")


class ControlVersionPublic(BaseModel):
    version: int = Field(description="1 is the settings'; each version added counts up")
    thresholds: dict[str, int]
    effective_from: str | None = Field(
        description="from when it judges facts; null: from the beginning of time (version 1)")
    by: str = Field(description="the principal who added it; `settings` for version 1")
    recorded_at: str | None = Field(description="when the ledger recorded it; null for "
                                                "version 1")
    reason: str
    event_id: str | None = Field(default=None, description="the event that added it")
    import_run_id: str | None = Field(default=None, description="the import run it was "
                                                                "brought in by, if any")


class ControlPublic(BaseModel):
    control: str
    policy_id: str = Field(description="the policy's entity id (its compliance history)")
    thresholds: dict[str, int] = Field(description="in force now; {} for a control without "
                                                   "thresholds")
    version_in_force: int
    versions: list[ControlVersionPublic] = Field(description="every version, oldest first, "
                                                             "future ones included")


class ControlsPublic(BaseModel):
    items: list[ControlPublic]
