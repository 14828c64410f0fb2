"""The people command service: one ledger call per command (load, change, save).

Members are named by the route's path (unknown: 404) and must be active members of
the training's or policy's team (another team's: 422, left: 409); the training or
policy a body names that does not exist is malformed (422), the one a path names is
not found (404); either of another team is out of the caller's scope (403).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import NotFoundError, ValidationError
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.people import commands as c
from domain.people.policy import Policy, policy_id_of
from domain.people.requirements import Requirements
from domain.people.training import Training
from domain.teams.aggregate import Team
from domain.teams.directory import MemberDirectory


class PeopleService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.directory = MemberDirectory.of(ledger)
        self.requirements = Requirements(ledger)

    # -- trainings ------------------------------------------------------------------

    def define_training(self, cmd: c.DefineTraining, ctx: CommandContext) -> CommandResult:
        """Define a training; it assigns itself at once to the team's active members in
        the roles it is required for."""

        def run() -> Sequence[Aggregate]:
            training_id = self.ledger.new_id(cmd.training_id, "training")
            team = self.ledger.load(Team, cmd.team_id)
            team.require_existed(ctx.meta, "a training")
            training = Training.define(training_id, cmd.team_id, cmd.title,
                                       cmd.required_for_roles, cmd.valid_for_days, ctx.meta)
            for member_id, member in team.members.items():
                if member.get("active") and not member.get("moved_to"):
                    training.require_of(UUID(member_id), str(member.get("role") or ""),
                                        ctx.meta)
            index = self.requirements.index(cmd.team_id)
            index.add(training_id)
            return [training, index]

        return self.ledger.execute(ctx, run, created=True)

    def assign_training(self, cmd: c.AssignTraining, ctx: CommandContext) -> CommandResult:
        self._require_member(cmd.member_id)
        self._require_exists(cmd.training_id, "training_id", "training")

        def assign(training: Training) -> None:
            self.directory.require_active(cmd.member_id, "member", team_id=training.team_id)
            training.assign(cmd.member_id, cmd.due, ctx.meta)

        return self.ledger.update(Training, cmd.training_id, ctx, assign, created=True)

    def complete_training(self, cmd: c.CompleteTraining, ctx: CommandContext) -> CommandResult:
        """A training was done when it was completed: ``completed_at`` is its business
        time, and an ``occurred_at`` that says otherwise is refused."""
        self._require_member(cmd.member_id)
        meta = ctx.meta
        if meta.occurred_at is not None and meta.occurred_at != cmd.completed_at:
            raise ValidationError("a training was done when it was completed: leave "
                                  "occurred_at out, or make it completed_at")
        done = replace(ctx, meta=replace(meta, occurred_at=cmd.completed_at))
        return self.ledger.update(Training, cmd.training_id, done, lambda t: t.complete(
            cmd.member_id, cmd.completed_at, cmd.evidence, done.meta))

    # -- policies -------------------------------------------------------------------

    def publish_policy(self, cmd: c.PublishPolicy, ctx: CommandContext) -> CommandResult:
        """The first version of a policy (201), or a new version of the team's policy
        of that title, superseding the one before (200; ``If-Match`` is the policy's)."""
        policy_id = policy_id_of(cmd.team_id, cmd.title)
        if self.ledger.exists(policy_id):
            return self.ledger.update(Policy, policy_id, ctx, lambda p: p.publish_version(
                cmd.version, cmd.document, cmd.sha256, ctx.meta))

        def run() -> Policy:
            team = self.ledger.first(Team, cmd.team_id)  # it exists, and since when
            team.require_existed(ctx.meta, "a policy")
            return Policy.publish(cmd.team_id, cmd.title, cmd.version, cmd.document,
                                  cmd.sha256, ctx.meta)

        return self.ledger.execute(ctx, run, created=True)

    def acknowledge_policy(self, cmd: c.AcknowledgePolicy,
                           ctx: CommandContext) -> CommandResult:
        self._require_member(cmd.member_id)
        self._require_exists(cmd.policy_id, "policy_id", "policy")

        def acknowledge(policy: Policy) -> None:
            self.directory.require_active(cmd.member_id, "member", team_id=policy.team_id)
            policy.acknowledge(cmd.member_id, cmd.version, ctx.meta)

        return self.ledger.update(Policy, cmd.policy_id, ctx, acknowledge, created=True)

    # -- references -----------------------------------------------------------------

    def _require_member(self, member_id: UUID) -> None:
        if self.directory.member(member_id) is None:
            raise NotFoundError(f"member {member_id} not found")

    def _require_exists(self, aggregate_id: UUID, field: str, what: str) -> None:
        if not self.ledger.exists(aggregate_id):
            raise ValidationError(f"{field}: {what} {aggregate_id} does not exist")


