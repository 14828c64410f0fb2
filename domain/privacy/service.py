"""The erasure command service: record ``PersonalDataErased``, then delete the key.

The keys are infrastructure (``infra/personal/keys.py``); the service sees them through
:class:`SubjectKeys`. The order makes a crash harmless:

1. ``begin_erasure``: the key store marks the subject; its key opens nothing from then on.
2. The event is saved (a refusal abandons the mark, unless the event was stored before).
3. ``erase``: the key's bytes are deleted.

A crash after 1 shows ``"[erased]"`` already; :meth:`ErasureService.finish_pending`, run
at start-up, deletes the key when the event was stored and abandons the mark when it was
not (the request failed; the client saw no answer and may ask again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.errors import DomainError, NotFoundError, OutOfScopeError
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.personal import SubjectKind
from domain.privacy.aggregate import Erasure, erasure_id
from domain.teams.directory import MemberDirectory


class SubjectKeys(Protocol):
    """What erasure needs of the key store (``infra.personal.keys.KeyStore``)."""

    def find_customer(self, email: str) -> str | None: ...

    def erased_customer(self, email: str) -> str | None: ...

    def begin_erasure(self, subject: str) -> None: ...

    def abandon_erasure(self, subject: str) -> None: ...

    def pending_erasures(self) -> list[str]: ...

    def erase(self, subject: str) -> bool: ...


@dataclass(frozen=True)
class Finished:
    """What :meth:`ErasureService.finish_pending` did at start-up."""

    erased: list[str]
    abandoned: list[str]


class ErasureService:
    def __init__(self, ledger: Ledger, keys: SubjectKeys) -> None:
        self.ledger = ledger
        self.keys = keys
        self.directory = MemberDirectory.of(ledger)

    def erase_member(self, member_id: UUID, reason: str, ctx: CommandContext) -> CommandResult:
        """Erase a member's personal data (404 unknown, 403 another team's, 409 done)."""

        def run() -> Erasure:
            member = self.directory.member(member_id)
            if member is None:
                raise NotFoundError(f"member {member_id} not found")
            if ctx.scoped and member.team_id not in ctx.teams:
                raise OutOfScopeError(f"{ctx.meta.actor} may not act on team {member.team_id}")
            self._require_not_erased("member", str(member_id), f"member {member_id}'s")
            return Erasure.record("member", str(member_id), member.team_id, reason, ctx.meta)

        return self._erase(f"member:{member_id}", ctx, run)

    def erase_customer(self, email: str, reason: str, ctx: CommandContext) -> CommandResult:
        """Erase the personal data of the customer known by ``email``. Customers are no
        one team's: a token for some teams only is refused (403) before the address is
        looked at; an address no feedback named is a 404 that says nothing more."""
        if ctx.scoped:
            raise OutOfScopeError(f"{ctx.meta.actor} is limited to some teams; a customer's "
                                  "feedback may be any team's: erasing it takes every team")
        subject = self.keys.find_customer(email) or self.keys.erased_customer(email)
        if subject is None:
            raise NotFoundError("no personal data is stored for a customer with that email")
        customer_id = subject.removeprefix("customer:")

        def run() -> Erasure:
            self._require_not_erased("customer", customer_id, "that customer's")
            return Erasure.record("customer", customer_id, None, reason, ctx.meta)

        return self._erase(subject, ctx, run)

    def _require_not_erased(self, kind: SubjectKind, subject_id: str, whose: str) -> None:
        if self.ledger.exists(erasure_id(kind, subject_id)):
            raise DomainError(f"{whose} personal data was already erased")

    def _erase(self, subject: str, ctx: CommandContext,
               run: Callable[[], Erasure]) -> CommandResult:
        self.keys.begin_erasure(subject)
        try:
            result = self.ledger.execute(ctx, run, created=True)
        except BaseException:
            # Refused as already erased (or a retry after a crash): finish it, if need be.
            if self._recorded(subject):
                self.keys.erase(subject)
            else:
                self.keys.abandon_erasure(subject)
            raise
        self.keys.erase(subject)
        return result

    def _recorded(self, subject: str) -> bool:
        kind, _, subject_id = subject.partition(":")
        if kind not in ("member", "customer"):
            return False
        return self.ledger.exists(erasure_id(kind, subject_id))  # type: ignore[arg-type]

    def finish_pending(self) -> Finished:
        """Finish the erasures a crash interrupted: delete the key of each subject whose
        event was stored, abandon the others."""
        erased: list[str] = []
        abandoned: list[str] = []
        for subject in self.keys.pending_erasures():
            if self._recorded(subject):
                self.keys.erase(subject)
                erased.append(subject)
            else:
                self.keys.abandon_erasure(subject)
                abandoned.append(subject)
        return Finished(erased, abandoned)
