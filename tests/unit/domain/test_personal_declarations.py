"""Declared personal data, as specifications: each event class that holds personal
data says which fields and whose, and the declaration names real fields."""

from __future__ import annotations

import typing

import pytest

from domain.catalog import ALL_EVENTS
from domain.feedback.aggregate import Feedback
from domain.personal import (
    CUSTOMER,
    FEEDBACK_SUBJECT,
    MEMBER,
    MEMBER_RECORD,
    personal_fields,
    value_at,
)
from domain.teams.aggregate import Team
from domain.teams.directory import MemberRecord, PrincipalRecord


def _has_path(event_class: type, path: str) -> bool:
    hints: dict[str, typing.Any] = typing.get_type_hints(event_class)
    head, *rest = path.split(".")
    if head not in hints:
        return False
    hint = hints[head]
    for part in rest:
        typed = [a for a in (hint, *typing.get_args(hint)) if typing.is_typeddict(a)]
        if not typed or part not in typing.get_type_hints(typed[0]):
            return False
        hint = typing.get_type_hints(typed[0])[part]
    return True


def test_the_people_in_the_history_are_declared_where_their_data_is() -> None:
    member = {"name": MEMBER, "email": MEMBER, "principal": MEMBER}  # the binding too
    assert personal_fields(Team.MemberJoined) == member
    assert personal_fields(Team.MemberMovedIn) == member
    assert personal_fields(Team.PrincipalBound) == {"principal": MEMBER,
                                                    "previous_principal": MEMBER}
    assert personal_fields(Feedback.PeerFeedbackGiven) == {"text": FEEDBACK_SUBJECT}
    assert personal_fields(Feedback.CustomerFeedbackReceived) == {
        "text": CUSTOMER, "customer.name": CUSTOMER, "customer.email": CUSTOMER}


def test_an_event_without_personal_data_declares_none() -> None:
    assert personal_fields(Team.TeamFormed) == {}
    assert personal_fields(Feedback.FeedbackTriaged) == {}


@pytest.mark.parametrize("event_class", ALL_EVENTS, ids=lambda c: c.__qualname__)
def test_every_declaration_names_fields_of_its_event_and_a_field_naming_the_subject(
    event_class: type,
) -> None:
    for path, subject in personal_fields(event_class).items():
        assert _has_path(event_class, path), f"{event_class.__qualname__} has no {path}"
        assert _has_path(event_class, subject.field), (
            f"{event_class.__qualname__} has no {subject.field} naming the {subject.kind}")


def test_a_dotted_path_reads_inside_an_object_and_is_none_where_missing() -> None:
    data = {"customer": {"email": "ana@example.org"}, "text": "slow"}
    assert value_at(data, "customer.email") == "ana@example.org"
    assert value_at(data, "text") == "slow"
    assert value_at({"customer": None}, "customer.email") is None


def test_the_write_side_directory_keeps_a_members_principal_as_their_personal_data() -> None:
    assert personal_fields(MemberRecord.Registered) == {"principal": MEMBER_RECORD}
    assert personal_fields(MemberRecord.Bound) == {"principal": MEMBER_RECORD}
    assert personal_fields(PrincipalRecord.Claimed) == {"principal": MEMBER}
    assert personal_fields(PrincipalRecord.Reclaimed) == {}  # a member id, no principal
