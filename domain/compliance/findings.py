"""The findings command service: one ledger call per decision on a finding.

The first decision creates the finding's aggregate (:meth:`Finding.track`) in the
same save; later ones load it. What the controls say of the finding now
(:class:`FindingFacts`) is computed by the caller from the read models.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.compliance import finding_commands as c
from domain.compliance.finding import Finding, FindingFacts, State, finding_aggregate_id
from domain.errors import OutOfScopeError
from domain.ledger import CommandContext, CommandResult, Ledger


class FindingService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def waive(self, cmd: c.WaiveFinding, facts: FindingFacts,
              ctx: CommandContext) -> CommandResult:
        return self._decide(cmd.finding_id, facts, ctx,
                            lambda f: f.waive(facts, cmd.reason, cmd.until, ctx.meta))

    def accept_risk(self, cmd: c.AcceptFindingRisk, facts: FindingFacts,
                    ctx: CommandContext) -> CommandResult:
        return self._decide(cmd.finding_id, facts, ctx,
                            lambda f: f.accept_risk(facts, cmd.reason, cmd.until, ctx.meta))

    def reopen(self, cmd: c.ReopenFinding, facts: FindingFacts,
               ctx: CommandContext) -> CommandResult:
        return self._decide(cmd.finding_id, facts, ctx,
                            lambda f: f.reopen(facts, cmd.reason, ctx.meta))

    def state_at(self, finding_id: str, moment: datetime) -> State:
        """The state the decisions on ``finding_id`` give it at ``moment`` (``open``
        when none were made); whether it is resolved is the controls' to say."""
        aggregate_id = finding_aggregate_id(finding_id)
        if not self.ledger.exists(aggregate_id):
            return "open"
        return self.ledger.load(Finding, aggregate_id).state_at(moment)

    def _decide(self, finding_id: str, facts: FindingFacts, ctx: CommandContext,
                change: Callable[[Finding], None]) -> CommandResult:
        if facts.finding_id != finding_id:
            raise ValueError(f"facts of {facts.finding_id} given for {finding_id}")
        aggregate_id = finding_aggregate_id(finding_id)
        if self.ledger.exists(aggregate_id):
            return self.ledger.update(Finding, aggregate_id, ctx, change)

        def first() -> Finding:
            if ctx.scoped and (facts.team_id is None or facts.team_id not in ctx.teams):
                raise OutOfScopeError(f"{ctx.meta.actor} may not act on team {facts.team_id}")
            finding = Finding.track(facts, ctx.meta)
            change(finding)
            return finding

        # Not a create for the client: the finding existed before any decision on it.
        return self.ledger.execute(ctx, first)
