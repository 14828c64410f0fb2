"""A legal hold: while it is active, the personal data it covers may not be erased.

A hold names one scope: a team (every member who is or was on it, every customer whose
feedback it received), a member (by member id) or a customer (by the key store's random
customer id, never the email address). Its events hold no personal data: they name the
hold, the team where one applies, and the reasons, which the API asks callers to write
without naming anyone. A hold lasts until it is released; releasing is recorded once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal
from uuid import UUID

from domain.aggregate import LedgerAggregate, require_reason
from domain.envelope import iso_time
from domain.errors import DomainError
from domain.meta import CommandMeta

HoldScope = Literal["team", "member", "customer"]


class LegalHold(LedgerAggregate):
    CONTEXT = "privacy"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        scope: HoldScope
        team_id: str | None
        subject_id: str | None
        reason: str
        active: bool
        placed_by: str
        placed_at: str
        released_by: str | None
        released_at: str | None
        release_reason: str | None

    class LegalHoldPlaced(LedgerAggregate.Created):
        """Erasure of what the hold covers is refused until it is released.
        ``scope``: ``team`` (``team_id``), ``member`` or ``customer`` (``subject_id``:
        the member id, or the key store's customer id); ``team_id`` also names a held
        member's team then, so the team's auditors see the hold in its trail."""

        hold_id: str
        scope: str
        team_id: str | None
        subject_id: str | None
        reason: str

        def apply(self, hold: LegalHold) -> None:
            hold.scope = self.scope  # type: ignore[assignment]
            hold.team_id = self.team_id
            hold.subject_id = self.subject_id
            hold.reason = self.reason
            hold.active = True
            hold.placed_by = str(self.meta.get("actor", ""))
            hold.placed_at = iso_time(self.occurred_at)
            hold.released_by = hold.released_at = hold.release_reason = None

    class LegalHoldReleased(LedgerAggregate.Event):
        """The hold no longer suspends erasure."""

        hold_id: str
        team_id: str | None
        reason: str

        def apply(self, hold: LegalHold) -> None:
            hold.active = False
            hold.released_by = str(self.meta.get("actor", ""))
            hold.released_at = iso_time(self.occurred_at)
            hold.release_reason = self.reason

    @classmethod
    def place(cls, hold_id: UUID, scope: HoldScope, team_id: str | None,
              subject_id: str | None, reason: str, meta: CommandMeta) -> LegalHold:
        return cls._start(
            cls.LegalHoldPlaced, hold_id, meta, hold_id=str(hold_id), scope=scope,
            team_id=team_id, subject_id=subject_id,
            reason=require_reason(reason, "placing a legal hold"),
        )

    def release(self, reason: str, meta: CommandMeta) -> None:
        if not self.active:
            raise DomainError(f"legal hold {self.id} was already released",
                              hold_id=str(self.id))
        self._record(self.LegalHoldReleased, meta, hold_id=str(self.id), team_id=self.team_id,
                     reason=require_reason(reason, "releasing a legal hold"))

    def owning_team(self) -> str | None:
        return self.team_id

    @property
    def key(self) -> str:
        """What the hold names, as its gate does (``domain/privacy/gates.py``)."""
        if self.scope == "team":
            return f"team:{self.team_id}"
        return f"{self.scope}:{self.subject_id}"
