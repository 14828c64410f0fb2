"""The risks command service: one ledger call per command (load, change, save).

References in a body (owner, approver, participants, the risks a plan covers, the
risk or plan an incident is linked to) that name nothing are refused as malformed
(:class:`ValidationError`, 422), as member references are everywhere; the aggregate a
route's path names is not found (404) or out of the caller's teams (403).
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from domain.aggregate import LedgerAggregate
from domain.errors import NotFoundError, OutOfScopeError, StaleVersionError, ValidationError
from domain.incidents.aggregate import Incident
from domain.ledger import A, CommandContext, CommandResult, Ledger
from domain.risks import commands as c
from domain.risks.aggregate import CLOSED, Risk
from domain.risks.plan import ContingencyPlan
from domain.teams.aggregate import Team
from domain.teams.directory import MemberDirectory


class RiskService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.directory = MemberDirectory.of(ledger)

    # -- risks ----------------------------------------------------------------------

    def identify(self, cmd: c.IdentifyRisk, ctx: CommandContext) -> CommandResult:
        def run() -> Risk:
            # Inside run: an idempotent retry must get its first answer, not "exists".
            risk_id = self.ledger.new_id(cmd.risk_id, "risk")
            team = self.ledger.first(Team, cmd.team_id)  # a risk belongs to a team that exists
            team.require_existed(ctx.meta, "a risk")
            self.directory.require_active(cmd.owner_id, "owner_id", team_id=cmd.team_id)
            return Risk.identify(risk_id, cmd.team_id, cmd.title, cmd.category,
                                 cmd.likelihood, cmd.impact, cmd.owner_id, cmd.review_by,
                                 ctx.meta)

        return self.ledger.execute(ctx, run, created=True)

    def assess(self, cmd: c.AssessRisk, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Risk, cmd.risk_id, ctx, lambda r: r.assess(
            cmd.likelihood, cmd.impact, cmd.residual_likelihood, cmd.residual_impact,
            cmd.note, cmd.review_by, ctx.meta))

    def treat(self, cmd: c.TreatRisk, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Risk, cmd.risk_id, ctx, lambda r: r.treat(
            cmd.treatment, cmd.plan, cmd.reason, ctx.meta))

    def accept(self, cmd: c.AcceptRisk, ctx: CommandContext) -> CommandResult:
        def accept(risk: Risk) -> None:
            # An approver of any team: a risk committee is rarely inside the team.
            self.directory.require_active(cmd.approver_id, "approver_id")
            risk.accept(cmd.approver_id, cmd.reason, ctx.meta)

        return self.ledger.update(Risk, cmd.risk_id, ctx, accept)

    def close(self, cmd: c.CloseRisk, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Risk, cmd.risk_id, ctx,
                                  lambda r: r.close(cmd.reason, ctx.meta))

    # -- contingency plans -------------------------------------------------------------

    def draft_plan(self, cmd: c.DraftPlan, ctx: CommandContext) -> CommandResult:
        def run() -> ContingencyPlan:
            plan_id = self.ledger.new_id(cmd.plan_id, "contingency plan")
            team = self.ledger.first(Team, cmd.team_id)  # it exists, and since when
            team.require_existed(ctx.meta, "a contingency plan")
            self.directory.require_active(cmd.owner_id, "owner_id", team_id=cmd.team_id)
            for risk_id in cmd.risk_ids:
                risk = self._referenced(Risk, risk_id, "risk_ids", "risk")
                if risk.team_id != str(cmd.team_id):
                    raise ValidationError(
                        f"risk_ids: risk {risk_id} is a risk of team {risk.team_id}; a plan "
                        f"covers risks of its own team {cmd.team_id}")
                if risk.status == CLOSED:
                    raise ValidationError(f"risk_ids: risk {risk_id} is closed")
            return ContingencyPlan.draft(plan_id, cmd.team_id, cmd.title, cmd.risk_ids,
                                         cmd.steps, cmd.owner_id, ctx.meta)

        return self.ledger.execute(ctx, run, created=True)

    def revise_plan(self, cmd: c.RevisePlan, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(ContingencyPlan, cmd.plan_id, ctx,
                                  lambda p: p.revise(cmd.steps, cmd.reason, ctx.meta))

    def exercise_plan(self, cmd: c.ExercisePlan, ctx: CommandContext) -> CommandResult:
        """A drill happened when it was held: ``held_at`` is its business time, and an
        ``occurred_at`` that says otherwise is refused."""
        meta = ctx.meta
        if meta.occurred_at is not None and meta.occurred_at != cmd.held_at:
            raise ValidationError(
                "a drill happened when it was held: leave occurred_at out, or make it "
                "held_at")
        held = replace(ctx, meta=replace(meta, occurred_at=cmd.held_at))

        def exercise(plan: ContingencyPlan) -> None:
            for member_id in cmd.participants:  # people of any team take part in drills
                self.directory.require_active(member_id, "participants")
            plan.exercise(cmd.held_at, cmd.participants, cmd.outcome, cmd.lessons, held.meta)

        return self.ledger.update(ContingencyPlan, cmd.plan_id, held, exercise)

    # -- incidents linked to what foresaw them -------------------------------------------

    def link_incident(self, cmd: c.LinkIncident, ctx: CommandContext) -> CommandResult:
        """Records the link on the risk and on the plan (both, when both are named, in one
        save). The answer is the risk's (else the plan's) id and version, so ``If-Match``
        is the risk's (else the plan's)."""
        if cmd.risk_id is None and cmd.plan_id is None:
            raise ValidationError("a link names the risk_id, the plan_id or both")
        if cmd.plan_id is None and cmd.plan_followed is not None:
            raise ValidationError("plan_followed says whether a plan was followed: name "
                                  "its plan_id")
        if cmd.plan_id is not None and cmd.plan_followed is None:
            raise ValidationError("a link to a plan says whether it was followed "
                                  "(plan_followed)")

        def run() -> list[Risk | ContingencyPlan]:
            incident = self.ledger.load(Incident, cmd.incident_id)
            risk = (None if cmd.risk_id is None
                    else self._referenced(Risk, cmd.risk_id, "risk_id", "risk"))
            plan = (None if cmd.plan_id is None else self._referenced(
                ContingencyPlan, cmd.plan_id, "plan_id", "contingency plan"))
            changed = [a for a in (risk, plan) if a is not None]
            for aggregate in (incident, *changed):
                _require_scope(aggregate, ctx)
            if ctx.if_match is not None and ctx.if_match != changed[0].version:
                raise StaleVersionError(ctx.if_match, changed[0].version)
            incident.require_existed(ctx.meta, "a link to it")
            if risk is not None:
                risk.link_incident(cmd.incident_id, cmd.plan_id, cmd.plan_followed, ctx.meta)
            if plan is not None and cmd.plan_followed is not None:
                plan.link_incident(cmd.incident_id, cmd.risk_id, cmd.plan_followed, ctx.meta)
            return changed

        return self.ledger.execute(ctx, run, created=True)

    def _referenced(self, cls: type[A], aggregate_id: UUID, field: str, what: str) -> A:
        try:
            return self.ledger.load(cls, aggregate_id)
        except NotFoundError:
            raise ValidationError(f"{field}: {what} {aggregate_id} does not exist") from None


def _require_scope(aggregate: LedgerAggregate, ctx: CommandContext) -> None:
    """As the ledger's load checks the one aggregate a command changes, for each of the
    aggregates a link reads or changes."""
    team_id = aggregate.owning_team()
    if ctx.scoped and team_id is not None and team_id not in ctx.teams:
        raise OutOfScopeError(f"{ctx.meta.actor} may not act on team {team_id}")
