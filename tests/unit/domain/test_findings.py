"""Decisions on findings, as specifications: given what the controls say of a finding
and the decisions already made, when a decision is asked for, then these events (or this
error, appending nothing). The state machine (open, waived, risk accepted, reopened),
the ``until`` rules, segregation of duties and business time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.compliance import finding_commands as c
from domain.compliance.finding import (
    Finding,
    FindingFacts,
    SegregationOfDutiesError,
    finding_aggregate_id,
    one_year_after,
)
from domain.compliance.findings import FindingService
from domain.errors import DomainError, OutOfOrderError, OutOfScopeError, ValidationError
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from tests.unit.domain.test_business_time import public_events

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TEAM = "7d4c2b8e-0a65-4f1e-9a38-3f0f4c1d2e5a"
FACTS = FindingFacts(
    finding_id="ack_sla:0b7f0a64-5d5e-4e4c-9a3f-2f1b6c1d9e01", control="ack_sla",
    subject_id="0b7f0a64-5d5e-4e4c-9a3f-2f1b6c1d9e01", team_id=TEAM, status="open",
    opened_at=NOW - timedelta(days=3), evidence_actors=frozenset({"user:max"}),
)


def ctx(actor: str = "user:audrey", at: datetime | None = None,
        teams: frozenset[str] = frozenset({"*"})) -> CommandContext:
    return CommandContext(CommandMeta(actor=actor, now=NOW, occurred_at=at), teams=teams)


def decisions(ledger: Ledger) -> list[tuple[str, dict[str, Any]]]:
    return [(type(e).__name__, {k: v for k, v in e.__dict__.items()
                                if k in {"finding_id", "team_id", "reason", "until"}})
            for e in public_events(ledger)]


def waive(ledger: Ledger, until: datetime | None = None, at: datetime | None = None,
          facts: FindingFacts = FACTS, actor: str = "user:audrey") -> None:
    FindingService(ledger).waive(c.WaiveFinding(facts.finding_id, "known flaky pager", until),
                                 facts, ctx(actor, at))


def accept(ledger: Ledger, until: datetime, at: datetime | None = None,
           facts: FindingFacts = FACTS) -> None:
    FindingService(ledger).accept_risk(
        c.AcceptFindingRisk(facts.finding_id, "vendor fix due in Q3", until), facts, ctx(at=at))


def reopen(ledger: Ledger, at: datetime | None = None, facts: FindingFacts = FACTS) -> None:
    FindingService(ledger).reopen(c.ReopenFinding(facts.finding_id, "the pager is fixed"),
                                  facts, ctx(at=at))


# -- the first decision ----------------------------------------------------------------


def test_waiving_an_open_finding_tracks_it_then_records_the_waiver(ledger: Ledger) -> None:
    until = NOW + timedelta(days=30)

    waive(ledger, until)

    assert decisions(ledger) == [
        ("FindingTracked", {"finding_id": FACTS.finding_id, "team_id": TEAM}),
        ("FindingWaived", {"finding_id": FACTS.finding_id, "team_id": TEAM,
                           "reason": "known flaky pager", "until": "2026-04-09T12:00:00.000000Z"}),
    ]
    [tracked, waived] = public_events(ledger)
    assert tracked.originator_id == waived.originator_id == finding_aggregate_id(FACTS.finding_id)
    assert waived.meta["actor"] == "user:audrey"
    finding = ledger.load(Finding, finding_aggregate_id(FACTS.finding_id))
    assert (finding.control, finding.subject_id, finding.owning_team()) == (
        "ack_sla", FACTS.subject_id, TEAM)
    assert finding.state_at(NOW) == "waived"


def test_a_waiver_needs_no_until_and_holds_for_good(ledger: Ledger) -> None:
    waive(ledger)

    assert decisions(ledger)[-1][1]["until"] is None
    finding = ledger.load(Finding, finding_aggregate_id(FACTS.finding_id))
    assert finding.state_at(NOW + timedelta(days=3650)) == "waived"


def test_accepting_a_risk_records_its_until(ledger: Ledger) -> None:
    accept(ledger, NOW + timedelta(days=90))

    assert decisions(ledger)[-1] == ("FindingRiskAccepted", {
        "finding_id": FACTS.finding_id, "team_id": TEAM, "reason": "vendor fix due in Q3",
        "until": "2026-06-08T12:00:00.000000Z"})


def test_the_aggregate_id_is_stable_per_finding_id() -> None:
    assert finding_aggregate_id("ack_sla:x") == finding_aggregate_id("ack_sla:x")
    assert finding_aggregate_id("ack_sla:x") != finding_aggregate_id("ack_sla:y")


# -- until ------------------------------------------------------------------------------


@pytest.mark.parametrize("until", [NOW, NOW - timedelta(seconds=1)])
def test_an_until_not_after_the_decision_is_refused(ledger: Ledger, until: datetime) -> None:
    with pytest.raises(ValidationError, match="must be after the decision"):
        waive(ledger, until)
    with pytest.raises(ValidationError, match="must be after the decision"):
        accept(ledger, until)
    assert public_events(ledger) == []


def test_a_risk_is_accepted_for_at_most_a_year(ledger: Ledger) -> None:
    with pytest.raises(ValidationError, match="at most a year") as refused:
        accept(ledger, one_year_after(NOW) + timedelta(seconds=1))
    assert refused.value.details["latest_until"] == "2027-03-10T12:00:00.000000Z"
    assert public_events(ledger) == []

    accept(ledger, one_year_after(NOW))
    assert decisions(ledger)[-1][0] == "FindingRiskAccepted"


def test_a_year_is_judged_from_the_decisions_own_time(ledger: Ledger) -> None:
    decided = NOW - timedelta(days=2)

    with pytest.raises(ValidationError, match="at most a year"):
        accept(ledger, one_year_after(NOW), at=decided)

    accept(ledger, one_year_after(decided), at=decided)
    assert decisions(ledger)[-1][0] == "FindingRiskAccepted"


def test_a_year_after_29_february_is_28_february() -> None:
    leap = datetime(2028, 2, 29, 9, 0, tzinfo=UTC)
    assert one_year_after(leap) == datetime(2029, 2, 28, 9, 0, tzinfo=UTC)


def test_a_waiver_past_its_until_has_lapsed_so_the_finding_is_open_again(
        ledger: Ledger) -> None:
    until = NOW + timedelta(days=7)
    waive(ledger, until)
    finding = ledger.load(Finding, finding_aggregate_id(FACTS.finding_id))

    assert finding.state_at(until - timedelta(seconds=1)) == "waived"
    assert finding.state_at(until) == "open"


# -- the state machine ------------------------------------------------------------------


def test_a_waived_finding_is_not_waived_or_accepted_again(ledger: Ledger) -> None:
    waive(ledger, NOW + timedelta(days=7))
    before = len(public_events(ledger))

    with pytest.raises(DomainError, match="already waived by user:audrey until") as refused:
        waive(ledger)
    assert refused.value.details["state"] == "waived"
    with pytest.raises(DomainError, match="already waived"):
        accept(ledger, NOW + timedelta(days=30))
    assert len(public_events(ledger)) == before


def test_a_risk_accepted_finding_is_not_waived(ledger: Ledger) -> None:
    accept(ledger, NOW + timedelta(days=30))

    with pytest.raises(DomainError, match="already accepted as a risk"):
        waive(ledger)


def test_reopening_a_waived_finding_records_it_and_it_can_be_decided_again(
        ledger: Ledger) -> None:
    waive(ledger)
    reopen(ledger)

    assert decisions(ledger)[-1] == ("FindingReopened", {
        "finding_id": FACTS.finding_id, "team_id": TEAM, "reason": "the pager is fixed"})
    finding = ledger.load(Finding, finding_aggregate_id(FACTS.finding_id))
    assert finding.state_at(NOW) == "open"

    accept(ledger, NOW + timedelta(days=30))
    assert [name for name, _ in decisions(ledger)] == [
        "FindingTracked", "FindingWaived", "FindingReopened", "FindingRiskAccepted"]


def test_an_open_finding_is_not_reopened_and_nothing_is_tracked(ledger: Ledger) -> None:
    with pytest.raises(DomainError, match="is open: only a waived or risk-accepted"):
        reopen(ledger)
    assert public_events(ledger) == []

    waive(ledger)
    reopen(ledger)
    with pytest.raises(DomainError, match="is open"):
        reopen(ledger)


def test_a_lapsed_waiver_is_not_reopened_but_the_finding_may_be_waived_again(
        ledger: Ledger) -> None:
    waive(ledger, NOW - timedelta(minutes=1), at=NOW - timedelta(hours=1))

    with pytest.raises(DomainError, match="which has passed"):
        reopen(ledger)

    waive(ledger, NOW + timedelta(days=7))
    assert [name for name, _ in decisions(ledger)][-2:] == ["FindingWaived", "FindingWaived"]


@pytest.mark.parametrize("decide", [
    lambda ledger, facts: waive(ledger, facts=facts),
    lambda ledger, facts: accept(ledger, NOW + timedelta(days=1), facts=facts),
    lambda ledger, facts: reopen(ledger, facts=facts),
])
def test_a_resolved_finding_takes_no_decision(ledger: Ledger, decide: Any) -> None:
    resolved = replace(FACTS, status="resolved")

    with pytest.raises(DomainError, match="resolved finding stays resolved"):
        decide(ledger, resolved)
    assert public_events(ledger) == []


def test_a_waived_finding_resolved_since_is_not_reopened(ledger: Ledger) -> None:
    waive(ledger)

    with pytest.raises(DomainError, match="is resolved"):
        reopen(ledger, facts=replace(FACTS, status="resolved"))


# -- who may decide ---------------------------------------------------------------------


def test_nobody_named_in_the_evidence_decides_on_the_finding(ledger: Ledger) -> None:
    with pytest.raises(SegregationOfDutiesError, match="segregation of duties"):
        waive(ledger, actor="user:max")
    assert public_events(ledger) == []
    assert issubclass(SegregationOfDutiesError, OutOfScopeError)  # answered 403


def test_a_caller_of_other_teams_tracks_nothing(ledger: Ledger) -> None:
    other = frozenset({"2f9d0c1e-6b1a-4a34-8d7e-5c3b2a1f0e9d"})
    with pytest.raises(OutOfScopeError):
        FindingService(ledger).waive(c.WaiveFinding(FACTS.finding_id, "why"), FACTS,
                                     ctx(teams=other))
    assert public_events(ledger) == []


def test_a_decision_needs_a_reason(ledger: Ledger) -> None:
    with pytest.raises(DomainError, match="needs a reason"):
        FindingService(ledger).waive(c.WaiveFinding(FACTS.finding_id, "  "), FACTS, ctx())
    assert public_events(ledger) == []


# -- business time ----------------------------------------------------------------------


def test_a_decision_before_the_finding_opened_is_out_of_order(ledger: Ledger) -> None:
    with pytest.raises(OutOfOrderError, match="before its opening") as refused:
        waive(ledger, at=FACTS.opened_at - timedelta(minutes=1))
    assert refused.value.details["must_not_precede"] == "2026-03-07T12:00:00.000000Z"
    assert public_events(ledger) == []


def test_a_decision_before_the_latest_decision_is_out_of_order(ledger: Ledger) -> None:
    waive(ledger, at=NOW - timedelta(hours=1))

    with pytest.raises(OutOfOrderError, match="FindingWaived"):
        reopen(ledger, at=NOW - timedelta(hours=2))


def test_a_decision_keeps_its_business_time(ledger: Ledger) -> None:
    decided = NOW - timedelta(hours=5)

    waive(ledger, at=decided)

    assert public_events(ledger)[-1].occurred_at == decided
