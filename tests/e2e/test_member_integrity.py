"""Members, references and principals over HTTP (issue 10, security review D1, D5,
D7, D13, D17): a member id is global, a move is its own command, references name
active members, only an admin binds principals, and a scoped team list pages over
its own teams only."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.api.app import create_app
from tests.support.contract import validated_types

TA = "aaaaaaaa-0000-4000-8000-00000000000a"
TB = "bbbbbbbb-0000-4000-8000-00000000000b"
TOKENS = {
    "it-admin-token-0123456789": {"principal": "user:admin", "roles": ["admin"],
                                  "teams": ["*"]},
    "it-lead-a-token-012345678": {"principal": "user:lia", "roles": ["lead"], "teams": [TA]},
    "it-lead-b-token-012345678": {"principal": "user:bob", "roles": ["lead"], "teams": [TB]},
    "it-lead-ab-token-01234567": {"principal": "user:ali", "roles": ["lead"],
                                  "teams": [TA, TB]},
    "it-member-ab-token-012345": {"principal": "user:max", "roles": ["member"],
                                  "teams": [TA, TB]},
}
PROBLEM = "application/problem+json"


class As:
    """Requests as one token; every answer's status is checked."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: Any, expect: int) -> dict[str, Any]:
        r = self.client.post(path, json=body, headers=self.headers)
        assert r.status_code == expect, (r.status_code, r.text)
        if expect >= 400:
            assert r.headers["content-type"] == PROBLEM
        return r.json()  # type: ignore[no-any-return]

    def get(self, path: str, expect: int = 200, **params: Any) -> dict[str, Any]:
        r = self.client.get(path, params=params, headers=self.headers)
        assert r.status_code == expect, (r.status_code, r.text)
        return r.json()  # type: ignore[no-any-return]


class World:
    """Teams A (Lia, lead; Ann) and B (Bob, lead; Bea), joined by the admin."""

    def __init__(self, client: TestClient) -> None:
        tokens = {g["principal"].removeprefix("user:"): t for t, g in TOKENS.items()}
        self.admin, self.lead_a, self.lead_b, self.lead_ab, self.member_ab = (
            As(client, tokens[name]) for name in ("admin", "lia", "bob", "ali", "max"))
        self.admin.post("/v1/teams", {"name": "Team A", "team_id": TA}, 201)
        self.admin.post("/v1/teams", {"name": "Team B", "team_id": TB}, 201)
        self.lia = self.join(TA, "Lia", principal="user:lia")
        self.ann = self.join(TA, "Ann")
        self.bob = self.join(TB, "Bob", principal="user:bob")
        self.bea = self.join(TB, "Bea")

    def join(self, team: str, name: str, by: As | None = None, expect: int = 201,
             **extra: Any) -> str:
        body = {"name": name, "email": f"{name.lower()}@example.com", "role": "SRE", **extra}
        answer = (by or self.admin).post(f"/v1/teams/{team}/members", body, expect)
        return str(answer.get("id"))

    def head(self) -> int:
        return int(self.admin.get("/v1/events", after=0, limit=1)["head"])

    def fresh(self, path: str, by: As | None = None, expect: int = 200) -> dict[str, Any]:
        """A read that waits for everything written so far."""
        return (by or self.admin).get(path, expect, min_position=self.head_public())

    def head_public(self) -> int:
        items = self.admin.get("/v1/events", after=0, limit=500)["items"]
        return max(e["position"] for e in items)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", tokens=json.dumps(TOKENS),
                        min_position_timeout=2.0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def world(client: TestClient) -> World:
    return World(client)


# -- a member id is global (D1) ---------------------------------------------------------


def test_joining_the_id_of_another_teams_member_is_a_409_and_takes_nothing_over(
    world: World,
) -> None:
    head = world.head()

    problem = world.lead_a.post(f"/v1/teams/{TA}/members", {
        "name": "x", "email": "x@a.example", "role": "SRE", "member_id": world.bea,
    }, 409)

    assert "already exists" in problem["detail"]
    assert world.head() == head
    bea = world.fresh(f"/v1/members/{world.bea}", world.lead_b)
    assert (bea["team_id"], bea["name"]) == (TB, "Bea")
    world.lead_a.get(f"/v1/members/{world.bea}", expect=403)
    world.lead_a.get(f"/v1/performance/members/{world.bea}/timeline", expect=403)
    assert world.bea not in [m["member_id"] for m in world.fresh(f"/v1/teams/{TA}")["roster"]]


