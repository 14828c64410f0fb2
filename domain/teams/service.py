"""The teams command service: load, call, save over the one ledger."""

from __future__ import annotations

from uuid import uuid4

from domain.ledger import CommandContext, CommandResult, Ledger
from domain.teams import commands as c
from domain.teams.aggregate import Team


class TeamService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def form(self, cmd: c.FormTeam, ctx: CommandContext) -> CommandResult:
        def run() -> Team:
            # Inside run: an idempotent retry must get its first answer, not "exists".
            team_id = self.ledger.new_id(cmd.team_id, "team")
            return Team.form(team_id, cmd.name, cmd.mission, ctx.meta)

        return self.ledger.execute(ctx, run, created=True)

    def add_member(self, cmd: c.AddMember, ctx: CommandContext) -> CommandResult:
        member_id = cmd.member_id or uuid4()

        def run() -> Team:
            team = self.ledger.load(Team, cmd.team_id, ctx)
            team.join(member_id, cmd.name, cmd.email, cmd.role, cmd.responsibilities, ctx.meta,
                      principal=cmd.principal)
            return team

        return self.ledger.execute(ctx, run, created=True, answer_id=member_id)

    def assign_role(self, cmd: c.AssignRole, ctx: CommandContext) -> CommandResult:
        def run() -> Team:
            team = self.ledger.load(Team, cmd.team_id, ctx)
            team.assign_role(
                cmd.member_id, cmd.role, cmd.reason, cmd.responsibilities,
                cmd.effective_date, ctx.meta,
            )
            return team

        return self.ledger.execute(ctx, run, answer_id=cmd.member_id)

    def remove_member(self, cmd: c.RemoveMember, ctx: CommandContext) -> CommandResult:
        def run() -> Team:
            team = self.ledger.load(Team, cmd.team_id, ctx)
            team.leave(cmd.member_id, cmd.reason, ctx.meta)
            return team

        return self.ledger.execute(ctx, run, answer_id=cmd.member_id)

    def change_lead(self, cmd: c.ChangeLead, ctx: CommandContext) -> CommandResult:
        def run() -> Team:
            team = self.ledger.load(Team, cmd.team_id, ctx)
            team.change_lead(cmd.member_id, cmd.reason, ctx.meta)
            return team

        return self.ledger.execute(ctx, run)
