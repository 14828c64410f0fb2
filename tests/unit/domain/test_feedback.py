"""Feedback, as specifications: given these events, when this command, then these
events (or this error).

Policy: feedback may be triaged again while it is unresolved (re-prioritised or handed
to another owner); a triage that changes neither priority nor owner is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.envelope import envelope_of
from domain.errors import DomainError, NotFoundError, ValidationError
from domain.feedback import commands as c
from domain.feedback.aggregate import Feedback
from domain.feedback.service import FeedbackService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
FEEDBACK_ID = UUID("00000000-0000-4000-8000-0000000000c1")
TEAM_ID = UUID("00000000-0000-4000-8000-00000000000a")
ADA = UUID("00000000-0000-4000-8000-000000000001")
BOB = UUID("00000000-0000-4000-8000-000000000002")


def meta(minutes: int = 0, actor: str = "user:support") -> CommandMeta:
    return CommandMeta(actor=actor, now=NOW + timedelta(minutes=minutes))


def then(feedback: Feedback) -> list[tuple[str, dict[str, Any]]]:
    """The events the last command(s) recorded, as (name, wire data)."""
    return [(type(e).__name__, envelope_of(e, 0).data) for e in feedback.collect_events()]


def give(kind: str = "customer", **overrides: Any) -> Feedback:
    fields: dict[str, Any] = {
        "feedback_id": FEEDBACK_ID, "kind": kind, "team_id": TEAM_ID,
        "text": "checkout was slow", "subject_member_id": None, "channel": None,
        "score": None, "meta": meta(),
    }
    if kind != "customer":
        fields["subject_member_id"] = ADA
    fields.update(overrides)
    return Feedback.give(**fields)


def given(*steps: str) -> Feedback:
    feedback = give()
    for minute, step in enumerate(steps, start=1):
        if step == "triaged":
            feedback.triage("high", BOB, meta(minute))
        elif step == "resolved":
            feedback.resolve("fixed the cache", meta(minute))
    feedback.collect_events()
    return feedback


# -- customer feedback ---------------------------------------------------------------


def test_customer_feedback_may_name_the_customer_who_gave_it() -> None:
    feedback = give(customer={"name": " Ana Silva ", "email": " ana@example.org "})
    assert then(feedback)[0][1]["customer"] == {"name": "Ana Silva", "email": "ana@example.org"}
    assert feedback.customer == {"name": "Ana Silva", "email": "ana@example.org"}


def test_customer_feedback_without_a_customer_records_none() -> None:
    assert then(give())[0][1]["customer"] is None


@pytest.mark.parametrize("customer", [
    {"name": " ", "email": "ana@example.org"}, {"name": "Ana", "email": "not an email"},
])
def test_a_customer_needs_a_name_and_an_email_address(customer: Any) -> None:
    with pytest.raises(DomainError):
        give(customer=customer)


def test_a_customer_applies_to_customer_feedback_only() -> None:
    with pytest.raises(ValidationError, match="customer feedback only"):
        give("peer", customer={"name": "Ana", "email": "ana@example.org"})


def test_customer_feedback_records_channel_score_and_text() -> None:
    feedback = give(channel="email", score=3, text=" checkout was slow ")

    assert then(feedback) == [("CustomerFeedbackReceived", {
        "team_id": str(TEAM_ID), "channel": "email", "score": 3,
        "text": "checkout was slow", "subject_member_id": None, "customer": None,
    })]
    assert (feedback.kind, feedback.status) == ("customer", "new")


@pytest.mark.parametrize("channel", [None, "", "  "])
def test_customer_feedback_channel_defaults_to_unspecified(channel: str | None) -> None:
    feedback = give(channel=channel)

    assert then(feedback)[0][1]["channel"] == "unspecified"


def test_customer_feedback_may_name_a_member_and_may_omit_the_score() -> None:
    feedback = give(subject_member_id=ADA)

    data = then(feedback)[0][1]
    assert (data["subject_member_id"], data["score"]) == (str(ADA), None)


@pytest.mark.parametrize("score", [0, 10])
def test_scores_from_zero_to_ten_are_accepted(score: int) -> None:
    assert give(score=score).score == score


@pytest.mark.parametrize("score", [-1, 11, 7.5, True, "7"])
def test_a_score_must_be_a_whole_number_from_zero_to_ten(score: Any) -> None:
    with pytest.raises(ValidationError, match="score"):
        give(score=score)


def test_feedback_needs_text() -> None:
    with pytest.raises(DomainError, match="text"):
        give(text="   ")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="kind"):
        give(kind="anonymous")


# -- peer and manager feedback -------------------------------------------------------


@pytest.mark.parametrize("kind", ["peer", "manager"])
def test_peer_and_manager_feedback_record_kind_and_subject(kind: str) -> None:
    feedback = give(kind, score=8, text="great incident command")

    assert then(feedback) == [("PeerFeedbackGiven", {
        "team_id": str(TEAM_ID), "kind": kind, "subject_member_id": str(ADA),
        "score": 8, "text": "great incident command",
    })]
    assert feedback.channel is None


@pytest.mark.parametrize("kind", ["peer", "manager"])
def test_peer_and_manager_feedback_need_a_subject_member(kind: str) -> None:
    with pytest.raises(DomainError, match="subject_member_id"):
        give(kind, subject_member_id=None)


def test_peer_feedback_scores_are_checked_too() -> None:
    with pytest.raises(ValidationError, match="score"):
        give("peer", score=11)


def test_a_channel_applies_to_customer_feedback_only() -> None:
    with pytest.raises(ValidationError, match="channel"):
        give("manager", channel="1:1")


# -- triage --------------------------------------------------------------------------


def test_triage_records_priority_and_owner() -> None:
    feedback = given()

    feedback.triage(" Urgent ", BOB, meta(5))

    assert then(feedback) == [("FeedbackTriaged", {"priority": "urgent", "owner_id": str(BOB)})]
    assert (feedback.status, feedback.priority, feedback.owner_id) == (
        "triaged", "urgent", str(BOB),
    )


@pytest.mark.parametrize("priority", ["critical", "", "p1"])
def test_an_unknown_priority_is_refused(priority: str) -> None:
    feedback = given()

    with pytest.raises(ValidationError, match="priority"):
        feedback.triage(priority, BOB, meta(5))


def test_unresolved_feedback_can_be_triaged_again() -> None:
    feedback = given("triaged")

    feedback.triage("low", BOB, meta(9))
    feedback.triage("low", ADA, meta(10))

    assert [data for _, data in then(feedback)] == [
        {"priority": "low", "owner_id": str(BOB)},
        {"priority": "low", "owner_id": str(ADA)},
    ]
    assert len(feedback.triage_history) == 3


def test_a_triage_that_changes_nothing_is_refused() -> None:
    feedback = given("triaged")

    with pytest.raises(DomainError, match="already triaged"):
        feedback.triage("high", BOB, meta(9))


def test_resolved_feedback_cannot_be_triaged() -> None:
    feedback = given("triaged", "resolved")

    with pytest.raises(DomainError, match="is resolved"):
        feedback.triage("low", ADA, meta(9))


# -- resolution ----------------------------------------------------------------------


def test_resolving_triaged_feedback_records_the_resolution() -> None:
    feedback = given("triaged")

    feedback.resolve(" cache warmed on deploy ", meta(60))

    assert then(feedback) == [("FeedbackResolved", {"resolution": "cache warmed on deploy"})]
    assert (feedback.status, feedback.resolution) == ("resolved", "cache warmed on deploy")


def test_feedback_must_be_triaged_before_it_is_resolved() -> None:
    feedback = given()

    with pytest.raises(DomainError, match="triaged before"):
        feedback.resolve("fixed", meta(60))
    assert then(feedback) == []


def test_feedback_is_resolved_only_once() -> None:
    feedback = given("triaged", "resolved")

    with pytest.raises(DomainError, match="is resolved"):
        feedback.resolve("fixed again", meta(60))


def test_a_resolution_needs_a_description() -> None:
    feedback = given("triaged")

    with pytest.raises(DomainError, match="resolution"):
        feedback.resolve("  ", meta(60))


# -- through the ledger ------------------------------------------------------------


def test_feedback_lives_through_the_ledger(ledger: Ledger) -> None:
    ctx = CommandContext(meta())
    teams = TeamService(ledger)
    team = teams.form(tc.FormTeam(name="Payments SRE"), ctx)
    for member_id, name in ((ADA, "Ada"), (BOB, "Bob")):  # references are to real members
        teams.add_member(tc.AddMember(team.id, name, f"{name}@x.test", "engineer", member_id), ctx)
    service = FeedbackService(ledger)

    customer = service.give(c.GiveFeedback("customer", team.id, "slow", score=4), ctx)
    peer = service.give(
        c.GiveFeedback("peer", team.id, "great handover", subject_member_id=ADA), ctx
    )
    service.triage(c.TriageFeedback(customer.id, "medium", BOB), ctx)
    resolved = service.resolve(c.ResolveFeedback(customer.id, "added an index"), ctx)

    assert resolved.version == 3
    assert (ledger.load(Feedback, customer.id).status, ledger.load(Feedback, peer.id).kind) == (
        "resolved", "peer",
    )


def test_feedback_for_an_unknown_team_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError, match="team"):
        FeedbackService(ledger).give(
            c.GiveFeedback("customer", uuid4(), "slow"), CommandContext(meta())
        )


def test_triaging_unknown_feedback_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError, match="feedback"):
        FeedbackService(ledger).triage(
            c.TriageFeedback(uuid4(), "low", BOB), CommandContext(meta())
        )