def test_joining_with_the_id_of_any_aggregate_is_a_409(world: World) -> None:
    head = world.head()

    world.join(TA, "Squatter", expect=409, member_id=TB)

    assert world.head() == head


# -- moving a member ----------------------------------------------------------------------


def test_a_lead_of_both_teams_moves_a_member_who_keeps_its_identity_and_history(
    world: World,
) -> None:
    world.lead_a.post(f"/v1/teams/{TA}/members/{world.ann}/role",
                      {"role": "IC", "reason": "passed IC training"}, 200)
    before = world.fresh(f"/v1/members/{world.ann}")

    moved = world.lead_ab.post(f"/v1/teams/{TA}/members/{world.ann}/move",
                               {"to_team_id": TB, "reason": "reorg"}, 200)

    assert moved["id"] == world.ann
    ann = world.lead_b.get(f"/v1/members/{world.ann}", min_position=moved["position"])
    assert ann["team_id"] == TB
    assert {k: ann[k] for k in ("id", "name", "email", "role", "responsibilities")} == {
        k: before[k] for k in ("id", "name", "email", "role", "responsibilities")}
    assert ann["roles"] == before["roles"]  # the history stays
    assert [t["team_id"] for t in ann["teams"]] == [TA, TB]
    roster_a = world.fresh(f"/v1/teams/{TA}")["roster"]
    roster_b = world.fresh(f"/v1/teams/{TB}")["roster"]
    assert [(m["active"], m.get("moved_to_team_id")) for m in roster_a
            if m["member_id"] == world.ann] == [(False, TB)]
    assert [(m["active"], m["role"]) for m in roster_b if m["member_id"] == world.ann] == [
        (True, "IC")]
    world.lead_a.get(f"/v1/members/{world.ann}", expect=403)  # no longer team A's
    timeline = world.lead_b.get(f"/v1/performance/members/{world.ann}/timeline",
                                min_position=moved["position"])["items"]
    assert [e["kind"] for e in timeline] == ["joined", "role_changed", "moved"]


def test_an_admin_may_move_a_member_and_the_principal_moves_with_it(world: World) -> None:
    moved = world.admin.post(f"/v1/teams/{TA}/members/{world.lia}/move",
                             {"to_team_id": TB, "reason": "reorg"}, 200)

    lia = world.admin.get(f"/v1/members/{world.lia}", min_position=moved["position"])
    assert (lia["team_id"], lia["principal"]) == (TB, "user:lia")


@pytest.mark.parametrize("who", ["lead_a", "lead_b", "member_ab"])
def test_moving_needs_an_admin_or_a_lead_holding_both_teams(world: World, who: str) -> None:
    head = world.head()

    getattr(world, who).post(f"/v1/teams/{TA}/members/{world.ann}/move",
                             {"to_team_id": TB, "reason": "reorg"}, 403)

    assert world.head() == head


def test_a_move_that_breaks_a_rule_is_a_problem_and_appends_nothing(world: World) -> None:
    world.admin.post(f"/v1/teams/{TA}/members/{world.ann}/leave", {"reason": "moved on"}, 200)
    head = world.head()

    def move(member: str, to: str, expect: int) -> str:
        return str(world.admin.post(f"/v1/teams/{TA}/members/{member}/move",
                                    {"to_team_id": to, "reason": "reorg"}, expect)["detail"])

    assert "is not on team" in move(world.bea, TB, 404)  # a member of another team
    assert "is not on team" in move(str(uuid4()), TB, 404)
    assert "has left" in move(world.ann, TB, 409)
    assert "not found" in move(world.lia, str(uuid4()), 404)  # no such destination
    assert "already on team" in move(world.lia, TA, 409)
    world.admin.post(f"/v1/teams/{TA}/members/{world.lia}/move", {"to_team_id": TB}, 422)
    assert world.head() == head


# -- references (D5) ------------------------------------------------------------------------


