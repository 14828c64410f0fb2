"""Import runs (declared backfills): the body that opens one and the answers."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.api.models.common import CommandAnswer, CommandBody, Name, Reason


class ImportOpen(CommandBody):
    source: Name = Field(description="where the history comes from, e.g. 'pagerduty export'")
    reason: Reason = Field(description="why it is brought in")


class ImportOpened(CommandAnswer):
    import_run_id: str


class ImportFinished(CommandAnswer):
    import_run_id: str
    events_recorded: int = Field(description="public events recorded in the run")
    by_context: dict[str, int] = Field(description="the same, per context")


class ImportRunPublic(BaseModel):
    import_run_id: str
    source: str
    reason: str
    opened_by: str
    status: str = Field(description="open or finished")
    events_recorded: int = Field(description="so far, while open")
    by_context: dict[str, int]
