"""The feedback command service: one ledger call per command (load, change, save)."""

from __future__ import annotations

from domain.feedback import commands as c
from domain.feedback.aggregate import Feedback
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.teams.aggregate import Team
from domain.teams.directory import MemberDirectory


class FeedbackService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.directory = MemberDirectory.of(ledger)

    def give(self, cmd: c.GiveFeedback, ctx: CommandContext) -> CommandResult:
        def run() -> Feedback:
            # Inside run: an idempotent retry must get its first answer, not "exists".
            feedback_id = self.ledger.new_id(cmd.feedback_id, "feedback")
            team = self.ledger.first(Team, cmd.team_id)  # feedback is about a team that exists
            team.require_existed(ctx.meta, "feedback")
            if cmd.subject_member_id is not None:  # about a member of any team
                self.directory.require_active(cmd.subject_member_id, "subject_member_id")
            return Feedback.give(
                feedback_id, cmd.kind, cmd.team_id, cmd.text, cmd.subject_member_id,
                cmd.channel, cmd.score, ctx.meta, cmd.customer,
            )

        return self.ledger.execute(ctx, run, created=True)

    def triage(self, cmd: c.TriageFeedback, ctx: CommandContext) -> CommandResult:
        def triage(feedback: Feedback) -> None:
            self.directory.require_active(cmd.owner_id, "owner_id", team_id=feedback.team_id)
            feedback.triage(cmd.priority, cmd.owner_id, ctx.meta)

        return self.ledger.update(Feedback, cmd.feedback_id, ctx, triage)

    def resolve(self, cmd: c.ResolveFeedback, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Feedback, cmd.feedback_id, ctx,
                                  lambda f: f.resolve(cmd.resolution, ctx.meta))