def goal(team: str, owner: str) -> dict[str, Any]:
    return {"team_id": team, "owner_id": owner, "title": "Cut MTTR", "metric": "MTTR",
            "baseline": 90, "target": 30, "unit": "minutes", "deadline": "2099-06-30"}


def test_a_goal_owner_is_an_active_member_of_the_goals_team(world: World) -> None:
    world.admin.post(f"/v1/teams/{TA}/members/{world.ann}/leave", {"reason": "moved on"}, 200)
    head = world.head()

    world.lead_a.post("/v1/goals", goal(TA, world.bob), 422)  # team B's lead
    world.lead_a.post("/v1/goals", goal(TA, str(uuid4())), 422)  # nobody
    world.lead_a.post("/v1/goals", goal(TA, world.ann), 409)  # left
    assert world.head() == head
    world.lead_a.post("/v1/goals", goal(TA, world.lia), 201)


def test_a_triage_owner_is_an_active_member_of_the_feedbacks_team(world: World) -> None:
    item = world.lead_a.post("/v1/feedback", {"kind": "customer", "team_id": TA,
                                              "text": "slow"}, 201)["id"]
    head = world.head()

    for owner, expect in ((world.bob, 422), (str(uuid4()), 422)):
        world.lead_a.post(f"/v1/feedback/{item}/triage",
                          {"priority": "high", "owner_id": owner}, expect)
    assert world.head() == head
    world.lead_a.post(f"/v1/feedback/{item}/triage",
                      {"priority": "high", "owner_id": world.ann}, 200)


def test_responders_and_action_item_owners_are_active_members_of_any_team(
    world: World,
) -> None:
    incident = world.lead_a.post("/v1/incidents", {
        "team_id": TA, "severity": "SEV2", "service": "checkout", "summary": "slow"}, 201)["id"]
    world.admin.post(f"/v1/teams/{TB}/members/{world.bea}/leave", {"reason": "moved on"}, 200)
    head = world.head()

    world.lead_a.post(f"/v1/incidents/{incident}/assign", {"responder_id": str(uuid4())}, 422)
    world.lead_a.post(f"/v1/incidents/{incident}/assign", {"responder_id": world.bea}, 409)
    assert world.head() == head
    world.lead_a.post(f"/v1/incidents/{incident}/assign", {"responder_id": world.bob}, 200)

    world.lead_a.post(f"/v1/incidents/{incident}/acknowledge", None, 200)
    world.lead_a.post(f"/v1/incidents/{incident}/resolve", {"summary": "fixed"}, 200)
    head = world.head()

    def postmortem(owner: str, expect: int) -> None:
        world.lead_a.post(f"/v1/incidents/{incident}/postmortem", {
            "causes": ["bad deploy"],
            "action_items": [{"title": "canary", "owner_id": owner, "due": "2099-01-31"}],
        }, expect)

    postmortem(str(uuid4()), 422)
    postmortem(world.bea, 409)
    assert world.head() == head
    postmortem(world.bob, 200)


def test_a_feedback_subject_is_an_active_member_of_any_team(world: World) -> None:
    world.admin.post(f"/v1/teams/{TB}/members/{world.bea}/leave", {"reason": "moved on"}, 200)
    head = world.head()

    def give(subject: str, expect: int) -> None:
        world.lead_a.post("/v1/feedback", {"kind": "peer", "team_id": TA, "text": "thanks",
                                           "subject_member_id": subject, "score": 9}, expect)

    give(str(uuid4()), 422)
    give(world.bea, 409)
    assert world.head() == head
    give(world.bob, 201)


# -- principals (D7) ---------------------------------------------------------------------------


def test_only_an_admin_may_name_a_principal_on_join(world: World) -> None:
    head = world.head()

    world.join(TA, "lia", by=world.lead_a, expect=403, principal="user:max")

    assert world.head() == head
    world.join(TA, "Max", principal="user:max")


