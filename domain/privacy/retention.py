"""Retention: when a data subject's personal data is due for erasure.

Each kind of personal data has its own period, counted from its own moment:

- ``customer``: a customer's identity (and the words of their feedback, sealed under
  the same key), counted from the business time of the customer's latest feedback;
- ``member``: a member's name and email (and the peer and manager feedback about them,
  sealed under the same key), counted from when the member left; an active member is
  never due, however long ago they joined.

A kind without a period is kept: nothing of it is ever due. Pure: the caller gives the
candidates, the periods and the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

RetentionKind = Literal["customer", "member"]
KINDS: tuple[RetentionKind, ...] = ("customer", "member")

COUNTED_FROM: dict[RetentionKind, str] = {
    "customer": "the customer's latest feedback",
    "member": "the day the member left",
}


@dataclass(frozen=True)
class RetentionPeriods:
    """Days each kind is kept (None: kept, no retention)."""

    customer_days: int | None = None
    member_days: int | None = None

    def days(self, kind: RetentionKind) -> int | None:
        return self.customer_days if kind == "customer" else self.member_days


@dataclass(frozen=True)
class Candidate:
    """A data subject whose personal data may be due.

    ``since``: when its period starts (the latest feedback's business time for a
    customer, the leaving time for a member; None: not started, an active member).
    """

    kind: RetentionKind
    subject_id: str
    since: datetime | None
    erased: bool = False


def due_at(candidate: Candidate, periods: RetentionPeriods) -> datetime | None:
    """When the candidate's data is due (None: never, as things stand)."""
    days = periods.days(candidate.kind)
    if days is None or candidate.since is None:
        return None
    return candidate.since + timedelta(days=days)


def is_due(candidate: Candidate, periods: RetentionPeriods, now: datetime) -> bool:
    """Whether the candidate's data should be erased at ``now`` (never twice)."""
    at = due_at(candidate, periods)
    return not candidate.erased and at is not None and at <= now


def retention_reason(kind: RetentionKind, periods: RetentionPeriods) -> str:
    """The reason recorded with a retention erasure: the kind and its period."""
    return (f"retention: {kind} personal data kept {periods.days(kind)} days after "
            f"{COUNTED_FROM[kind]}")
