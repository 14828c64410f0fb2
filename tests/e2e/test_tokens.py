"""Tokens you can manage: an admin issues one (its secret answered once), lists them
(metadata only) and revokes one (it stops working at once, in every API process).
Issuing and revoking are events of the access context, so they are audited."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.api.app import create_app
from services.api.bootstrap import Runtime
from tests.e2e.conftest import SCOPED_TEAM, Api, bearer
from tests.support.contract import validated_types


def issue(api: Api, expect: int = 201, **body: Any) -> Any:
    fields = {"principal": "user:ada", "roles": ["lead"], "teams": ["*"], **body}
    return api.post("/v1/tokens", fields, expect=expect).json()


def with_token(api: Api, secret: str) -> Api:
    speaker = Api(api.client)
    speaker.headers = {"Authorization": f"Bearer {secret}"}
    return speaker


def status_with(client: TestClient, secret: str, path: str = "/v1/teams") -> int:
    return client.get(path, headers={"Authorization": f"Bearer {secret}"}).status_code


def listed(api: Api, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = api.get("/v1/tokens", min_position=api.head(), limit=params.pop("limit", 50),
                       **params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the token list did not end")


# -- issuing -----------------------------------------------------------------------------


def test_an_admin_issues_a_token_that_works_at_once_and_acts_as_its_principal(
    api: Api, client: TestClient,
) -> None:
    answer = issue(api, principal="user:ada", roles=["lead"], teams=["*"],
                   reason="new team lead")

    assert set(answer) == {"id", "version", "position", "token_id", "token", "principal",
                           "roles", "teams", "expires_at"}
    assert answer["id"] == answer["token_id"]
    assert (answer["principal"], answer["roles"], answer["teams"], answer["expires_at"]) == (
        "user:ada", ["lead"], ["*"], None)
    assert answer["token"].startswith(f"olt_{answer['token_id'].replace('-', '')}_")
    ada = with_token(api, answer["token"])
    team = ada.team("Ada's team")
    records = api.get("/v1/audit", entity_id=team, min_position=api.head())["items"]
    assert [r["actor"] for r in records] == ["user:ada"]


def test_the_secret_is_answered_once_and_only_its_digest_is_stored(
    api: Api, client: TestClient, settings: Settings,
) -> None:
    r = api.post("/v1/tokens", {"principal": "user:ada", "roles": ["member"], "teams": ["*"]},
                 expect=201)
    secret = r.json()["token"]
    assert r.headers["cache-control"] == "no-store"
    head = api.head()

    answers = [
        client.get("/v1/tokens", params={"min_position": head}, headers=bearer("admin")),
        client.get("/v1/events", params={"after": 0}, headers=bearer("admin")),
        client.get("/v1/audit", headers=bearer("admin")),
        client.get("/v1/audit/export", headers=bearer("admin")),
    ]

    assert all(a.status_code == 200 for a in answers)
    assert all(secret not in a.text for a in answers)
    [listing] = answers[0].json()["items"]
    assert "token" not in listing and not any("sha" in key or "hash" in key for key in listing)
    for stored in settings.data_dir.glob("*.sqlite*"):
        assert secret.encode() not in stored.read_bytes(), stored.name


def test_an_idempotent_repeat_issues_nothing_and_says_the_secret_is_gone(api: Api) -> None:
    body = {"principal": "user:ada", "roles": ["member"], "teams": ["*"]}
    first = api.post("/v1/tokens", body, expect=201, **{"Idempotency-Key": "issue-ada"}).json()
    head = api.head()

    again = api.post("/v1/tokens", body, expect=409, **{"Idempotency-Key": "issue-ada"})

    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["token_id"] == first["token_id"]
    assert first["token"] not in again.text
    assert api.head() == head


@pytest.mark.parametrize("body", [
    {"teams": []},
    {"teams": ["payments"]},
    {"teams": None},
    {"roles": []},
    {"roles": ["root"]},
    {"principal": "ada"},
    {"principal": "user:admin", "actor": "user:mallory"},
    {"expires_at": "2020-01-01T00:00:00Z"},
    {"expires_at": "2030-01-01T00:00:00"},
    {"expires_at": "0001-01-01T00:00:00+14:00"},
    {"expires_at": "9999-12-31T23:59:59-12:00"},
    {"expires_at": 4102444800},
])
def test_a_malformed_token_request_is_refused_and_appends_nothing(
    api: Api, body: dict[str, Any],
) -> None:
    head = api.head()
    fields = {"principal": "user:ada", "roles": ["lead"], "teams": ["*"], **body}

    r = api.post("/v1/tokens", fields)

    assert r.status_code in (409, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert api.head() == head


def test_only_admins_manage_tokens(api: Api) -> None:
    issued = issue(api)
    body = {"principal": "user:ada", "roles": ["lead"], "teams": ["*"]}
    for role in ("lead", "member", "auditor", "service", "scoped"):
        caller = api.as_(role)
        caller.post("/v1/tokens", body, expect=403)
        caller.get("/v1/tokens", expect=403)
        r = caller.client.request("DELETE", f"/v1/tokens/{issued['token_id']}",
                                  json={"reason": "x"}, headers=caller.headers)
        assert r.status_code == 403, (role, r.text)


# -- listing -----------------------------------------------------------------------------


def test_the_list_shows_metadata_of_every_issued_token_and_pages(api: Api) -> None:
    ada = issue(api, principal="user:ada", roles=["lead"], teams=[SCOPED_TEAM],
                reason="lead of payments")
    bob = issue(api, principal="service:billing", roles=["service"], teams=["*"])
    issue(api, principal="user:ada", roles=["member"], teams=["*"])
    api.client.request("DELETE", f"/v1/tokens/{bob['token_id']}", json={"reason": "rotated"},
                       headers=api.headers)

    everything = listed(api, limit=1)

    assert len(everything) == 3
    first = everything[0]
    assert first == {
        "token_id": ada["token_id"], "principal": "user:ada", "roles": ["lead"],
        "teams": [SCOPED_TEAM], "issued_at": first["issued_at"], "issued_by": "user:admin",
        "expires_at": None, "status": "active", "revoked_at": None, "revoked_by": None,
        "revoked_reason": None,
    }
    revoked = everything[1]
    assert (revoked["token_id"], revoked["status"], revoked["revoked_by"],
            revoked["revoked_reason"]) == (bob["token_id"], "revoked", "user:admin", "rotated")
    assert [t["token_id"] for t in listed(api, principal="user:ada")] == [
        ada["token_id"], everything[2]["token_id"]]
    assert [t["token_id"] for t in listed(api, status="revoked")] == [bob["token_id"]]
    assert len(listed(api, status="active")) == 2


@pytest.mark.parametrize("value", [[1], {"a": 1}, 2**63, 1, None])
def test_a_forged_cursor_is_a_bad_request(api: Api, value: object) -> None:
    issue(api)
    forged = base64.urlsafe_b64encode(json.dumps([value, str(uuid4())]).encode()).decode()

    for cursor in ("not-a-cursor", forged.rstrip("=")):
        r = api.get("/v1/tokens", expect=400, cursor=cursor, min_position=api.head())
        assert r["status"] == 400


# -- revoking ----------------------------------------------------------------------------


def test_a_revoked_token_stops_working_at_once(api: Api, client: TestClient) -> None:
    issued = issue(api)
    assert status_with(client, issued["token"]) == 200

    r = client.request("DELETE", f"/v1/tokens/{issued['token_id']}",
                       json={"reason": "laptop lost"}, headers=bearer("admin"))

    assert r.status_code == 200, r.text
    assert set(r.json()) == {"id", "version", "position"}
    assert r.json()["id"] == issued["token_id"] and r.json()["version"] == 2
    assert status_with(client, issued["token"]) == 401


def test_the_reason_for_revoking_comes_in_the_body_or_the_query(
    api: Api, client: TestClient,
) -> None:
    by_body, by_query, neither = issue(api), issue(api), issue(api)
    admin = bearer("admin")

    def delete(token_id: str, **kwargs: Any) -> int:
        return client.request("DELETE", f"/v1/tokens/{token_id}", headers=admin,
                              **kwargs).status_code

    assert delete(neither["token_id"]) == 422
    assert delete(neither["token_id"], json={}) == 422
    assert delete(neither["token_id"], json={"reason": "a"}, params={"reason": "b"}) == 422
    assert delete(by_body["token_id"], json={"reason": "rotated"}) == 200
    assert delete(by_query["token_id"], params={"reason": "rotated"}) == 200
    assert delete(by_query["token_id"], params={"reason": "again"}) == 409
    assert delete(str(uuid4()), params={"reason": "unknown"}) == 404
    assert status_with(client, neither["token"]) == 200
    assert status_with(client, by_query["token"]) == 401


def test_a_revocation_holds_at_once_in_every_api_process(settings: Settings) -> None:
    """Two API processes over one event store: issued in one, revoked in the other."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as first:
        second_runtime = Runtime.open(settings, follow=False)
        try:
            with TestClient(create_app(settings, runtime=second_runtime),
                            raise_server_exceptions=False) as second:
                issued = first.post("/v1/tokens", headers=bearer("admin"), json={
                    "principal": "user:ada", "roles": ["member"], "teams": ["*"]}).json()
                assert status_with(second, issued["token"]) == 200

                r = second.request("DELETE", f"/v1/tokens/{issued['token_id']}",
                                   params={"reason": "left"}, headers=bearer("admin"))

                assert r.status_code == 200, r.text
                assert status_with(first, issued["token"]) == 401
                assert status_with(second, issued["token"]) == 401
        finally:
            second_runtime.close()


