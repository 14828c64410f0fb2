"""The goals command service: one ledger call per command (load, change, save)."""

from __future__ import annotations

from domain.goals import commands as c
from domain.goals.aggregate import Goal
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.teams.aggregate import Team
from domain.teams.directory import MemberDirectory


class GoalService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.directory = MemberDirectory.of(ledger)

    def set_goal(self, cmd: c.SetGoal, ctx: CommandContext) -> CommandResult:
        def run() -> Goal:
            # Inside run: an idempotent retry must get its first answer, not "exists".
            goal_id = self.ledger.new_id(cmd.goal_id, "goal")
            team = self.ledger.first(Team, cmd.team_id)  # a goal belongs to a team that exists
            team.require_existed(ctx.meta, "a goal")
            self.directory.require_active(cmd.owner_id, "owner_id", team_id=cmd.team_id)
            return Goal.set(
                goal_id, cmd.team_id, cmd.owner_id, cmd.title, cmd.metric, cmd.baseline,
                cmd.target, cmd.unit, cmd.deadline, ctx.meta,
            )

        return self.ledger.execute(ctx, run, created=True)

    def check_in(self, cmd: c.CheckIn, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Goal, cmd.goal_id, ctx,
                                  lambda g: g.check_in(cmd.value, cmd.note, ctx.meta))

    def revise_target(self, cmd: c.ReviseTarget, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Goal, cmd.goal_id, ctx,
                                  lambda g: g.revise_target(cmd.target, cmd.reason, ctx.meta))

    def close(self, cmd: c.CloseGoal, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Goal, cmd.goal_id, ctx,
                                  lambda g: g.close(cmd.outcome, cmd.note, ctx.meta))
