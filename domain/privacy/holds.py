"""The legal-hold command service: place a hold on a team, a member or a customer, and
release it. Each command saves the hold's public event and its gate
(``domain/privacy/gates.py``) in one ``save``, so an erasure running at the same moment
either sees the hold or collides with it.

Scope: an admin limited to some teams holds and releases only what is of its teams (a
team of its own, a member of one); customers' feedback spans teams, so only an admin of
every team holds a customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.errors import DomainError, NotFoundError, OutOfScopeError
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.personal import SubjectKind
from domain.privacy.gates import HoldGates
from domain.privacy.hold import HoldScope, LegalHold
from domain.privacy.service import SubjectKeys
from domain.teams.aggregate import Team
from domain.teams.directory import MemberDirectory


@dataclass(frozen=True)
class HoldTarget:
    """What a hold is placed on: exactly one of a team, a member or a customer."""

    team_id: UUID | None = None
    subject_kind: SubjectKind | None = None
    member_id: UUID | None = None
    email: str | None = None


class LegalHoldService:
    def __init__(self, ledger: Ledger, keys: SubjectKeys) -> None:
        self.ledger = ledger
        self.keys = keys
        self.gates = HoldGates(ledger)
        self.directory = MemberDirectory.of(ledger)

    def place(self, target: HoldTarget, reason: str, ctx: CommandContext,
              hold_id: UUID | None = None) -> CommandResult:
        """Place a hold (404: no such team, member or customer; 403: not of the
        caller's teams; 409: a customer whose data was erased already)."""
        scope, team_id, subject_id = self._resolve(target, ctx)
        new_id = hold_id or uuid4()

        def run() -> Sequence[Aggregate]:
            hold = LegalHold.place(new_id, scope, team_id, subject_id, reason, ctx.meta)
            gate = self.gates.gate(hold.key)
            gate.hold(hold.id, hold.reason)
            return [hold, gate]

        return self.ledger.execute(ctx, run, created=True)

    def release(self, hold_id: UUID, reason: str, ctx: CommandContext) -> CommandResult:
        """Release a hold (404 unknown, 403 another team's or, for a caller limited to
        some teams, a customer's; 409 released already)."""

        def run() -> Sequence[Aggregate]:
            hold = self.ledger.load(LegalHold, hold_id, ctx)
            if ctx.scoped and hold.team_id is None:  # a customer's: of every team
                raise OutOfScopeError(f"{ctx.meta.actor} is limited to some teams; a hold "
                                      "on a customer takes every team")
            hold.release(reason, ctx.meta)
            gate = self.gates.gate(hold.key)
            gate.release(hold.id)
            return [hold, gate]

        return self.ledger.execute(ctx, run)

    def _resolve(self, target: HoldTarget,
                 ctx: CommandContext) -> tuple[HoldScope, str | None, str | None]:
        """(scope, team id, subject id) of ``target``, checked against the caller."""
        if target.team_id is not None:
            team = str(target.team_id)
            self.ledger.load(Team, target.team_id)  # NotFoundError: "team <id> not found"
            self._check_team(team, ctx)
            return "team", team, None
        if target.subject_kind == "member" and target.member_id is not None:
            member = self.directory.member(target.member_id)
            if member is None:
                raise NotFoundError(f"member {target.member_id} not found")
            self._check_team(member.team_id, ctx)
            return "member", member.team_id, str(target.member_id)
        if target.subject_kind == "customer" and target.email is not None:
            if ctx.scoped:
                raise OutOfScopeError(
                    f"{ctx.meta.actor} is limited to some teams; a customer's feedback may "
                    "be any team's: holding it takes every team")
            subject = self.keys.find_customer(target.email)
            if subject is None:
                if self.keys.erased_customer(target.email) is not None:
                    raise DomainError("that customer's personal data was already erased")
                raise NotFoundError("no personal data is stored for a customer with that email")
            return "customer", None, subject.removeprefix("customer:")
        raise DomainError("a hold names a team, a member or a customer")  # pragma: no cover

    @staticmethod
    def _check_team(team_id: str, ctx: CommandContext) -> None:
        if ctx.scoped and team_id not in ctx.teams:
            raise OutOfScopeError(f"{ctx.meta.actor} may not act on team {team_id}")
