"""Opening sealed values for Kafka subscribers, as specifications: a service that read
``pii:v1:...`` values on the topics asks ``POST /v1/personal-data/reveal`` with a token
allowed to (admin, or the personal-data-reader role) and gets the plaintext back in the
same order, "[erased]" once a subject is erased, and null for what its team scope
does not reach. Anything but whole sealed values, or too many, is a 422."""

from __future__ import annotations

from uuid import uuid4

from fastapi.testclient import TestClient

from domain.personal import ERASED
from infra.personal.disclosure import MAX_VALUES
from tests.e2e.conftest import Api

REVEAL = "/v1/personal-data/reveal"


def _sealed(api: Api, wire_type: str, entity: str) -> dict[str, object]:
    """The data of the event about ``entity``, as the events feed (and Kafka) carry it."""
    items = api.get("/v1/events", after=0, limit=500)["items"]
    return next(e["data"] for e in items if e["type"] == wire_type
                and entity in (e["data"].get("member_id"), e["subject"]))


def _member(api: Api, team: str) -> tuple[str, str, str]:
    """A member; their id, their name, and the name as published (sealed)."""
    name = f"Ann {uuid4().hex[:8]}"
    member = api.member(team, name)
    return member, name, str(_sealed(api, "opsledger.teams.MemberJoined.v1", member)["name"])


def _token(api: Api, roles: list[str], teams: list[str]) -> Api:
    """An API client speaking with a freshly issued token."""
    issued = api.post("/v1/tokens", {"principal": f"service:sub-{uuid4().hex[:6]}",
                                     "roles": roles, "teams": teams}, expect=201).json()
    speaker = Api(api.client)
    speaker.headers = {"Authorization": f"Bearer {issued['token']}"}
    return speaker


def _reveal(api: Api, values: list[str], expect: int = 200) -> list[str | None]:
    r = api.post(REVEAL, {"values": values}, expect=expect)
    return r.json().get("values", [])  # type: ignore[no-any-return]


def test_an_admin_gets_the_plaintext_back_in_the_order_asked(api: Api) -> None:
    team = api.team()
    (_, ann, ann_sealed), (_, bob, bob_sealed) = _member(api, team), _member(api, team)
    assert _reveal(api, [bob_sealed, ann_sealed, bob_sealed]) == [bob, ann, bob]
    assert api.post(REVEAL, {"values": [ann_sealed]}).headers["cache-control"] == "no-store"


def test_a_personal_data_reader_token_opens_values_and_reads_nothing_else(api: Api) -> None:
    team = api.team()
    _, name, sealed = _member(api, team)
    reader = _token(api, ["personal-data-reader"], ["*"])
    assert _reveal(reader, [sealed]) == [name]
    assert reader.get(f"/v1/teams/{team}", expect=403)
    subscriber = _token(api, ["service", "personal-data-reader"], ["*"])
    assert subscriber.get("/v1/events", after=0, limit=1)["items"]
    assert _reveal(subscriber, [sealed]) == [name]


def test_other_roles_are_refused(api: Api) -> None:
    _, _, sealed = _member(api, api.team())
    for role in ("lead", "member", "auditor", "service"):
        r = api.as_(role).post(REVEAL, {"values": [sealed]}, expect=403)
        assert "personal-data-reader" in r.json()["detail"]
    assert api.client.post(REVEAL, json={"values": [sealed]}).status_code == 401


def test_a_team_scoped_token_opens_only_its_teams_members(api: Api) -> None:
    ours, theirs = api.team(), api.team()
    _, name, our_member = _member(api, ours)
    _, _, their_member = _member(api, theirs)
    api.post("/v1/feedback", {"kind": "customer", "team_id": ours, "text": "slow",
                              "customer": {"name": "Cy", "email": "cy@example.net"}},
             expect=201)
    customer = _customer_text(api)
    scoped = _token(api, ["personal-data-reader"], [ours])
    assert _reveal(scoped, [our_member, their_member, customer]) == [name, None, None]
    assert _reveal(api, [customer]) == ["slow"]  # an every-team token opens a customer's


def _customer_text(api: Api) -> str:
    items = api.get("/v1/events", after=0, limit=500)["items"]
    return str(next(e["data"]["text"] for e in items
                    if e["type"] == "opsledger.feedback.CustomerFeedbackReceived.v1"))


def test_an_erased_subjects_values_read_erased_and_a_refusal_stays_null(api: Api) -> None:
    ours, theirs = api.team(), api.team()
    member, _, sealed = _member(api, ours)
    their_member, _, their_sealed = _member(api, theirs)
    for erased in (member, their_member):
        api.post(f"/v1/members/{erased}/erase", {"reason": "asked"}, expect=201)
    assert _reveal(api, [sealed]) == [ERASED]
    scoped = _token(api, ["personal-data-reader"], [ours])
    assert _reveal(scoped, [sealed, their_sealed]) == [ERASED, None]  # says nothing of theirs


def test_anything_but_whole_sealed_values_is_refused(api: Api, client: TestClient) -> None:
    _, _, sealed = _member(api, api.team())
    head = api.head()
    altered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    undecodable = sealed.rsplit(":", 1)[0] + ":A"  # one base64 character: no encoder's
    for values in ([], ["Ann"], [f"name: {sealed}"], [sealed + " "], [None], [undecodable],
                   [sealed] * (MAX_VALUES + 1)):
        r = api.post(REVEAL, {"values": values}, expect=422)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = api.post(REVEAL, {"values": [sealed, altered]}, expect=422)
    assert "values[1]" in r.json()["detail"]
    api.post(REVEAL, {"values": [sealed], "extra": 1}, expect=422)
    assert len(_reveal(api, [sealed] * MAX_VALUES)) == MAX_VALUES
    assert api.head() == head  # nothing is appended
