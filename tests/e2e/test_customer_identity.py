"""``POST /v1/feedback`` takes an optional ``customer`` (``name``, ``email``): who gave
customer feedback, shown on the feedback item; refused on peer and manager feedback."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api


def _give(api: Api, team: str, expect: int, **extra: Any) -> Any:
    body = {"kind": "customer", "team_id": team, "text": "checkout was slow", **extra}
    return api.post("/v1/feedback", body, expect=expect).json()


def test_customer_feedback_names_the_customer_who_gave_it(api: Api) -> None:
    team = api.team()
    given = _give(api, team, 201, customer={"name": "Ana Silva", "email": "ana@example.org"})

    item = api.get(f"/v1/feedback/{given['id']}", min_position=given["position"])
    assert item["customer"] == {"name": "Ana Silva", "email": "ana@example.org"}
    assert item["text"] == "checkout was slow"


def test_customer_feedback_without_a_customer_has_none(api: Api) -> None:
    given = _give(api, api.team(), 201)
    assert api.get(f"/v1/feedback/{given['id']}", min_position=given["position"])[
        "customer"] is None


@pytest.mark.parametrize("customer", [
    {"name": "Ana"}, {"name": "Ana", "email": "not-an-email"},
    {"name": "", "email": "ana@example.org"},
    {"name": "Ana", "email": "ana@example.org", "phone": "+351"},
])
def test_a_malformed_customer_is_422_and_appends_nothing(api: Api, customer: Any) -> None:
    team = api.team()
    head = api.head()
    problem = _give(api, team, 422, customer=customer)
    assert problem["status"] == 422
    assert api.head() == head


def test_a_customer_on_peer_feedback_is_422_and_appends_nothing(api: Api) -> None:
    team = api.team()
    member = api.member(team)
    head = api.head()
    body = {"kind": "peer", "team_id": team, "text": "great handover",
            "subject_member_id": member,
            "customer": {"name": "Ana", "email": "ana@example.org"}}
    problem = api.post("/v1/feedback", body, expect=422).json()
    assert "customer feedback only" in problem["detail"]
    assert api.head() == head
