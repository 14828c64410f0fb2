"""A training a team requires of the members in some roles, and each member's
assignment and completions of it.

A training belongs to one team (``team_id``); its assignments are to members of that
team. An assignment is due by a date (``due``); a completion (at ``completed_at``, its
business time, with a link to its evidence) is valid for ``valid_for_days`` (None:
for good), after which the training is expired for that member and may be assigned
again. A member holds at most one assignment at a time: a training assigned and not
done, or done and still valid, is not assigned twice.

Trainings required for a role assign themselves (``required_for_role`` names the role
that required it): when the training is defined, to the team's members in those roles;
and when a member takes one of those roles (joins, is given it, moves in), in the same
save as that change (:mod:`domain.people.requirements`). Every event names the
training's team (``team_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.aggregate import LedgerAggregate, require
from domain.envelope import iso_time
from domain.errors import DomainError, ValidationError
from domain.goals.aggregate import iso_date
from domain.meta import CommandMeta

MAX_ROLES = 50
MAX_VALID_FOR_DAYS = 36_500
ASSIGN_WITHIN_DAYS = 30
"""Days a member has to complete a training that assigned itself (from the day the
role takes effect, or the day of the change if later)."""


def roles_of(roles: Sequence[str]) -> list[str]:
    """The roles, stripped, each once (:class:`ValidationError` for an empty one)."""
    if len(roles) > MAX_ROLES:
        raise ValidationError(f"a training names at most {MAX_ROLES} roles")
    checked: list[str] = []
    for role in roles:
        name = str(role).strip()
        if not name:
            raise ValidationError("required_for_roles names an empty role")
        if name in checked:
            raise ValidationError(f"required_for_roles names {name!r} more than once")
        checked.append(name)
    return checked


def expires_on(completed_at: datetime, valid_for_days: int | None) -> date | None:
    """The day a completion stops being valid (None: never)."""
    return None if valid_for_days is None else completed_at.date() + timedelta(
        days=valid_for_days)


class Training(LedgerAggregate):
    CONTEXT = "people"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        team_id: str
        title: str
        required_for_roles: list[str]
        valid_for_days: int | None
        assignments: dict[str, dict[str, Any]]

    class TrainingDefined(LedgerAggregate.Created):
        """A training of the team, required for members in ``required_for_roles``."""

        team_id: str
        title: str
        required_for_roles: list[str]
        valid_for_days: int | None

        def apply(self, training: Training) -> None:
            training.team_id = self.team_id
            training.title = self.title
            training.required_for_roles = list(self.required_for_roles)
            training.valid_for_days = self.valid_for_days
            training.assignments = {}

    class TrainingAssigned(LedgerAggregate.Event):
        """A member is to do the training by ``due``; ``required_for_role`` names the role
        that required it when it assigned itself (None: assigned by someone)."""

        team_id: str
        member_id: str
        due: str
        required_for_role: str | None

        def apply(self, training: Training) -> None:
            training.assignments[self.member_id] = {"due": self.due, "completed_at": None}

    class TrainingCompleted(LedgerAggregate.Event):
        """A member did the training at ``completed_at``; ``evidence`` links the proof."""

        team_id: str
        member_id: str
        completed_at: str
        evidence: str

        def apply(self, training: Training) -> None:
            training.assignments[self.member_id]["completed_at"] = datetime.fromisoformat(
                self.completed_at)

    def owning_team(self) -> str | None:
        return self.team_id

    def describe(self) -> str:
        return f"training {self.id}"

    # -- commands -------------------------------------------------------------

    @classmethod
    def define(cls, training_id: UUID, team_id: UUID, title: str, roles: Sequence[str],
               valid_for_days: int | None, meta: CommandMeta) -> Training:
        title = title.strip()
        require(bool(title), "a training needs a title")
        if valid_for_days is not None and (
                isinstance(valid_for_days, bool) or not 1 <= valid_for_days <= MAX_VALID_FOR_DAYS):
            raise ValidationError(
                f"valid_for_days must be a whole number from 1 to {MAX_VALID_FOR_DAYS} "
                f"(or null: valid for good), got {valid_for_days!r}")
        return cls._start(cls.TrainingDefined, training_id, meta, team_id=str(team_id),
                          title=title, required_for_roles=roles_of(roles),
                          valid_for_days=valid_for_days)

    def assign(self, member_id: UUID, due: str, meta: CommandMeta,
               required_for_role: str | None = None) -> None:
        due_on = iso_date(due, "due")
        today = meta.business_time.date()
        if due_on < today:
            raise ValidationError(f"due {due_on.isoformat()} was already in the past on the "
                                  f"day it was set ({today.isoformat()})")
        held = self.held_by(str(member_id), today)
        if held is not None:
            raise DomainError(f"member {member_id} {held}")
        self._record(self.TrainingAssigned, meta, team_id=self.team_id,
                     member_id=str(member_id), due=due_on.isoformat(),
                     required_for_role=required_for_role)

    def require_of(self, member_id: UUID, role: str, meta: CommandMeta,
                   effective: date | None = None) -> bool:
        """Assign the training to a member taking ``role`` if the role requires it and
        the member holds no assignment (or only an expired one); whether it did. Never
        refuses: a role change is not held up by a training's state."""
        if role.strip() not in self.required_for_roles:
            return False
        start = max(effective or meta.business_time.date(), meta.business_time.date())
        if self.held_by(str(member_id), meta.business_time.date()) is not None:
            return False
        if meta.business_time < self.last_occurred_at:
            # The role change is dated before this training's latest event: the
            # assignment is recorded at that event's time, the order rule holds.
            meta = replace(meta, occurred_at=self.last_occurred_at)
        self._record(self.TrainingAssigned, meta, team_id=self.team_id,
                     member_id=str(member_id),
                     due=(start + timedelta(days=ASSIGN_WITHIN_DAYS)).isoformat(),
                     required_for_role=role.strip())
        return True

    def complete(self, member_id: UUID, completed_at: datetime, evidence: str,
                 meta: CommandMeta) -> None:
        """``meta``'s business time is ``completed_at`` (the service makes it so)."""
        assignment = self.assignments.get(str(member_id))
        if assignment is None:
            raise DomainError(f"training {self.id} is not assigned to member {member_id}: "
                              "assign it first")
        if assignment["completed_at"] is not None:
            raise DomainError(
                f"member {member_id} already completed training {self.id} at "
                f"{iso_time(assignment['completed_at'])}; assign it again once it expires")
        evidence = evidence.strip()
        require(bool(evidence), "a completion needs its evidence (a link)")
        self._record(self.TrainingCompleted, meta, team_id=self.team_id,
                     member_id=str(member_id), completed_at=iso_time(completed_at),
                     evidence=evidence)

    def held_by(self, member_id: str, today: date) -> str | None:
        """Why the member can't be assigned the training now (None: it can be)."""
        assignment = self.assignments.get(member_id)
        if assignment is None:
            return None
        done = assignment["completed_at"]
        if done is None:
            return f"is already assigned training {self.id}, due {assignment['due']}"
        until = expires_on(done, self.valid_for_days)
        if until is None:
            return f"completed training {self.id} at {iso_time(done)}, valid for good"
        if until > today:
            return (f"completed training {self.id} at {iso_time(done)}, valid until "
                    f"{until.isoformat()}")
        return None
