"""What an import plans before it sends anything: the requests of each unit (a line of
a JSONL file, a PagerDuty incident), the units refused as malformed, and the stable
ids and idempotency keys derived from the source's own ids.

Everything here is pure: a file is mapped to units without a network call, so the
mappers are tested as functions, and a re-run of the same file plans the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

IMPORT_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/import")
MAX_KEY_LENGTH = 200
"""The API's bound on an ``Idempotency-Key``."""


def entity_id(source: str, kind: str, source_id: str) -> str:
    """The OpsLedger id of an entity known to the source as ``source_id``: a uuid5 of
    both, so every run (and every file of the same source) names the same entity. A
    source id that is already a UUID names an OpsLedger entity as it is."""
    try:
        return str(UUID(source_id))
    except ValueError:
        return str(uuid5(IMPORT_NAMESPACE, f"{source}/{kind}/{source_id}"))


def idempotency_key(*parts: str) -> str:
    """``import:<part>:<part>...``, or its SHA-256 when longer than the API allows."""
    key = "import:" + ":".join(parts)
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "import:sha256:" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Request:
    """One command, exactly as it is sent."""

    kind: str
    """What it counts as in the summary (the command's name)."""
    method: str
    path: str
    body: dict[str, Any]
    key: str
    where: str
    """Where it comes from in the file (``line 12``, ``incident PT4KHLK, log entry Q1``)."""
    legend: str = ""
    """Which OpsLedger id is which source id, for a refusal's reader."""


@dataclass(frozen=True)
class UnknownPerson:
    """Someone the source names who is no OpsLedger member (never invented)."""

    who: str
    why: str


@dataclass
class Unit:
    """What is imported, already there or refused as one: a line, an incident.

    ``refusal`` is set when the unit is malformed and nothing of it is sent. With
    ``dependent``, the later requests need the first (an incident's opening): when it
    is refused, they are not sent.
    """

    where: str
    requests: list[Request] = field(default_factory=list)
    refusal: str | None = None
    dependent: bool = False
    unknown_people: list[UnknownPerson] = field(default_factory=list)
    not_mapped: dict[str, int] = field(default_factory=dict)
    """Source records without an OpsLedger command (by type), so none is silently lost."""

    @classmethod
    def refused(cls, where: str, reason: str) -> Unit:
        return cls(where=where, refusal=reason)


def utc_time(value: object) -> str:
    """An RFC 3339 time with an offset, in UTC (``2024-03-01T09:00:00Z``); a
    ``ValueError`` naming what is wrong otherwise."""
    if not isinstance(value, str) or "T" not in value.upper():
        raise ValueError(f"{value!r} is not an RFC 3339 time (e.g. 2024-03-01T09:00:00Z)")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an RFC 3339 time (e.g. 2024-03-01T09:00:00Z)") \
            from None
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no offset (add Z or +01:00)")
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"
