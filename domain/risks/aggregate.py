"""A risk in a team's register: how likely and how bad (inherent), how likely and how
bad once its controls work (residual), how it is treated, who approved its acceptance.

Scores are likelihood x impact, each from 1 to 5 (so 1 to 25). Until its first
assessment a risk's residual score is its inherent one: nothing is known to reduce it.

Reviews recur: every assessment is a review, and says when the next one is due
(``review_by``). An assessment that does not say keeps the cadence the risk had (the
days from the previous review to the date it set), so no review leaves a risk without
a next review date.

Acceptance needs two people: a treatment ``accept`` records the decision, and
``accept`` records its approval by a member who is not the risk's owner (segregation
of duties, :class:`~domain.compliance.finding.SegregationOfDutiesError`, 403, as for
decisions on findings). Every event names the risk's team (``team_id``), so its audit
and history records belong to that team whatever the reader looks up.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal, get_args
from uuid import UUID

from domain.aggregate import LedgerAggregate, require, require_reason
from domain.compliance.finding import SegregationOfDutiesError
from domain.errors import DomainError, ValidationError
from domain.goals.aggregate import iso_date
from domain.meta import CommandMeta

Category = Literal[
    "technical", "operational", "security", "compliance", "financial", "people", "market"]
CATEGORIES: tuple[str, ...] = get_args(Category)
Treatment = Literal["mitigate", "accept", "transfer", "avoid"]
TREATMENTS: tuple[str, ...] = get_args(Treatment)
Status = Literal["open", "treated", "accepted", "closed"]
"""``open`` until treated; ``treated`` (an ``accept`` treatment waits for its approval
here); ``accepted`` once the acceptance is approved; ``closed``."""
OPEN, TREATED, ACCEPTED, CLOSED = get_args(Status)
SCALE = range(1, 6)


def rating(value: int, what: str) -> int:
    """A whole number from 1 to 5 (booleans are malformed)."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
        raise ValidationError(f"{what} must be a whole number from 1 to 5, got {value!r}")
    return value


def score(likelihood: int, impact: int) -> int:
    return likelihood * impact


