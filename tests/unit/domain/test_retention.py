"""When personal data is due under retention, as specifications: given a subject, the
periods and a time, then due or not (pure: no store, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.privacy.retention import (
    Candidate,
    RetentionPeriods,
    due_at,
    is_due,
    retention_reason,
)

LATEST_FEEDBACK = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LEFT = datetime(2026, 1, 10, 17, 0, tzinfo=UTC)
PERIODS = RetentionPeriods(customer_days=365, member_days=30)


def test_a_customer_is_due_once_the_period_after_their_latest_feedback_is_over() -> None:
    customer = Candidate("customer", "c-1", LATEST_FEEDBACK)
    assert due_at(customer, PERIODS) == LATEST_FEEDBACK + timedelta(days=365)
    assert not is_due(customer, PERIODS, LATEST_FEEDBACK + timedelta(days=365, seconds=-1))
    assert is_due(customer, PERIODS, LATEST_FEEDBACK + timedelta(days=365))


def test_a_member_who_left_is_due_the_period_after_leaving() -> None:
    member = Candidate("member", "m-1", LEFT)
    assert not is_due(member, PERIODS, LEFT + timedelta(days=29))
    assert is_due(member, PERIODS, LEFT + timedelta(days=30))


def test_an_active_member_is_never_due() -> None:
    active = Candidate("member", "m-2", None)
    assert due_at(active, PERIODS) is None
    assert not is_due(active, PERIODS, LEFT + timedelta(days=10_000))


def test_a_kind_without_a_period_is_kept() -> None:
    kept = RetentionPeriods(customer_days=None, member_days=30)
    customer = Candidate("customer", "c-1", LATEST_FEEDBACK)
    assert due_at(customer, kept) is None
    assert not is_due(customer, kept, LATEST_FEEDBACK + timedelta(days=10_000))
    assert is_due(Candidate("member", "m-1", LEFT), kept, LEFT + timedelta(days=31))


def test_a_subject_erased_already_is_not_due_again() -> None:
    erased = Candidate("customer", "c-1", LATEST_FEEDBACK, erased=True)
    assert not is_due(erased, PERIODS, LATEST_FEEDBACK + timedelta(days=400))


def test_the_reason_names_the_kind_and_the_period() -> None:
    assert retention_reason("customer", PERIODS) == (
        "retention: customer personal data kept 365 days after the customer's latest "
        "feedback")
    assert retention_reason("member", PERIODS) == (
        "retention: member personal data kept 30 days after the day the member left")
