"""Risks, as specifications: given these events, when this command, then these events
(or this error)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.compliance.finding import SegregationOfDutiesError
from domain.envelope import envelope_of
from domain.errors import DomainError, ValidationError
from domain.meta import CommandMeta
from domain.risks.aggregate import Risk

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
RISK_ID = UUID("00000000-0000-4000-8000-0000000000c1")
TEAM_ID = UUID("00000000-0000-4000-8000-00000000000a")
OWNER_ID = UUID("00000000-0000-4000-8000-000000000001")
APPROVER_ID = UUID("00000000-0000-4000-8000-000000000002")
TEAM = str(TEAM_ID)


def meta(days: int = 0) -> CommandMeta:
    return CommandMeta(actor="user:lead", now=NOW + timedelta(days=days))


def then(risk: Risk) -> list[tuple[str, dict[str, Any]]]:
    return [(type(e).__name__, envelope_of(e, 0).data) for e in risk.collect_events()]


def identify(**overrides: Any) -> Risk:
    fields: dict[str, Any] = {
        "risk_id": RISK_ID, "team_id": TEAM_ID, "title": "Primary DB region outage",
        "category": "technical", "likelihood": 3, "impact": 5, "owner_id": OWNER_ID,
        "review_by": "2025-04-01", "meta": meta(),
    }
    fields.update(overrides)
    return Risk.identify(**fields)


def given_risk(**overrides: Any) -> Risk:
    risk = identify(**overrides)
    risk.collect_events()
    return risk


def given_accept_treatment() -> Risk:
    risk = given_risk()
    risk.treat("accept", "", "cheaper to absorb than to fix", meta(days=1))
    risk.collect_events()
    return risk


# -- identifying ---------------------------------------------------------------------


def test_identifying_a_risk_records_its_inherent_rating_owner_and_review_date() -> None:
    risk = identify()

    assert then(risk) == [("RiskIdentified", {
        "team_id": TEAM, "title": "Primary DB region outage", "category": "technical",
        "likelihood": 3, "impact": 5, "owner_id": str(OWNER_ID), "review_by": "2025-04-01"})]
    assert (risk.status, risk.residual_score) == ("open", 15)


@pytest.mark.parametrize("field", ["likelihood", "impact"])
@pytest.mark.parametrize("value", [0, 6, True, 2.5])
def test_ratings_are_whole_numbers_from_1_to_5(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=f"{field} must be a whole number from 1 to 5"):
        identify(**{field: value})


def test_an_unknown_category_is_refused() -> None:
    with pytest.raises(ValidationError, match="category must be one of technical"):
        identify(category="weather")


@pytest.mark.parametrize("review_by", ["2025-03-02", "03/04/2025", ""])
def test_review_by_is_a_date_not_before_the_day_the_risk_is_identified(review_by: str) -> None:
    with pytest.raises(ValidationError, match="review_by"):
        identify(review_by=review_by)


# -- assessing -----------------------------------------------------------------------


def test_an_assessment_records_inherent_and_residual_ratings_and_the_next_review() -> None:
    risk = given_risk()

    risk.assess(4, 5, 2, 3, "failover tested", "2025-06-01", meta(days=10))

    assert then(risk) == [("RiskAssessed", {
        "team_id": TEAM, "likelihood": 4, "impact": 5, "residual_likelihood": 2,
        "residual_impact": 3, "note": "failover tested", "review_by": "2025-06-01"})]
    assert risk.residual_score == 6


def test_an_assessment_without_a_review_date_keeps_the_cadence() -> None:
    risk = given_risk()  # identified 2025-03-03, review by 2025-04-01: every 29 days

    risk.assess(3, 5, 3, 4, "", None, meta(days=20))  # reviewed 2025-03-23

    [(_, data)] = then(risk)
    assert data["review_by"] == "2025-04-21"


def test_a_residual_score_above_the_inherent_one_is_refused() -> None:
    risk = given_risk()

    with pytest.raises(ValidationError, match="can't exceed the inherent score"):
        risk.assess(2, 2, 3, 2, "", None, meta(days=1))


def test_a_closed_risk_is_not_assessed() -> None:
    risk = given_risk()
    risk.close("service retired", meta(days=1))

    with pytest.raises(DomainError, match="is closed"):
        risk.assess(3, 5, 1, 1, "", None, meta(days=2))


# -- treating and accepting --------------------------------------------------------------


def test_a_treatment_records_how_the_risk_is_handled() -> None:
    risk = given_risk()

    risk.treat("mitigate", "multi-region replica", "too likely to leave", meta(days=1))

    assert then(risk) == [("RiskTreated", {
        "team_id": TEAM, "treatment": "mitigate", "plan": "multi-region replica",
        "reason": "too likely to leave"})]
    assert risk.status == "treated"


@pytest.mark.parametrize("treatment", ["mitigate", "transfer", "avoid"])
def test_treatments_other_than_accept_need_a_plan(treatment: str) -> None:
    with pytest.raises(ValidationError, match="needs a plan"):
        given_risk().treat(treatment, " ", "because", meta(days=1))


def test_an_unknown_treatment_is_refused() -> None:
    with pytest.raises(ValidationError, match="treatment must be one of mitigate"):
        given_risk().treat("ignore", "", "because", meta(days=1))


def test_the_same_treatment_twice_is_refused() -> None:
    risk = given_accept_treatment()

    with pytest.raises(DomainError, match="already treated with accept"):
        risk.treat("accept", "", "still cheaper", meta(days=2))


def test_an_acceptance_is_approved_by_a_member_other_than_the_owner() -> None:
    risk = given_accept_treatment()

    risk.accept(APPROVER_ID, "within appetite", meta(days=2))

    assert then(risk) == [("RiskAccepted", {
        "team_id": TEAM, "approver_id": str(APPROVER_ID), "reason": "within appetite"})]
    assert risk.status == "accepted"


def test_the_owner_may_not_approve_the_acceptance_of_their_own_risk() -> None:
    risk = given_accept_treatment()

    with pytest.raises(SegregationOfDutiesError, match="other than its owner"):
        risk.accept(OWNER_ID, "fine by me", meta(days=2))
    assert then(risk) == []


def test_only_an_accept_treatment_is_approved() -> None:
    risk = given_risk()
    risk.treat("mitigate", "replica", "because", meta(days=1))

    with pytest.raises(DomainError, match="no accept treatment to approve"):
        risk.accept(APPROVER_ID, "ok", meta(days=2))


def test_an_approved_acceptance_is_not_approved_again() -> None:
    risk = given_accept_treatment()
    risk.accept(APPROVER_ID, "ok", meta(days=2))

    with pytest.raises(DomainError, match="already approved"):
        risk.accept(APPROVER_ID, "ok again", meta(days=3))


def test_a_new_treatment_withdraws_the_approval() -> None:
    risk = given_accept_treatment()
    risk.accept(APPROVER_ID, "ok", meta(days=2))

    risk.treat("mitigate", "replica after all", "appetite changed", meta(days=3))

    assert (risk.status, risk.approver_id) == ("treated", None)


# -- closing and linking -----------------------------------------------------------------


def test_closing_needs_a_reason_and_happens_once() -> None:
    risk = given_risk()
    with pytest.raises(DomainError, match="needs a reason"):
        risk.close("  ", meta(days=1))

    risk.close("vendor replaced", meta(days=1))
    assert then(risk) == [("RiskClosed", {"team_id": TEAM, "reason": "vendor replaced"})]
    with pytest.raises(DomainError, match="is closed"):
        risk.close("again", meta(days=2))


def test_an_incident_is_linked_once_per_plan() -> None:
    risk = given_risk()
    incident = UUID("00000000-0000-4000-8000-0000000000d1")
    plan = UUID("00000000-0000-4000-8000-0000000000e1")

    risk.link_incident(incident, plan, True, meta(days=1))
    assert then(risk) == [("RiskIncidentLinked", {
        "team_id": TEAM, "incident_id": str(incident), "plan_id": str(plan),
        "plan_followed": True})]
    with pytest.raises(DomainError, match="already linked"):
        risk.link_incident(incident, plan, False, meta(days=2))


def test_changes_are_recorded_in_the_order_they_happened() -> None:
    risk = given_risk()
    risk.treat("accept", "", "cheap", meta(days=5))

    with pytest.raises(DomainError, match="before its latest event"):
        risk.accept(APPROVER_ID, "ok", meta(days=4))
