"""Every request is authenticated; roles and team scopes are enforced."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.e2e.conftest import SCOPED_TEAM, Api


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer not-a-known-token-at-all"},
])
def test_missing_or_bad_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/v1/teams"), ("POST", "/v1/teams"), ("GET", "/v1/events")):
        r = client.request(method, path, headers=headers, json={"name": "x"})
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.headers["content-type"] == "application/problem+json"


def test_read_only_roles_cannot_send_commands(api: Api) -> None:
    head = api.head()
    for role in ("auditor", "service"):
        problem = api.as_(role).post("/v1/teams", {"name": "x"}, expect=403).json()
        assert "roles" in problem["detail"]
    assert api.head() == head


def test_members_cannot_manage_teams_but_can_work_incidents(api: Api) -> None:
    team = api.team()
    api.as_("member").post("/v1/teams", {"name": "x"}, expect=403)
    incident = api.as_("member").incident(team)
    api.as_("member").post(f"/v1/incidents/{incident}/acknowledge", expect=200)


def test_audit_and_events_feed_need_their_roles(api: Api) -> None:
    api.as_("member").get("/v1/audit", expect=403)
    api.as_("auditor").get("/v1/audit", expect=200)
    api.as_("member").get("/v1/events", expect=403)
    api.as_("service").get("/v1/events", expect=200)
    api.as_("service").get("/v1/teams", expect=200)


def test_team_scoped_token_only_acts_on_its_team(api: Api) -> None:
    other = api.team("Other")
    scoped = api.as_("scoped")
    scoped.post(f"/v1/teams/{other}/members", {"name": "A", "email": "a@example.com",
                                               "role": "SRE"}, expect=403)
    scoped.post("/v1/teams", {"name": "Mine", "team_id": SCOPED_TEAM}, expect=201)
    scoped.post(f"/v1/teams/{SCOPED_TEAM}/members", {"name": "A", "email": "a@example.com",
                                                     "role": "SRE"}, expect=201)
    scoped.get(f"/v1/teams/{other}", expect=403)
    incident = api.incident(other)
    scoped.post(f"/v1/incidents/{incident}/acknowledge", expect=403)


def test_the_actor_is_the_principal_never_the_body(api: Api) -> None:
    r = api.as_("lead").post("/v1/teams", {"name": "x", "actor": "user:mallory"}, expect=422)
    assert r.json()["status"] == 422


def test_team_scoped_token_must_name_its_team_on_lists(api: Api) -> None:
    scoped = api.as_("scoped")
    scoped.post("/v1/teams", {"name": "Mine", "team_id": SCOPED_TEAM}, expect=201)
    other = api.team("Other")
    api.incident(other)
    for path in ("/v1/incidents", "/v1/goals", "/v1/feedback"):
        scoped.get(path, expect=403)
        assert scoped.get(path, team_id=SCOPED_TEAM)["items"] == []
        scoped.get(path, expect=403, team_id=other)
    assert [t["id"] for t in scoped.get("/v1/teams", min_position=api.head())["items"]] == [
        SCOPED_TEAM]
