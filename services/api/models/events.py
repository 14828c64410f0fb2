"""The events feed: stored events as CloudEvents 1.0, in position order."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.api.models.common import ReadDocument


class CloudEventPublic(ReadDocument):
    """A stored event as a structured CloudEvent, with OpsLedger's extensions."""

    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: str = Field(description="when it happened (business time)")
    recordedtime: str | None = Field(
        default=None, description="when OpsLedger recorded it, when that is not `time` "
                                  "(absent: recorded when it happened)")
    datacontenttype: str
    position: int
    streamversion: int
    actor: str
    correlationid: str
    causationid: str
    data: dict[str, Any]
    prevhash: str | None = Field(default=None, description="the previous event's hash")
    hash: str | None = Field(default=None, description="this event's link in the chain")


class EventsPublic(BaseModel):
    items: list[CloudEventPublic]
    next_after: int
    head: int
    next_cursor: str | None
