"""The control policies' command service: add a version to a control's policy."""

from __future__ import annotations

from domain.compliance import policy_commands as c
from domain.compliance.policy import ControlPolicy, policy_id, threshold_names
from domain.errors import StaleVersionError
from domain.ledger import CommandContext, CommandResult, Ledger


class PolicyService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def set_thresholds(self, cmd: c.SetControlThresholds, ctx: CommandContext) -> CommandResult:
        """The control's first version after the settings creates its policy; every
        later one revises it. Unknown controls are 404, controls without thresholds 422,
        before anything else."""
        threshold_names(cmd.control)
        aggregate_id = policy_id(cmd.control)

        def run() -> ControlPolicy:
            # Inside run: an idempotent retry must get its first answer.
            if not self.ledger.exists(aggregate_id):
                if ctx.if_match not in (None, 0):  # nothing added yet: version 0
                    raise StaleVersionError(ctx.if_match or 0, 0)
                return ControlPolicy.create(cmd.control, cmd.thresholds, cmd.effective_from,
                                            cmd.reason, ctx.meta)
            policy = self.ledger.load(ControlPolicy, aggregate_id, ctx)
            policy.revise(cmd.thresholds, cmd.effective_from, cmd.reason, ctx.meta)
            return policy

        return self.ledger.execute(ctx, run)
