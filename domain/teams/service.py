"""The teams command service: one ledger call per command (load, change, save).

Joins, leaves, moves and principal bindings also change the member directory
(:mod:`domain.teams.directory`), saved atomically with the team events. A member
taking a role (joining, given one, moving in) is assigned the trainings of the team
the role requires, in the same save (:mod:`domain.people.requirements`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.errors import DomainError, NotFoundError
from domain.goals.aggregate import iso_date
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.people.requirements import Requirements
from domain.teams import commands as c
from domain.teams.aggregate import Team
from domain.teams.directory import DirectoryChanges, MemberDirectory


class TeamService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.directory = MemberDirectory.of(ledger)
        self.requirements = Requirements(ledger)

    def form(self, cmd: c.FormTeam, ctx: CommandContext) -> CommandResult:
        def run() -> Team:
            # Inside run: an idempotent retry must get its first answer, not "exists".
            team_id = self.ledger.new_id(cmd.team_id, "team")
            return Team.form(team_id, cmd.name, cmd.mission, ctx.meta)

        return self.ledger.execute(ctx, run, created=True)

    def add_member(self, cmd: c.AddMember, ctx: CommandContext) -> CommandResult:
        """A member joins; its id must not exist anywhere yet (ids are global)."""
        member_id = cmd.member_id or uuid4()

        def run(index: DirectoryChanges) -> Sequence[Aggregate]:
            team = self.ledger.load(Team, cmd.team_id, ctx)
            if index.member(member_id) is not None or self.ledger.exists(member_id):
                raise DomainError(f"member id {member_id} already exists")
            team.join(member_id, cmd.name, cmd.email, cmd.role, cmd.responsibilities, ctx.meta,
                      principal=cmd.principal)
            index.register(member_id, team.id, cmd.principal)
            if cmd.principal is not None:
                index.claim(cmd.principal, member_id)
            return [team, *self.requirements.taking_role(team.id, member_id, cmd.role,
                                                         ctx.meta)]

        return self.directory.execute(ctx, run, created=True, answer_id=member_id)

    def assign_role(self, cmd: c.AssignRole, ctx: CommandContext) -> CommandResult:
        """The role change, and the assignments of the trainings the new role requires
        (due 30 days after the role takes effect), in one save."""
        if ctx.scoped:  # out of scope before the idempotency key, as Ledger.update does
            self.ledger.load(Team, cmd.team_id, replace(ctx, if_match=None))

        def run() -> Sequence[Aggregate]:
            team = self.ledger.load(Team, cmd.team_id, ctx)
            team.assign_role(cmd.member_id, cmd.role, cmd.reason, cmd.responsibilities,
                             cmd.effective_date, ctx.meta)
            effective = (iso_date(cmd.effective_date, "effective_date")
                         if cmd.effective_date else None)
            return [team, *self.requirements.taking_role(
                team.id, cmd.member_id, cmd.role, ctx.meta, effective)]

        return self.ledger.execute(ctx, run, answer_id=cmd.member_id)

    def remove_member(self, cmd: c.RemoveMember, ctx: CommandContext) -> CommandResult:
        def run(index: DirectoryChanges) -> Sequence[Aggregate]:
            team = self.ledger.load(Team, cmd.team_id, ctx)
            team.leave(cmd.member_id, cmd.reason, ctx.meta)
            record = index.member(cmd.member_id)
            if record is not None and record.team_id == str(team.id):
                record.deactivate()
            return [team]

        return self.directory.execute(ctx, run, answer_id=cmd.member_id)

    def move_member(self, cmd: c.MoveMember, ctx: CommandContext) -> CommandResult:
        """Move an active member to another team: the source team records
        ``MemberMovedOut``, the destination ``MemberMovedIn`` (with the member's name,
        email, role, responsibilities and principal), the directory follows. The answer
        (and ``If-Match``) is the source team's."""

        def run(index: DirectoryChanges) -> Sequence[Aggregate]:
            source = self.ledger.load(Team, cmd.team_id, ctx)
            record = index.member(cmd.member_id)
            if record is None or record.team_id != str(source.id):
                raise NotFoundError(f"member {cmd.member_id} is not on team {cmd.team_id}")
            member = source.move_out(cmd.member_id, cmd.to_team_id, cmd.reason, ctx.meta)
            destination = self.ledger.load(Team, cmd.to_team_id)
            destination.move_in(cmd.member_id, source.id, member, cmd.reason, ctx.meta)
            record.move(destination.id)
            return [source, destination, *self.requirements.taking_role(
                destination.id, cmd.member_id, member["role"], ctx.meta)]

        return self.directory.execute(ctx, run, answer_id=cmd.member_id)

    def bind_principal(self, cmd: c.BindPrincipal, ctx: CommandContext) -> CommandResult:
        """Bind the principal who acts as a member (one active member per principal).
        The answer (and ``If-Match``) is the member's team's."""

        def run(index: DirectoryChanges) -> Sequence[Aggregate]:
            record = index.member(cmd.member_id)
            if record is None:
                raise NotFoundError(f"member {cmd.member_id} not found")
            team = self.ledger.load(Team, UUID(record.team_id), ctx)
            team.bind_principal(cmd.member_id, cmd.principal, cmd.reason, ctx.meta)
            record.bind(cmd.principal)
            index.claim(cmd.principal, cmd.member_id)
            return [team]

        return self.directory.execute(ctx, run, answer_id=cmd.member_id)

    def change_lead(self, cmd: c.ChangeLead, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Team, cmd.team_id, ctx,
                                  lambda t: t.change_lead(cmd.member_id, cmd.reason, ctx.meta))

    def team_of(self, member_id: UUID) -> str | None:
        """The team a member is on (or left), from the directory; None if unknown."""
        member = self.directory.member(member_id)
        return None if member is None else member.team_id
