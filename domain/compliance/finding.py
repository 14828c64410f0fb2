"""A finding's decisions: waived, accepted as a risk, reopened, each with who and why.

Findings themselves are computed from the read models by the compliance controls
(``projections.compliance_controls``), not recorded; what a person decides about one
is. One aggregate per finding, its id a uuid5 of the finding id (``ack_sla:<incident
id>``), created by :class:`Finding.FindingTracked` with the first decision.

The state machine, judged at the decision's business time (``occurred_at``):

- an *open* finding may be waived (``until`` optional) or accepted as a risk (``until``
  required, at most a year after the decision); both ``until`` after the decision;
- a *waived* or *risk-accepted* one may be reopened; a decision past its ``until``
  has lapsed, so the finding is open again by itself;
- a *resolved* finding (the controls found it put right) takes no decision.

Segregation of duties: nobody decides on a finding that names them in its evidence
(:class:`SegregationOfDutiesError`, 403). What the controls say of the finding now is
given by the caller (:class:`FindingFacts`): the domain cannot read the read models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.aggregate import LedgerAggregate, require_not_before, require_reason
from domain.envelope import iso_time
from domain.errors import DomainError, OutOfScopeError, ValidationError
from domain.meta import CommandMeta

FINDING_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/finding")

State = Literal["open", "waived", "risk_accepted"]
"""A finding's state as its decisions make it (a resolved finding has none of these)."""
DecisionKind = Literal["waived", "risk_accepted", "reopened"]


def finding_aggregate_id(finding_id: str) -> UUID:
    """The id of the aggregate holding the decisions on ``finding_id``: stable, so every
    decision on one finding lands on one stream."""
    return uuid5(FINDING_NAMESPACE, finding_id)


def one_year_after(moment: datetime) -> datetime:
    """The same moment a calendar year later (29 February: the 28th)."""
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)


class SegregationOfDutiesError(OutOfScopeError):
    """The caller is named in the finding's evidence, so may not decide on it (403)."""


@dataclass(frozen=True)
class FindingFacts:
    """What the compliance controls say of a finding now, computed by the caller."""

    finding_id: str
    control: str
    subject_id: str
    team_id: str | None
    status: str
    """``open`` (still breached) or ``resolved`` (put right)."""
    opened_at: datetime
    evidence_actors: frozenset[str]
    """The principals its evidence names: the actors of its evidence events, and the
    actor a finding names itself (a ``backdated_entry``)."""


_WORDS = {"waived": "waived", "risk_accepted": "accepted as a risk", "reopened": "reopened"}


