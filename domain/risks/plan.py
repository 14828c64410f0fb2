"""A contingency plan: who does what when one of its risks happens.

The plan's steps each name the role responsible. Revising the steps makes a new
version (``plan_version`` 2, 3, ...); earlier versions are kept in the events and the
read model. A drill (``exercise``) records when it was held, who took part, how it
went and what was learnt, against the version in force then. A drill happened when
it was held: its event's business time is ``held_at`` (so a drill recorded long after
it was held outside an import run is a ``backdated_entry``, and the order rule holds).
Links from incidents say whether the plan was followed.

A plan belongs to one team and covers risks of that team (``risk_ids``, fixed when it
is drafted). Every event names the plan's team (``team_id``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, require, require_not_before, require_reason
from domain.envelope import iso_time
from domain.errors import ValidationError
from domain.meta import CommandMeta

MAX_STEPS = 100
MAX_PARTICIPANTS = 100


def steps_of(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The steps as ``{"title", "role"}``, each with both (:class:`ValidationError`)."""
    if not steps:
        raise ValidationError("a contingency plan needs at least one step")
    if len(steps) > MAX_STEPS:
        raise ValidationError(f"a contingency plan has at most {MAX_STEPS} steps")
    checked = []
    for n, step in enumerate(steps, start=1):
        title = str(step.get("title") or "").strip()
        role = str(step.get("role") or "").strip()
        if not title or not role:
            raise ValidationError(f"step {n} needs a title and the role responsible for it")
        checked.append({"title": title, "role": role})
    return checked


class ContingencyPlan(LedgerAggregate):
    CONTEXT = "risks"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        team_id: str
        title: str
        risk_ids: list[str]
        owner_id: str
        steps: list[dict[str, str]]
        plan_version: int
        linked: set[str]

    class PlanDrafted(LedgerAggregate.Created):
        """A contingency plan for some of its team's risks, version 1 of its steps."""

        team_id: str
        title: str
        risk_ids: list[str]
        steps: list[dict[str, str]]
        owner_id: str

        def apply(self, plan: ContingencyPlan) -> None:
            plan.team_id = self.team_id
            plan.title = self.title
            plan.risk_ids = list(self.risk_ids)
            plan.steps = [dict(step) for step in self.steps]
            plan.owner_id = self.owner_id
            plan.plan_version = 1
            plan.linked = set()

    class PlanRevised(LedgerAggregate.Event):
        """New steps: version ``plan_version`` of the plan (the earlier ones are kept)."""

        team_id: str
        plan_version: int
        steps: list[dict[str, str]]
        reason: str

        def apply(self, plan: ContingencyPlan) -> None:
            plan.steps = [dict(step) for step in self.steps]
            plan.plan_version = self.plan_version

    class PlanExercised(LedgerAggregate.Event):
        """A drill of version ``plan_version`` of the plan, held at ``held_at``."""

        team_id: str
        plan_version: int
        held_at: str
        participants: list[str]
        outcome: str
        lessons: str

        def apply(self, plan: ContingencyPlan) -> None:
            pass

    class PlanIncidentLinked(LedgerAggregate.Event):
        """The plan was the one for an incident (for ``risk_id``, if named);
        ``plan_followed`` says whether it was followed."""

        team_id: str
        incident_id: str
        risk_id: str | None
        plan_followed: bool

        def apply(self, plan: ContingencyPlan) -> None:
            plan.linked.add(self.incident_id)

    def owning_team(self) -> str | None:
        return self.team_id

    def describe(self) -> str:
        return f"contingency plan {self.id}"

    # -- commands -------------------------------------------------------------

    @classmethod
    def draft(
        cls, plan_id: UUID, team_id: UUID, title: str, risk_ids: Sequence[UUID],
        steps: Sequence[Mapping[str, Any]], owner_id: UUID, meta: CommandMeta,
    ) -> ContingencyPlan:
        title = title.strip()
        require(bool(title), "a contingency plan needs a title")
        ids = [str(risk_id) for risk_id in risk_ids]
        if not ids:
            raise ValidationError("a contingency plan covers at least one risk (risk_ids)")
        if len(set(ids)) != len(ids):
            raise ValidationError("risk_ids names a risk more than once")
        return cls._start(
            cls.PlanDrafted, plan_id, meta, team_id=str(team_id), title=title, risk_ids=ids,
            steps=steps_of(steps), owner_id=str(owner_id),
        )

    def revise(self, steps: Sequence[Mapping[str, Any]], reason: str,
               meta: CommandMeta) -> None:
        reason = require_reason(reason, "a revision")
        new_steps = steps_of(steps)
        require(new_steps != self.steps,
                f"these are already the steps of version {self.plan_version} of plan {self.id}")
        self._record(self.PlanRevised, meta, team_id=self.team_id,
                     plan_version=self.plan_version + 1, steps=new_steps, reason=reason)

    def exercise(self, held_at: datetime, participants: Sequence[UUID], outcome: str,
                 lessons: str, meta: CommandMeta) -> None:
        """``meta``'s business time is ``held_at`` (the service makes it so)."""
        require_not_before(held_at, self.first_occurred_at, "hold a drill of this plan",
                           "the plan was drafted")
        people = [str(member_id) for member_id in participants]
        if not people:
            raise ValidationError("a drill needs its participants")
        if len(people) > MAX_PARTICIPANTS:
            raise ValidationError(f"a drill has at most {MAX_PARTICIPANTS} participants")
        if len(set(people)) != len(people):
            raise ValidationError("participants names a member more than once")
        outcome = outcome.strip()
        require(bool(outcome), "a drill needs its outcome")
        self._record(self.PlanExercised, meta, team_id=self.team_id,
                     plan_version=self.plan_version, held_at=iso_time(held_at),
                     participants=people, outcome=outcome, lessons=lessons.strip())

    def link_incident(self, incident_id: UUID, risk_id: UUID | None, plan_followed: bool,
                      meta: CommandMeta) -> None:
        require(str(incident_id) not in self.linked,
                f"incident {incident_id} is already linked to contingency plan {self.id}")
        if risk_id is not None and str(risk_id) not in self.risk_ids:
            raise ValidationError(
                f"contingency plan {self.id} does not cover risk {risk_id}; it covers "
                f"{', '.join(self.risk_ids)}")
        self._record(self.PlanIncidentLinked, meta, team_id=self.team_id,
                     incident_id=str(incident_id),
                     risk_id=None if risk_id is None else str(risk_id),
                     plan_followed=plan_followed)
