"""The erasure command service: record ``PersonalDataErased``, then delete the key.

The keys are infrastructure (``infra/personal/keys.py``); the service sees them through
:class:`SubjectKeys`. The order makes a crash harmless:

1. ``begin_erasure``: the key store marks the subject; its key opens nothing from then on.
2. The event is saved (a refusal abandons the mark, unless the event was stored before).
3. ``erase``: the key's bytes are deleted.

A crash after 1 shows ``"[erased]"`` already; :meth:`ErasureService.finish_pending`, run
at start-up, deletes the key when the event was stored and abandons the mark when it was
not (the request failed; the client saw no answer and may ask again).

A legal hold suspends erasure: the command loads the hold gates of the subject and of
every team it is or was of (``domain/privacy/gates.py``) and saves them with its event,
so a hold placed meanwhile makes one of the two commands fail rather than both succeed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import DomainError, NotFoundError, OutOfScopeError
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.personal import SubjectKind
from domain.privacy.aggregate import Erasure, erasure_id
from domain.privacy.gates import ActiveHold, HoldGates, hold_keys
from domain.teams.directory import MemberDirectory, MemberRecord

CustomerTeams = Callable[[str], frozenset[str]]
"""The teams that received feedback from the customer with this key-store id (read
where the feedback is: the domain never sees who a sealed customer is)."""


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
    def __init__(self, ledger: Ledger, keys: SubjectKeys,
                 customer_teams: CustomerTeams | None = None) -> None:
        self.ledger = ledger
        self.keys = keys
        self.directory = MemberDirectory.of(ledger)
        self.gates = HoldGates(ledger)
        self.customer_teams: CustomerTeams = customer_teams or (lambda _: frozenset())

    def erase_member(self, member_id: UUID, reason: str, ctx: CommandContext, *,
                     only_if_left: bool = False) -> CommandResult:
        """Erase a member's personal data (404 unknown, 403 another team's, 409 done or
        under a legal hold). ``only_if_left``: refuse (409) a member who is active (a
        retention run, which counts from when the member left)."""

        def run() -> Sequence[Aggregate]:
            member = self.directory.member(member_id)
            if member is None:
                raise NotFoundError(f"member {member_id} not found")
            if ctx.scoped and member.team_id not in ctx.teams:
                raise OutOfScopeError(f"{ctx.meta.actor} may not act on team {member.team_id}")
            whose = f"member {member_id}'s"
            self._require_not_erased("member", str(member_id), whose)
            if only_if_left and member.active:
                raise DomainError(f"member {member_id} is active again: not due")
            gates = self.gates.pass_through(whose, hold_keys(
                f"member:{member_id}", self.member_teams(member_id, member.team_id)))
            erasure = Erasure.record("member", str(member_id), member.team_id, reason,
                                     ctx.meta)
            return [erasure, *gates]

        return self._erase(f"member:{member_id}", ctx, run)

    def member_teams(self, member_id: UUID, current: str) -> frozenset[str]:
        """Every team the member is or was on, from its directory record's history (a
        member without a record, from before the directory, has its current team)."""
        teams = {current}
        for event in self.ledger.repository.event_store.get(member_id):
            if isinstance(event, MemberRecord.Registered | MemberRecord.Moved):
                teams.add(event.team_id)
        return frozenset(teams)

    def hold_on_member(self, member_id: UUID) -> ActiveHold | None:
        """The first active hold that suspends the member's erasure (None: none)."""
        member = self.directory.member(member_id)
        teams = frozenset() if member is None else self.member_teams(member_id,
                                                                   member.team_id)
        return next(iter(self.gates.holds_on(hold_keys(f"member:{member_id}", teams))), None)

    def hold_on_customer(self, customer_id: str,
                         teams: frozenset[str] | None = None) -> ActiveHold | None:
        """The first active hold that suspends the customer's erasure (None: none);
        ``teams``: those that received the customer's feedback, if the caller read them."""
        if teams is None:
            teams = self.customer_teams(customer_id)
        keys = hold_keys(f"customer:{customer_id}", teams)
        return next(iter(self.gates.holds_on(keys)), None)

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
        return self.erase_customer_id(subject.removeprefix("customer:"), reason, ctx)

    def erase_customer_id(self, customer_id: str, reason: str, ctx: CommandContext,
                          teams: frozenset[str] | None = None) -> CommandResult:
        """Erase the customer with this key-store id (a retention run knows customers
        by it only); held if a hold names them or a team that received their feedback."""
        if ctx.scoped:
            raise OutOfScopeError(f"{ctx.meta.actor} is limited to some teams; a customer's "
                                  "feedback may be any team's: erasing it takes every team")
        subject = f"customer:{customer_id}"

        def run() -> Sequence[Aggregate]:
            self._require_not_erased("customer", customer_id, "that customer's")
            received = self.customer_teams(customer_id) if teams is None else teams
            gates = self.gates.pass_through("that customer's", hold_keys(subject, received))
            return [Erasure.record("customer", customer_id, None, reason, ctx.meta), *gates]

        return self._erase(subject, ctx, run)

    def _require_not_erased(self, kind: SubjectKind, subject_id: str, whose: str) -> None:
        if self.ledger.exists(erasure_id(kind, subject_id)):
            raise DomainError(f"{whose} personal data was already erased")

    def _erase(self, subject: str, ctx: CommandContext,
               run: Callable[[], Sequence[Aggregate]]) -> CommandResult:
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
