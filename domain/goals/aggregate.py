"""A SMART goal: a metric moved from a baseline to a target by a deadline."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, get_args
from uuid import UUID

from domain.aggregate import LedgerAggregate, require, require_reason
from domain.errors import ValidationError
from domain.meta import CommandMeta

OPEN = "open"
Outcome = Literal["achieved", "missed", "abandoned"]
"""How a goal is closed (its status from then on)."""
OUTCOMES: tuple[str, ...] = get_args(Outcome)
Status = Literal["open", Outcome]
"""A goal's status: ``OPEN``, then its outcome."""
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(value: str | date, what: str) -> date:
    """A calendar date from ``YYYY-MM-DD`` (malformed → :class:`ValidationError`)."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{what} must be a date as YYYY-MM-DD, got {value!r}") from None


def number(value: float, what: str) -> float:
    """A finite number (bools and NaN/infinity are malformed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(f"{what} must be a finite number, got {value!r}")
    return float(value)


class Goal(LedgerAggregate):
    CONTEXT = "goals"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        team_id: str
        owner_id: str
        title: str
        metric: str
        baseline: float
        target: float
        unit: str
        deadline: str
        status: str
        current_value: float | None
        check_ins: list[dict[str, Any]]
        revisions: list[dict[str, Any]]
        closing_note: str

    class GoalSet(LedgerAggregate.Created):
        team_id: str
        owner_id: str
        title: str
        metric: str
        baseline: float
        target: float
        unit: str
        deadline: str

        def apply(self, goal: Goal) -> None:
            goal.team_id = self.team_id
            goal.owner_id = self.owner_id
            goal.title = self.title
            goal.metric = self.metric
            goal.baseline = self.baseline
            goal.target = self.target
            goal.unit = self.unit
            goal.deadline = self.deadline
            goal.status = OPEN
            goal.current_value = None
            goal.check_ins = []
            goal.revisions = []
            goal.closing_note = ""

    class ProgressCheckedIn(LedgerAggregate.Event):
        value: float
        note: str

        def apply(self, goal: Goal) -> None:
            goal.current_value = self.value
            goal.check_ins.append({"value": self.value, "note": self.note, "at": self.occurred_at})

    class TargetRevised(LedgerAggregate.Event):
        old_target: float
        new_target: float
        reason: str

        def apply(self, goal: Goal) -> None:
            goal.target = self.new_target
            goal.revisions.append({
                "old_target": self.old_target, "new_target": self.new_target,
                "reason": self.reason, "at": self.occurred_at,
            })

    class GoalAchieved(LedgerAggregate.Event):
        note: str

        def apply(self, goal: Goal) -> None:
            goal.status = "achieved"
            goal.closing_note = self.note

    class GoalMissed(LedgerAggregate.Event):
        note: str

        def apply(self, goal: Goal) -> None:
            goal.status = "missed"
            goal.closing_note = self.note

    class GoalAbandoned(LedgerAggregate.Event):
        note: str

        def apply(self, goal: Goal) -> None:
            goal.status = "abandoned"
            goal.closing_note = self.note

    def owning_team(self) -> str | None:
        return self.team_id

    # -- commands -------------------------------------------------------------

    @classmethod
    def set(
        cls, goal_id: UUID, team_id: UUID, owner_id: UUID, title: str, metric: str,
        baseline: float, target: float, unit: str, deadline: str, meta: CommandMeta,
    ) -> Goal:
        require(bool(title.strip()), "a goal needs a title")
        require(bool(metric.strip()), "a goal needs a metric")
        baseline = number(baseline, "baseline")
        target = number(target, "target")
        due = iso_date(deadline, "deadline")
        require(target != baseline, "a goal's target must differ from its baseline")
        # Against the day the goal was set (business time): a goal moved over from
        # another tool had a future deadline then.
        require(due >= meta.business_time.date(),
                f"a goal's deadline {due.isoformat()} was already in the past on the day "
                f"it was set ({meta.business_time.date().isoformat()})")
        return cls._start(
            cls.GoalSet, goal_id, meta, team_id=str(team_id), owner_id=str(owner_id),
            title=title.strip(), metric=metric.strip(), baseline=baseline, target=target,
            unit=unit.strip(), deadline=due.isoformat(),
        )

    def check_in(self, value: float, note: str, meta: CommandMeta) -> None:
        self._require_open("take a check-in")
        self._record(
            self.ProgressCheckedIn, meta, value=number(value, "value"), note=note.strip()
        )

    def revise_target(self, target: float, reason: str, meta: CommandMeta) -> None:
        self._require_open("have its target revised")
        reason = require_reason(reason, "a target revision")
        target = number(target, "target")
        require(target != self.target, f"the target is already {target:g}")
        require(target != self.baseline, "a goal's target must differ from its baseline")
        self._record(
            self.TargetRevised, meta, old_target=self.target, new_target=target, reason=reason
        )

    def close(self, outcome: str, note: str, meta: CommandMeta) -> None:
        self._require_open("be closed")
        outcome = outcome.strip().lower()
        if outcome not in OUTCOMES:
            raise ValidationError(
                f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}"
            )
        event_class = {
            "achieved": self.GoalAchieved, "missed": self.GoalMissed,
            "abandoned": self.GoalAbandoned,
        }[outcome]
        self._record(event_class, meta, note=note.strip())

    def _require_open(self, action: str) -> None:
        require(self.status == OPEN, f"goal {self.id} is {self.status} and can't {action}")
