"""Legal holds over HTTP, as specifications: an admin places a hold on a team or a data
subject and releases it; while it is active, erasing what it covers is a 409 naming the
hold; its events hold no personal data; a team-scoped admin holds only its teams."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import orjson
import pytest
from fastapi.testclient import TestClient

from domain.privacy.gates import HoldGates
from infra.event_store import key_store
from infra.settings import Settings
from services.api.app import create_app
from tests.e2e.conftest import SCOPED_ADMIN_TOKEN, SCOPED_TEAM, Api, with_scoped_admin
from tests.support.contract import assert_context_published, validated_types

PLACED = "opsledger.privacy.LegalHoldPlaced.v1"
RELEASED = "opsledger.privacy.LegalHoldReleased.v1"


def _customer(api: Api, team: str) -> str:
    """A customer's feedback to ``team``; answers the customer's (unique) email."""
    email = f"cy.{uuid4().hex[:10]}@example.net"
    api.post("/v1/feedback", {"kind": "customer", "team_id": team, "text": "slow", "score": 2,
                              "customer": {"name": "Cy Customer", "email": email}},
             expect=201)
    return email


def _hold(api: Api, expect: int = 201, **body: Any) -> Any:
    return api.post("/v1/legal-holds", {"reason": "litigation 2026-17", **body}, expect=expect)


def _events(api: Api, type_: str) -> list[dict[str, Any]]:
    return [e for e in api.get("/v1/events", after=0, limit=500)["items"] if e["type"] == type_]


def test_a_placed_hold_is_answered_listed_and_released_once(api: Api) -> None:
    team = api.team()
    placed = _hold(api, team_id=team).json()
    assert placed["hold_id"] == placed["id"]
    assert placed["scope"] == {"team_id": team}
    assert (placed["reason"], placed["placed_by"], placed["active"]) == (
        "litigation 2026-17", "user:admin", True)
    assert placed["placed_at"]

    head = api.head()
    one = api.get(f"/v1/legal-holds/{placed['hold_id']}", min_position=head)
    shown = ("hold_id", "scope", "team_id", "reason", "placed_by", "placed_at", "active")
    assert {k: one[k] for k in shown} == {k: placed[k] for k in shown}
    assert [h["hold_id"] for h in api.get("/v1/legal-holds", active="true")["items"]] == [
        placed["hold_id"]]

    released = api.post(f"/v1/legal-holds/{placed['hold_id']}/release",
                        {"reason": "case closed"}, expect=200).json()
    assert (released["active"], released["released_by"], released["release_reason"]) == (
        False, "user:admin", "case closed")
    again = api.post(f"/v1/legal-holds/{placed['hold_id']}/release", {"reason": "again"},
                     expect=409).json()
    assert again["hold_id"] == placed["hold_id"]
    head = api.head()
    assert api.get("/v1/legal-holds", active="true", min_position=head)["items"] == []
    assert [h["hold_id"] for h in api.get("/v1/legal-holds", active="false")["items"]] == [
        placed["hold_id"]]


def test_the_hold_events_name_the_hold_and_team_and_no_personal_data(
    api: Api, settings: Settings,
) -> None:
    team = api.team()
    email = _customer(api, team)
    on_team = _hold(api, team_id=team).json()
    on_customer = _hold(api, subject={"kind": "customer", "email": email.upper()}).json()
    api.post(f"/v1/legal-holds/{on_team['hold_id']}/release", {"reason": "done"}, expect=200)

    placed = _events(api, PLACED)
    assert placed[0]["subject"] == on_team["hold_id"]
    assert placed[0]["data"] == {"hold_id": on_team["hold_id"], "scope": "team",
                                 "team_id": team, "subject_id": None,
                                 "reason": "litigation 2026-17"}
    keys = key_store(api.client.app.state.runtime.ledger)  # type: ignore[attr-defined]
    assert keys is not None
    customer_id = str(keys.find_customer(email)).removeprefix("customer:")
    assert placed[1]["data"]["subject_id"] == customer_id
    assert on_customer["scope"] == {"subject": {"kind": "customer", "customer_id": customer_id}}
    assert placed[1]["data"]["team_id"] is None
    released = _events(api, RELEASED)
    assert released[0]["data"] == {"hold_id": on_team["hold_id"], "team_id": team,
                                   "reason": "done"}
    assert released[0]["actor"] == "user:admin"
    assert email.split("@")[0] not in orjson.dumps(placed + released).decode().lower()


def test_unknown_holds_teams_and_subjects_are_404(api: Api) -> None:
    api.get(f"/v1/legal-holds/{uuid4()}", expect=404)
    api.post(f"/v1/legal-holds/{uuid4()}/release", {"reason": "r"}, expect=404)
    _hold(api, team_id=str(uuid4()), expect=404)
    _hold(api, subject={"kind": "member", "member_id": str(uuid4())}, expect=404)
    _hold(api, subject={"kind": "customer", "email": "nobody@example.net"}, expect=404)


@pytest.mark.parametrize("body", [
    {},
    {"team_id": "TEAM", "subject": {"kind": "member", "member_id": "MEMBER"}},
    {"subject": {"kind": "member", "email": "a@b.c"}},
    {"subject": {"kind": "customer", "member_id": "MEMBER"}},
    {"subject": {"kind": "team"}},
    {"team_id": "TEAM", "until": "2027-01-01T00:00:00Z"},
])
def test_a_hold_names_exactly_one_scope_else_422_and_nothing_is_appended(
    api: Api, body: dict[str, Any],
) -> None:
    team = api.team()
    member = api.member(team)
    text = json.dumps(body).replace("TEAM", team).replace("MEMBER", member)
    head = api.head()
    _hold(api, expect=422, **json.loads(text))
    api.post("/v1/legal-holds", {"team_id": team}, expect=422)  # no reason
    assert api.head() == head


@pytest.mark.parametrize("role", ["lead", "member", "auditor", "service"])
def test_only_an_admin_places_or_releases_a_hold(api: Api, role: str) -> None:
    team = api.team()
    hold = _hold(api, team_id=team).json()["hold_id"]
    head = api.head()
    _hold(api.as_(role), team_id=team, expect=403)
    api.as_(role).post(f"/v1/legal-holds/{hold}/release", {"reason": "r"}, expect=403)
    assert api.head() == head
    if role != "auditor":
        api.as_(role).get("/v1/legal-holds", expect=403)
    else:
        assert api.as_(role).get("/v1/legal-holds", min_position=head)["items"]


def test_an_admin_of_some_teams_holds_and_sees_only_its_teams(settings: Settings) -> None:
    with TestClient(create_app(with_scoped_admin(settings))) as client:
        api = Api(client)
        other = api.team("Other")
        stranger = api.member(other, "Sam Stranger")
        email = _customer(api, other)
        api.post("/v1/teams", {"name": "Scoped", "team_id": SCOPED_TEAM}, expect=201)
        own = api.member(SCOPED_TEAM, "Owen Own")
        foreign = _hold(api, team_id=other).json()["hold_id"]
        on_customer = _hold(api, subject={"kind": "customer", "email": email}).json()["hold_id"]
        sue = Api(client)
        sue.headers = {"Authorization": f"Bearer {SCOPED_ADMIN_TOKEN}"}

        head = api.head()
        _hold(sue, team_id=other, expect=403)
        _hold(sue, subject={"kind": "member", "member_id": stranger}, expect=403)
        _hold(sue, subject={"kind": "customer", "email": email}, expect=403)
        sue.post(f"/v1/legal-holds/{foreign}/release", {"reason": "r"}, expect=403)
        sue.post(f"/v1/legal-holds/{on_customer}/release", {"reason": "r"}, expect=403)
        assert api.head() == head

        mine = _hold(sue, team_id=SCOPED_TEAM).json()["hold_id"]
        on_own = _hold(sue, subject={"kind": "member", "member_id": own}).json()
        assert on_own["team_id"] == SCOPED_TEAM
        head = api.head()
        listed = sue.get("/v1/legal-holds", min_position=head)["items"]
        assert sorted(h["hold_id"] for h in listed) == sorted([mine, on_own["hold_id"]])
        sue.get(f"/v1/legal-holds/{foreign}", expect=404)
        sue.get(f"/v1/legal-holds/{on_customer}", expect=404)
        sue.post(f"/v1/legal-holds/{mine}/release", {"reason": "done"}, expect=200)


# -- erasure under hold ---------------------------------------------------------------


def test_a_member_of_a_held_team_is_not_erased_and_the_409_names_the_hold(api: Api) -> None:
    team = api.team()
    member = api.member(team, "Hal Held")
    hold = _hold(api, team_id=team).json()["hold_id"]
    head = api.head()
    refused = api.post(f"/v1/members/{member}/erase", {"reason": "asked"}, expect=409).json()
    assert refused["hold_id"] == hold
    assert refused["hold_reason"] == "litigation 2026-17"
    assert hold in refused["detail"]
    assert api.head() == head
    assert api.get(f"/v1/members/{member}")["name"] == "Hal Held"  # the key still opens

    api.post(f"/v1/legal-holds/{hold}/release", {"reason": "case closed"}, expect=200)
    api.post(f"/v1/members/{member}/erase", {"reason": "asked"}, expect=201)


def test_a_hold_on_a_team_the_member_has_left_for_another_still_holds(api: Api) -> None:
    before, after = api.team("Before"), api.team("After")
    member = api.member(before, "Mo Mover")
    api.post(f"/v1/teams/{before}/members/{member}/move",
             {"to_team_id": after, "reason": "reorg"}, expect=200)
    hold = _hold(api, team_id=before).json()["hold_id"]
    assert api.post(f"/v1/members/{member}/erase", {"reason": "asked"},
                    expect=409).json()["hold_id"] == hold


def test_a_hold_on_the_member_holds_them_and_no_one_else(api: Api) -> None:
    team = api.team()
    held, free = api.member(team, "Hope Held"), api.member(team, "Fred Free")
    hold = _hold(api, subject={"kind": "member", "member_id": held}).json()["hold_id"]
    assert api.post(f"/v1/members/{held}/erase", {"reason": "asked"},
                    expect=409).json()["hold_id"] == hold
    api.post(f"/v1/members/{free}/erase", {"reason": "asked"}, expect=201)


def test_a_customer_is_held_by_a_hold_on_them_or_on_a_team_their_feedback_reached(
    api: Api,
) -> None:
    team, elsewhere = api.team("Support"), api.team("Elsewhere")
    email = _customer(api, team)
    on_customer = _hold(api, subject={"kind": "customer", "email": email}).json()["hold_id"]
    refused = api.post("/v1/customers/erase", {"email": email, "reason": "asked"},
                       expect=409).json()
    assert (refused["hold_id"], refused["hold_reason"]) == (on_customer, "litigation 2026-17")
    api.post(f"/v1/legal-holds/{on_customer}/release", {"reason": "r"}, expect=200)

    _hold(api, team_id=elsewhere)  # a team their feedback never reached holds nothing
    on_team = _hold(api, team_id=team).json()["hold_id"]
    api.get("/v1/feedback", min_position=api.head())
    assert api.post("/v1/customers/erase", {"email": email, "reason": "asked"},
                    expect=409).json()["hold_id"] == on_team
    api.post(f"/v1/legal-holds/{on_team}/release", {"reason": "r"}, expect=200)
    api.post("/v1/customers/erase", {"email": email, "reason": "asked"}, expect=201)


def test_a_hold_placed_while_an_erasure_runs_makes_one_of_them_fail(api: Api) -> None:
    team = api.team()
    member = api.member(team, "Rae Race")
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    gates: HoldGates = runtime.erasures.gates
    checked = gates.pass_through
    holds: list[str] = []

    def hold_placed_meanwhile(whose: str, keys: Any) -> Any:
        passed = checked(whose, keys)  # no hold yet: the erasure goes on...
        if not holds:  # ...and another admin's hold is saved before it
            holds.append(_hold(api, team_id=team).json()["hold_id"])
        return passed

    gates.pass_through = hold_placed_meanwhile  # type: ignore[method-assign]
    api.post(f"/v1/members/{member}/erase", {"reason": "asked"}, expect=409)
    gates.pass_through = checked  # type: ignore[method-assign]

    assert api.get(f"/v1/members/{member}", min_position=api.head())["name"] == "Rae Race"
    assert api.post(f"/v1/members/{member}/erase", {"reason": "asked"},
                    expect=409).json()["hold_id"] == holds[0]


def test_the_hold_events_match_their_published_schemas(api: Api) -> None:
    team = api.team()
    member = api.member(team)
    hold = _hold(api, team_id=team).json()["hold_id"]
    _hold(api, subject={"kind": "member", "member_id": member})
    api.post(f"/v1/legal-holds/{hold}/release", {"reason": "done"}, expect=200)
    feed = api.get("/v1/events", after=0, limit=500)["items"]
    assert validated_types(e for e in feed if e["source"] == "urn:opsledger:privacy") == {
        PLACED, RELEASED}
    assert_context_published("privacy", {PLACED, RELEASED})