class Risk(LedgerAggregate):
    CONTEXT = "risks"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        team_id: str
        title: str
        category: str
        owner_id: str
        likelihood: int
        impact: int
        residual_likelihood: int
        residual_impact: int
        review_by: str
        reviewed_on: str
        status: str
        treatment: str | None
        plan: str
        approver_id: str | None
        linked: set[tuple[str, str | None]]

    class RiskIdentified(LedgerAggregate.Created):
        """A risk was entered in its team's register, with its inherent rating."""

        team_id: str
        title: str
        category: str
        likelihood: int
        impact: int
        owner_id: str
        review_by: str

        def apply(self, risk: Risk) -> None:
            risk.team_id = self.team_id
            risk.title = self.title
            risk.category = self.category
            risk.owner_id = self.owner_id
            risk.likelihood = risk.residual_likelihood = self.likelihood
            risk.impact = risk.residual_impact = self.impact
            risk.review_by = self.review_by
            risk.reviewed_on = self.occurred_at.date().isoformat()
            risk.status = OPEN
            risk.treatment = None
            risk.plan = ""
            risk.approver_id = None
            risk.linked = set()

    class RiskAssessed(LedgerAggregate.Event):
        """The risk was reviewed: its inherent and residual ratings, and the date of its
        next review."""

        team_id: str
        likelihood: int
        impact: int
        residual_likelihood: int
        residual_impact: int
        note: str
        review_by: str

        def apply(self, risk: Risk) -> None:
            risk.likelihood = self.likelihood
            risk.impact = self.impact
            risk.residual_likelihood = self.residual_likelihood
            risk.residual_impact = self.residual_impact
            risk.review_by = self.review_by
            risk.reviewed_on = self.occurred_at.date().isoformat()

    class RiskTreated(LedgerAggregate.Event):
        """How the risk is handled: mitigated, accepted (to be approved), transferred or
        avoided, with the plan and why."""

        team_id: str
        treatment: str
        plan: str
        reason: str

        def apply(self, risk: Risk) -> None:
            risk.treatment = self.treatment
            risk.plan = self.plan
            risk.approver_id = None
            risk.status = TREATED

    class RiskAccepted(LedgerAggregate.Event):
        """The acceptance of the risk was approved by a member who is not its owner."""

        team_id: str
        approver_id: str
        reason: str

        def apply(self, risk: Risk) -> None:
            risk.approver_id = self.approver_id
            risk.status = ACCEPTED

    class RiskClosed(LedgerAggregate.Event):
        """The risk no longer applies."""

        team_id: str
        reason: str

        def apply(self, risk: Risk) -> None:
            risk.status = CLOSED

    class RiskIncidentLinked(LedgerAggregate.Event):
        """An incident happened that the risk foresaw; ``plan_id`` names the contingency
        plan used for it, if any, and ``plan_followed`` whether it was followed."""

        team_id: str
        incident_id: str
        plan_id: str | None
        plan_followed: bool | None

        def apply(self, risk: Risk) -> None:
            risk.linked.add((self.incident_id, self.plan_id))

    def owning_team(self) -> str | None:
        return self.team_id

    @property
    def residual_score(self) -> int:
        return score(self.residual_likelihood, self.residual_impact)

    # -- commands -------------------------------------------------------------

    @classmethod
    def identify(
        cls, risk_id: UUID, team_id: UUID, title: str, category: str, likelihood: int,
        impact: int, owner_id: UUID, review_by: str, meta: CommandMeta,
    ) -> Risk:
        title = title.strip()
        require(bool(title), "a risk needs a title")
        category = category.strip().lower()
        if category not in CATEGORIES:
            raise ValidationError(
                f"category must be one of {', '.join(CATEGORIES)}, got {category!r}")
        due = _review_date(review_by, meta)
        return cls._start(
            cls.RiskIdentified, risk_id, meta, team_id=str(team_id), title=title,
            category=category, likelihood=rating(likelihood, "likelihood"),
            impact=rating(impact, "impact"), owner_id=str(owner_id), review_by=due,
        )

    def assess(
        self, likelihood: int, impact: int, residual_likelihood: int, residual_impact: int,
        note: str, review_by: str | None, meta: CommandMeta,
    ) -> None:
        self._require_not_closed("be assessed")
        inherent = score(rating(likelihood, "likelihood"), rating(impact, "impact"))
        residual = score(rating(residual_likelihood, "residual_likelihood"),
                         rating(residual_impact, "residual_impact"))
        if residual > inherent:
            raise ValidationError(
                f"the residual score ({residual_likelihood} x {residual_impact} = {residual}) "
                f"can't exceed the inherent score ({likelihood} x {impact} = {inherent}): "
                "controls reduce a risk, they don't add to it")
        self._record(
            self.RiskAssessed, meta, team_id=self.team_id, likelihood=likelihood,
            impact=impact, residual_likelihood=residual_likelihood,
            residual_impact=residual_impact, note=note.strip(),
            review_by=(_review_date(review_by, meta) if review_by is not None
                       else self._next_review(meta)),
        )

    def treat(self, treatment: str, plan: str, reason: str, meta: CommandMeta) -> None:
        self._require_not_closed("be treated")
        treatment = treatment.strip().lower()
        if treatment not in TREATMENTS:
            raise ValidationError(
                f"treatment must be one of {', '.join(TREATMENTS)}, got {treatment!r}")
        plan = plan.strip()
        reason = require_reason(reason, "a treatment")
        if treatment != "accept" and not plan:
            raise ValidationError(f"a {treatment} treatment needs a plan")
        require((treatment, plan) != (self.treatment, self.plan),
                f"risk {self.id} is already treated with {treatment} and this plan")
        self._record(self.RiskTreated, meta, team_id=self.team_id, treatment=treatment,
                     plan=plan, reason=reason)

    def accept(self, approver_id: UUID, reason: str, meta: CommandMeta) -> None:
        self._require_not_closed("be accepted")
        reason = require_reason(reason, "an acceptance")
        require(self.treatment == "accept",
                f"risk {self.id} has no accept treatment to approve (its treatment is "
                f"{self.treatment or 'none yet'}): treat it with accept first")
        require(self.status != ACCEPTED,
                f"the acceptance of risk {self.id} is already approved by {self.approver_id}")
        if str(approver_id) == self.owner_id:
            raise SegregationOfDutiesError(
                f"the acceptance of risk {self.id} must be approved by a member other than "
                f"its owner {self.owner_id}", owner_id=self.owner_id)
        self._record(self.RiskAccepted, meta, team_id=self.team_id,
                     approver_id=str(approver_id), reason=reason)

    def close(self, reason: str, meta: CommandMeta) -> None:
        self._require_not_closed("be closed again")
        self._record(self.RiskClosed, meta, team_id=self.team_id,
                     reason=require_reason(reason, "closing a risk"))

    def link_incident(self, incident_id: UUID, plan_id: UUID | None,
                      plan_followed: bool | None, meta: CommandMeta) -> None:
        """Closed risks too: an incident can prove a risk closed too early."""
        plan = None if plan_id is None else str(plan_id)
        require((str(incident_id), plan) not in self.linked,
                f"incident {incident_id} is already linked to risk {self.id}"
                + (f" with plan {plan}" if plan else ""))
        self._record(self.RiskIncidentLinked, meta, team_id=self.team_id,
                     incident_id=str(incident_id), plan_id=plan, plan_followed=plan_followed)

    def _next_review(self, meta: CommandMeta) -> str:
        cadence = date.fromisoformat(self.review_by) - date.fromisoformat(self.reviewed_on)
        return (meta.business_time.date() + max(cadence, timedelta(days=1))).isoformat()

    def _require_not_closed(self, action: str) -> None:
        if self.status == CLOSED:
            raise DomainError(f"risk {self.id} is closed and can't {action}")

    def describe(self) -> str:
        return f"risk {self.id}"


def _review_date(value: str | None, meta: CommandMeta) -> str:
    due = iso_date(value or "", "review_by")
    today = meta.business_time.date()
    if due < today:
        raise ValidationError(
            f"review_by {due.isoformat()} was already in the past on the day it was set "
            f"({today.isoformat()})")
    return due.isoformat()