class Finding(LedgerAggregate):
    CONTEXT = "compliance"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        finding_id: str
        control: str
        subject_id: str
        team_id: str | None
        decision: dict[str, Any] | None

    class FindingTracked(LedgerAggregate.Created):
        """Decisions on a finding of the compliance controls began to be recorded: its
        first decision follows in the same command."""

        finding_id: str
        control: str
        subject_id: str
        team_id: str | None

        def apply(self, finding: Finding) -> None:
            finding.finding_id = self.finding_id
            finding.control = self.control
            finding.subject_id = self.subject_id
            finding.team_id = self.team_id
            finding.decision = None

    class FindingWaived(LedgerAggregate.Event):
        """An open finding was waived, with a reason, until a time or for good."""

        finding_id: str
        team_id: str | None
        reason: str
        until: str | None

        def apply(self, finding: Finding) -> None:
            finding.decision = _decision("waived", self, self.until)

    class FindingRiskAccepted(LedgerAggregate.Event):
        """An open finding was accepted as a risk, with a reason, until a time."""

        finding_id: str
        team_id: str | None
        reason: str
        until: str

        def apply(self, finding: Finding) -> None:
            finding.decision = _decision("risk_accepted", self, self.until)

    class FindingReopened(LedgerAggregate.Event):
        """A waiver or an accepted risk was withdrawn: the finding is open again."""

        finding_id: str
        team_id: str | None
        reason: str

        def apply(self, finding: Finding) -> None:
            finding.decision = _decision("reopened", self, None)

    # -- commands -------------------------------------------------------------

    @classmethod
    def track(cls, facts: FindingFacts, meta: CommandMeta) -> Finding:
        """The aggregate of a finding nothing was decided on yet (saved only with the
        decision that follows)."""
        return cls._start(
            cls.FindingTracked, finding_aggregate_id(facts.finding_id), meta,
            finding_id=facts.finding_id, control=facts.control, subject_id=facts.subject_id,
            team_id=facts.team_id,
        )

    def waive(self, facts: FindingFacts, reason: str, until: datetime | None,
              meta: CommandMeta) -> None:
        self._check_decider(facts, meta)
        reason = require_reason(reason, "waiving a finding")
        if until is not None:
            self._check_until(until, meta)
        self._require_open(facts, meta, "waived")
        self._record(self.FindingWaived, meta, finding_id=self.finding_id,
                     team_id=self.team_id, reason=reason,
                     until=iso_time(until) if until is not None else None)

    def accept_risk(self, facts: FindingFacts, reason: str, until: datetime,
                    meta: CommandMeta) -> None:
        self._check_decider(facts, meta)
        reason = require_reason(reason, "accepting a risk")
        self._check_until(until, meta)
        latest = one_year_after(meta.business_time)
        if until > latest:
            raise ValidationError(
                f"a risk is accepted for at most a year: until {iso_time(until)} is after "
                f"{iso_time(latest)}", until=iso_time(until), latest_until=iso_time(latest))
        self._require_open(facts, meta, "accepted as a risk")
        self._record(self.FindingRiskAccepted, meta, finding_id=self.finding_id,
                     team_id=self.team_id, reason=reason, until=iso_time(until))

    def reopen(self, facts: FindingFacts, reason: str, meta: CommandMeta) -> None:
        self._check_decider(facts, meta)
        reason = require_reason(reason, "reopening a finding")
        self._require_not_resolved(facts, "reopened")
        state = self.state_at(meta.business_time)
        if state == "open":
            raise DomainError(
                f"finding {self.finding_id} is open{self._lapsed_note(meta)}: only a waived "
                "or risk-accepted finding is reopened", finding_id=self.finding_id,
                state=state)
        self._record(self.FindingReopened, meta, finding_id=self.finding_id,
                     team_id=self.team_id, reason=reason)

    # -- queries --------------------------------------------------------------

    def state_at(self, moment: datetime) -> State:
        """The state the decisions give the finding at ``moment``: a waiver or an
        accepted risk is in force until its ``until``, then it has lapsed."""
        decision = self.decision
        if decision is None or decision["kind"] == "reopened":
            return "open"
        until = decision["until"]
        if until is not None and until <= moment:
            return "open"
        kind: State = decision["kind"]
        return kind

    def owning_team(self) -> str | None:
        return self.team_id

    def describe(self) -> str:
        return f"finding {self.finding_id}"

    # -- rules ----------------------------------------------------------------

    def _check_decider(self, facts: FindingFacts, meta: CommandMeta) -> None:
        if facts.finding_id != self.finding_id:  # pragma: no cover - a caller's mistake
            raise ValueError(f"facts of {facts.finding_id} given for {self.finding_id}")
        if meta.actor in facts.evidence_actors:
            raise SegregationOfDutiesError(
                f"{meta.actor} is named in the evidence of finding {self.finding_id}, so may "
                "not decide on it (segregation of duties)", finding_id=self.finding_id)

    @staticmethod
    def _check_until(until: datetime, meta: CommandMeta) -> None:
        if until <= meta.business_time:
            raise ValidationError(
                f"until {iso_time(until)} must be after the decision "
                f"({iso_time(meta.business_time)})", until=iso_time(until))

    def _require_not_resolved(self, facts: FindingFacts, what: str) -> None:
        if facts.status == "resolved":
            raise DomainError(
                f"finding {self.finding_id} is resolved (its control is satisfied): it "
                f"can't be {what}; a resolved finding stays resolved",
                finding_id=self.finding_id, state="resolved")

    def _require_open(self, facts: FindingFacts, meta: CommandMeta, what: str) -> None:
        self._require_not_resolved(facts, what)
        state = self.state_at(meta.business_time)
        if state != "open":
            decision = self.decision or {}
            until = decision.get("until")
            raise DomainError(
                f"finding {self.finding_id} is already {_WORDS[state]} by "
                f"{decision.get('by')}" + (f" until {iso_time(until)}" if until else "")
                + "; reopen it first", finding_id=self.finding_id, state=state)
        require_not_before(meta.business_time, facts.opened_at,
                           f"decide on finding {self.finding_id}", "its opening")

    def _lapsed_note(self, meta: CommandMeta) -> str:
        decision = self.decision
        if decision is None or decision["kind"] == "reopened" or decision["until"] is None:
            return ""
        return (f" again: it was {_WORDS[decision['kind']]} until "
                f"{iso_time(decision['until'])}, which has passed")


def _decision(kind: DecisionKind, event: LedgerAggregate.Event,
              until: str | None) -> dict[str, Any]:
    return {
        "kind": kind, "by": str(event.meta.get("actor", "")), "at": event.occurred_at,
        "until": datetime.fromisoformat(until) if until else None,
    }