def test_an_expired_token_stops_working_and_is_listed_as_expired(
    api: Api, client: TestClient,
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    issued = issue(api, expires_at=soon)
    assert status_with(client, issued["token"]) == 200

    time.sleep(max(0.0, (datetime.fromisoformat(soon) - datetime.now(UTC)).total_seconds())
               + 0.1)

    assert status_with(client, issued["token"]) == 401
    [token] = listed(api)
    assert token["status"] == "expired"
    assert [t["token_id"] for t in listed(api, status="expired")] == [issued["token_id"]]
    assert listed(api, status="active") == []


# -- the audit trail and the event contract ------------------------------------------------


def test_issuing_and_revoking_are_audited_with_who_for_whom_and_which_grant(
    api: Api, client: TestClient,
) -> None:
    issued = issue(api, principal="user:ada", roles=["lead", "auditor"], teams=[SCOPED_TEAM],
                   reason="audit season")
    client.request("DELETE", f"/v1/tokens/{issued['token_id']}",
                   json={"reason": "season over"}, headers=bearer("admin"))

    records = api.get("/v1/audit", entity_id=issued["token_id"], min_position=api.head())
    [issuing, revoking] = records["items"]

    assert (issuing["actor"], issuing["context"], issuing["name"]) == (
        "user:admin", "access", "TokenIssued")
    assert {k: issuing["data"][k] for k in ("principal", "roles", "teams", "reason")} == {
        "principal": "user:ada", "roles": ["auditor", "lead"], "teams": [SCOPED_TEAM],
        "reason": "audit season"}
    assert (revoking["actor"], revoking["name"], revoking["reason"]) == (
        "user:admin", "TokenRevoked", "season over")
    assert {k: revoking["data"][k] for k in ("principal", "roles", "teams")} == {
        "principal": "user:ada", "roles": ["auditor", "lead"], "teams": [SCOPED_TEAM]}


def test_access_events_validate_against_their_published_schemas(
    api: Api, client: TestClient,
) -> None:
    issued = issue(api, expires_at="2099-01-01T00:00:00Z")
    client.request("DELETE", f"/v1/tokens/{issued['token_id']}", json={"reason": "done"},
                   headers=bearer("admin"))

    events = client.get("/v1/events", params={"after": 0},
                        headers=bearer("admin")).json()["items"]

    assert [e["type"] for e in events] == [
        "opsledger.access.TokenIssued.v1", "opsledger.access.TokenRevoked.v1"]
    validated_types(events)


# -- an admin scoped to some teams ---------------------------------------------------------


def test_a_scoped_admin_manages_only_tokens_within_its_teams(api: Api) -> None:
    other_team = str(uuid4())
    scoped = with_token(api, issue(api, principal="user:tara", roles=["admin"],
                                   teams=[SCOPED_TEAM])["token"])
    everyone = issue(api, principal="user:ada", teams=["*"])
    others = issue(api, principal="user:bob", teams=[other_team])

    mine = scoped.post("/v1/tokens", {"principal": "user:cy", "roles": ["member"],
                                      "teams": [SCOPED_TEAM]}, expect=201).json()
    for teams in (["*"], [other_team], [SCOPED_TEAM, other_team]):
        scoped.post("/v1/tokens", {"principal": "user:cy", "roles": ["member"],
                                   "teams": teams}, expect=403)

    pages = []
    cursor = None
    while True:  # pages of one: each full, each cursor naming only the token answered
        page = scoped.get("/v1/tokens", limit=1, min_position=api.head(),
                          **({"cursor": cursor} if cursor else {}))
        pages.append([t["principal"] for t in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        _, named = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        assert named == page["items"][0]["token_id"]
    assert pages == [["user:tara"], ["user:cy"]]
    for token in (everyone, others):
        r = scoped.client.request("DELETE", f"/v1/tokens/{token['token_id']}",
                                  json={"reason": "x"}, headers=scoped.headers)
        assert r.status_code == 403, r.text
    r = scoped.client.request("DELETE", f"/v1/tokens/{mine['token_id']}",
                              json={"reason": "done"}, headers=scoped.headers)
    assert r.status_code == 200, r.text


def test_configured_tokens_are_not_listed(api: Api, tmp_path: Path) -> None:
    assert api.get("/v1/tokens") == {"items": [], "next_cursor": None}


def test_a_revocation_reason_in_the_query_is_held_to_the_body_rules(api: Api) -> None:
    # Given an issued token
    issued = api.post("/v1/tokens", {"principal": "user:nul", "roles": ["member"],
                                     "teams": ["*"]}, expect=201).json()
    # When it is revoked with a NUL and a bidi override in a query reason
    r = api.client.delete(f"/v1/tokens/{issued['token_id']}",
                          params={"reason": "a\x00b\u202e"}, headers=api.headers)
    # Then it is refused, and the token still works
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert api.client.get("/v1/teams", headers={
        "Authorization": f"Bearer {issued['token']}"}).status_code == 200
