"""Team scope on the audit and compliance reads (issue 10, OWASP API1).

Given two teams A and B with records of their own, a token scoped to team A (a lead or
an auditor) reads only team A's audit records, exports, entity history and as-of
state; naming team B is 403, an entity of team B is not found, and neither pages nor
cursors give team B away. A token for every team (``"*"``) reads everything.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import orjson
import pytest
from fastapi.testclient import TestClient

from infra.projecting.rebuild_embedded import rebuild_embedded
from infra.settings import Settings
from tests.e2e.conftest import Api

TA = str(uuid4())
TB = str(uuid4())
TC = str(uuid4())
ADMIN = "admin-token-0123456789"
LEAD_A = "scope-lead-a-token-000"
AUDITOR_A = "scope-auditor-a-token0"
AUDITOR_AB = "scope-auditor-ab-token"
LEAD_B = "scope-lead-b-token-000"
TOKENS = {
    ADMIN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]},
    LEAD_A: {"principal": "user:lia", "roles": ["lead"], "teams": [TA]},
    AUDITOR_A: {"principal": "user:aud", "roles": ["auditor"], "teams": [TA]},
    AUDITOR_AB: {"principal": "user:abe", "roles": ["auditor"], "teams": [TA, TB]},
    LEAD_B: {"principal": "user:bob", "roles": ["lead"], "teams": [TB]},
}
B_SECRET = "B private promotion reason"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", tokens=json.dumps(TOKENS),
                    min_position_timeout=5.0)


def speaking(api: Api, token: str) -> Api:
    other = Api(api.client)
    other.headers = {"Authorization": f"Bearer {token}"}
    return other


@dataclass
class World:
    admin: Api
    lead_a: Api
    auditor_a: Api
    auditor_ab: Api
    incident_a: str
    incident_b: str
    goal_b: str
    feedback_b: str
    member_b: str
    head: int


def a_team_with_records(api: Api, team_id: str, name: str, secret: str) -> dict[str, str]:
    api.post("/v1/teams", {"name": name, "team_id": team_id}, expect=201)
    lead = api.member(team_id, f"{name} Lead")
    other = api.member(team_id, f"{name} Bea")
    api.post(f"/v1/teams/{team_id}/members/{other}/role",
             {"role": "Senior SRE", "reason": secret}, expect=200)
    incident = api.incident(team_id)
    api.post(f"/v1/incidents/{incident}/escalate",
             {"severity": "SEV1", "reason": f"{secret} escalation"}, expect=200)
    goal = api.post("/v1/goals", {
        "team_id": team_id, "owner_id": lead, "title": f"{secret} goal", "metric": "p99",
        "baseline": 900.0, "target": 300.0, "unit": "ms", "deadline": "2030-12-31",
    }, expect=201).json()["id"]
    feedback = api.post("/v1/feedback", {
        "kind": "peer", "team_id": team_id, "subject_member_id": other,
        "text": f"{secret} peer feedback",
    }, expect=201).json()["id"]
    return {"incident": incident, "goal": goal, "feedback": feedback, "member": other}


@pytest.fixture
def world(api: Api) -> World:
    admin = speaking(api, ADMIN)
    a = a_team_with_records(admin, TA, "Alpha", "A reason")
    b = a_team_with_records(admin, TB, "Bravo", B_SECRET)
    a_team_with_records(admin, TC, "Charlie", "C reason")
    head = admin.head()
    admin.get("/v1/audit", min_position=head, limit=1)
    return World(admin, speaking(api, LEAD_A), speaking(api, AUDITOR_A),
                 speaking(api, AUDITOR_AB), a["incident"], b["incident"], b["goal"],
                 b["feedback"], b["member"], head)


def every_record(api: Api, path: str = "/v1/audit", **params: object) -> list[dict]:
    records: list[dict] = []
    cursor = None
    for _ in range(1000):
        page = api.get(path, limit=500, **params, **({"cursor": cursor} if cursor else {}))
        records += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return records
    raise AssertionError("the pages never ended")


def export(api: Api, **params: object) -> str:
    r = api.client.get("/v1/audit/export", params=params, headers=api.headers)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.text


# -- audit trail -------------------------------------------------------------------------


def test_a_scoped_audit_trail_holds_only_its_teams_records(world: World) -> None:
    everything = every_record(world.admin)
    of_a = [r for r in everything if r["team_id"] == TA]
    assert of_a and len(of_a) < len(everything)

    for reader in (world.lead_a, world.auditor_a):
        records = every_record(reader)
        assert records == of_a
        assert B_SECRET not in json.dumps(records)


def test_a_scoped_audit_trail_of_another_teams_entity_is_empty(world: World) -> None:
    for entity in (TB, world.incident_b, world.goal_b, world.feedback_b):
        assert world.lead_a.get("/v1/audit", entity_id=entity)["items"] == []
        assert world.admin.get("/v1/audit", entity_id=entity)["items"]


def test_naming_another_team_is_403(world: World) -> None:
    for reader in (world.lead_a, world.auditor_a):
        for path in ("/v1/audit", "/v1/audit/export", "/v1/compliance/findings"):
            problem = reader.get(path, expect=403, team_id=TB)
            assert problem["status"] == 403, path


def test_naming_its_own_team_filters_to_it(world: World) -> None:
    own = every_record(world.lead_a, team_id=TA)
    assert own and {r["team_id"] for r in own} == {TA}
    assert every_record(world.admin, team_id=TB) == [
        r for r in every_record(world.admin) if r["team_id"] == TB
    ]


def test_a_token_of_several_teams_reads_all_of_them(world: World) -> None:
    records = every_record(world.auditor_ab)
    assert {r["team_id"] for r in records} == {TA, TB}  # not team C
    assert records == [r for r in every_record(world.admin) if r["team_id"] in {TA, TB}]


def test_pages_and_cursors_of_a_scoped_trail_reveal_no_other_team(world: World) -> None:
    of_a = [r["id"] for r in every_record(world.admin) if r["team_id"] == TA]
    seen: list[str] = []
    cursor = None
    for _ in range(len(of_a) + 1):
        page = world.lead_a.get("/v1/audit", limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 1  # filtered in the query, not after paging
        _, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        assert last_id in of_a

    assert seen == of_a


# -- export ------------------------------------------------------------------------------


def test_a_scoped_export_holds_only_its_teams_records(world: World) -> None:
    of_a = [r["id"] for r in every_record(world.admin) if r["team_id"] == TA]

    jsonl = export(world.lead_a, format="jsonl")
    lines = [orjson.loads(line) for line in jsonl.splitlines()]
    assert [r["id"] for r in lines] == of_a
    assert B_SECRET not in jsonl

    text = export(world.auditor_a, format="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == of_a
    assert B_SECRET not in text

    everything = export(world.admin, format="jsonl")
    assert B_SECRET in everything


# -- compliance history and as-of state --------------------------------------------------


def test_the_history_and_state_of_another_teams_entity_are_not_found(world: World) -> None:
    for entity in (TB, world.incident_b, world.goal_b, world.feedback_b):
        for reader in (world.lead_a, world.auditor_a):
            reader.get(f"/v1/compliance/entities/{entity}/history", expect=404)
            reader.get(f"/v1/compliance/entities/{entity}", expect=404)
        assert world.admin.get(f"/v1/compliance/entities/{entity}/history")["items"]
        world.auditor_ab.get(f"/v1/compliance/entities/{entity}", expect=200)


def test_the_history_and_state_of_its_own_teams_entity_are_shown(world: World) -> None:
    history = world.lead_a.get(f"/v1/compliance/entities/{world.incident_a}/history")
    assert [r["version"] for r in history["items"]] == [1, 2]
    assert {r["team_id"] for r in history["items"]} == {TA}
    state = world.auditor_a.get(f"/v1/compliance/entities/{world.incident_a}")
    assert state["state"]["severity"] == "SEV1"
    assert world.auditor_a.get(f"/v1/compliance/entities/{TA}")["entity_id"] == TA


# -- records folded before team_id existed -----------------------------------------------


def test_records_without_a_team_id_are_hidden_from_scoped_tokens_until_a_rebuild(
    world: World, client: TestClient
) -> None:
    store = client.app.state.runtime.store  # type: ignore[attr-defined]
    with sqlite3.connect(store.path) as db:  # as a store folded before the field existed
        for table in ("c_audit_trail", "c_compliance_history"):
            db.execute(f"UPDATE {table} SET body = json_remove(body, '$.team_id')")
    assert world.lead_a.get("/v1/audit")["items"] == []
    world.lead_a.get(f"/v1/compliance/entities/{world.incident_a}/history", expect=404)
    assert export(world.lead_a) == ""
    assert len(every_record(world.admin)) > 0  # a token of every team still reads them

    rebuild_embedded(client.app.state.runtime.ledger, store)  # type: ignore[attr-defined]

    assert {r["team_id"] for r in every_record(world.lead_a)} == {TA}
    world.lead_a.get(f"/v1/compliance/entities/{world.incident_a}/history", expect=200)


# -- findings ----------------------------------------------------------------------------


def overdue_action_items(api: Api, team_id: str, count: int) -> str:
    """A resolved incident whose postmortem has ``count`` action items past due."""
    incident = api.incident(team_id, "SEV3")
    owner = api.member(team_id, "Owen Owner")
    for step, body in (("acknowledge", None), ("resolve", {"summary": "fixed"})):
        api.post(f"/v1/incidents/{incident}/{step}", body, expect=200)
    items = [{"title": f"item {n}", "owner_id": owner, "due": f"2020-{n % 12 + 1:02d}-01"}
             for n in range(count)]
    api.post(f"/v1/incidents/{incident}/postmortem",
             {"causes": ["a cause"], "action_items": items}, expect=200)
    return incident


def a_self_role_change(api: Api, team_id: str) -> None:
    """The admin promotes a member who is the admin (by name): a segregation finding."""
    member = api.member(team_id, "Admin")
    api.post(f"/v1/teams/{team_id}/members/{member}/role",
             {"role": "Staff SRE", "reason": "self-promotion"}, expect=200)


def every_finding(api: Api, **params: object) -> list[dict]:
    return every_record(api, "/v1/compliance/findings", **params)


@pytest.fixture
def findings_world(world: World) -> World:
    overdue_action_items(world.admin, TA, 3)
    overdue_action_items(world.admin, TB, 2)
    a_self_role_change(world.admin, TB)
    world.admin.get("/v1/audit", min_position=world.admin.head(), limit=1)
    return world


def test_findings_of_a_scoped_token_are_only_its_teams(findings_world: World) -> None:
    w = findings_world
    everything = every_finding(w.admin)
    assert {f["team_id"] for f in everything} == {TA, TB}
    assert {f["control"] for f in everything if f["team_id"] == TB} == {
        "action_item_overdue", "self_role_change"}

    for reader in (w.lead_a, w.auditor_a):
        found = every_finding(reader)
        assert found == [f for f in everything if f["team_id"] == TA]
        assert len(found) == 3
        assert every_finding(reader, team_id=TA) == found
    assert every_finding(w.admin, team_id=TB) == [f for f in everything if f["team_id"] == TB]


def test_findings_are_paged_in_a_stable_order(findings_world: World) -> None:
    w = findings_world
    everything = w.admin.get("/v1/compliance/findings", limit=500)
    assert everything["next_cursor"] is None
    pages: list[list[dict]] = []
    cursor = None
    for _ in range(len(everything["items"]) + 1):
        page = w.admin.get("/v1/compliance/findings", limit=2,
                           **({"cursor": cursor} if cursor else {}))
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [f for page in pages for f in page] == everything["items"]
    assert [len(page) for page in pages] == [2, 2, 2]  # 3 + 2 + 1 findings


def test_findings_page_50_by_default_and_500_at_most(world: World) -> None:
    overdue_action_items(world.admin, TA, 55)
    head = world.admin.head()

    first = world.lead_a.get("/v1/compliance/findings", min_position=head)
    assert len(first["items"]) == 50 and first["next_cursor"]
    rest = world.lead_a.get("/v1/compliance/findings", cursor=first["next_cursor"])
    assert len(rest["items"]) == 5 and rest["next_cursor"] is None
    world.lead_a.get("/v1/compliance/findings", expect=422, limit=501)


@pytest.mark.parametrize("value", ["not a time", 5, None, ["x"]])
def test_a_forged_findings_cursor_is_400(world: World, value: object) -> None:
    forged = base64.urlsafe_b64encode(json.dumps([value, "x"]).encode()).decode()

    problem = world.admin.get("/v1/compliance/findings", expect=400, cursor=forged)
    assert problem["status"] == 400