def test_only_an_admin_binds_a_principal_and_one_principal_is_one_active_member(
    world: World,
) -> None:
    bind = f"/v1/members/{world.ann}/principal"
    head = world.head()

    world.lead_a.post(bind, {"principal": "user:ann", "reason": "it is her"}, 403)
    world.admin.post(bind, {"principal": "user:lia", "reason": "frame Lia"}, 409)
    world.admin.post(bind, {"principal": "service:ci", "reason": "x"}, 422)
    world.admin.post(bind, {"principal": "user:ann"}, 422)
    world.admin.post(f"/v1/members/{uuid4()}/principal",
                     {"principal": "user:ann", "reason": "x"}, 404)
    assert world.head() == head

    bound = world.admin.post(bind, {"principal": "user:ann", "reason": "it is her"}, 200)
    ann = world.admin.get(f"/v1/members/{world.ann}", min_position=bound["position"])
    assert (bound["id"], ann["principal"]) == (world.ann, "user:ann")


def test_a_principal_whose_member_left_may_be_bound_again(world: World) -> None:
    world.admin.post(f"/v1/teams/{TA}/members/{world.lia}/leave", {"reason": "moved on"}, 200)

    world.admin.post(f"/v1/members/{world.ann}/principal",
                     {"principal": "user:lia", "reason": "Lia's new record"}, 200)


def test_self_role_change_follows_the_principal_an_admin_bound(world: World) -> None:
    """D7: Lia can no longer record herself as someone else to dodge the control."""
    world.join(TA, "lia", by=world.lead_a, expect=403, principal="user:max")
    promoted = world.lead_a.post(f"/v1/teams/{TA}/members/{world.lia}/role",
                                 {"role": "VP", "reason": "self-promotion"}, 200)

    found = world.admin.get("/v1/compliance/findings", min_position=promoted["position"],
                            control="self_role_change")["items"]
    assert [f["subject_id"] for f in found] == [world.lia]


# -- the team list of a scoped token (D13) -----------------------------------------------------


def test_a_scoped_team_list_pages_over_its_own_teams_and_its_cursor_names_no_other(
    world: World,
) -> None:
    for n in range(4):
        world.admin.post("/v1/teams", {"name": f"Other {n}"}, 201)
    world.fresh("/v1/teams")
    lead = world.lead_ab

    first = lead.get("/v1/teams", limit=1)
    second = lead.get("/v1/teams", limit=1, cursor=first["next_cursor"])

    assert [t["id"] for t in first["items"] + second["items"]] == [TA, TB]
    assert second["next_cursor"] is None
    raw = first["next_cursor"] + "=" * (-len(first["next_cursor"]) % 4)
    assert json.loads(base64.urlsafe_b64decode(raw)) == ["Team A", TA]
    assert [t["id"] for t in world.lead_a.get("/v1/teams", limit=1)["items"]] == [TA]
    assert world.lead_a.get("/v1/teams", limit=1)["next_cursor"] is None


def test_a_forged_cursor_on_a_scoped_team_list_is_a_400(world: World) -> None:
    for forged in ([[1], "x"], [{"a": 1}, "x"], [2**63, "x"]):
        cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
        r = world.lead_a.client.get("/v1/teams", params={"cursor": cursor},
                                    headers=world.lead_a.headers)
        assert r.status_code == 400, r.text


# -- forming a team (D17) ------------------------------------------------------------------------


def test_team_id_and_id_that_differ_are_a_422_and_append_nothing(world: World) -> None:
    head = world.head()

    world.admin.post("/v1/teams", {"name": "C", "team_id": str(uuid4()), "id": str(uuid4())},
                     422)

    assert world.head() == head
    same = str(uuid4())
    assert world.admin.post("/v1/teams", {"name": "C", "team_id": same, "id": same},
                            201)["id"] == same


# -- the published contract ----------------------------------------------------------------------


def test_moves_and_bindings_validate_against_their_published_schemas(world: World) -> None:
    world.admin.post(f"/v1/members/{world.ann}/principal",
                     {"principal": "user:ann", "reason": "it is her"}, 200)
    world.admin.post(f"/v1/teams/{TA}/members/{world.ann}/move",
                     {"to_team_id": TB, "reason": "reorg"}, 200)

    events = world.admin.get("/v1/events", after=0, limit=500)["items"]
    validated_types(events)
    assert {e["type"] for e in events} >= {
        "opsledger.teams.PrincipalBound.v1", "opsledger.teams.MemberMovedOut.v1",
        "opsledger.teams.MemberMovedIn.v1"}
