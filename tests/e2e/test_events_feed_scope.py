"""The events feed: team scope for service and auditor tokens, and cursor paging
(issue 10: OWASP API1, and the contract hole of a feed that ignored ``cursor``).

Positions stay global, so a scoped feed has gaps, and a page may be short or empty
while ``next_cursor`` still advances.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from tests.e2e.conftest import Api

TA = str(uuid4())
TB = str(uuid4())
ADMIN = "admin-token-0123456789"
SERVICE_A = "feed-service-a-token00"
AUDITOR_A = "feed-auditor-a-token00"
AUDITOR_AB = "feed-auditor-ab-token0"
TOKENS = {
    ADMIN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]},
    SERVICE_A: {"principal": "service:svc", "roles": ["service"], "teams": [TA]},
    AUDITOR_A: {"principal": "user:aud", "roles": ["auditor"], "teams": [TA]},
    AUDITOR_AB: {"principal": "user:abe", "roles": ["auditor"], "teams": [TA, TB]},
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", tokens=json.dumps(TOKENS),
                    min_position_timeout=5.0)


def speaking(api: Api, token: str) -> Api:
    other = Api(api.client)
    other.headers = {"Authorization": f"Bearer {token}"}
    return other


def team_events(admin: Api, team_id: str, name: str, incidents: int = 1) -> None:
    admin.post("/v1/teams", {"name": name, "team_id": team_id}, expect=201)
    member = admin.member(team_id, f"{name} Member")
    for _ in range(incidents):
        incident = admin.incident(team_id)
        admin.post(f"/v1/incidents/{incident}/acknowledge", expect=200)
        admin.post(f"/v1/incidents/{incident}/notes", {"text": f"{name} secret"}, expect=200)
    admin.post("/v1/feedback", {"kind": "peer", "team_id": team_id,
                                "subject_member_id": member, "text": f"{name} secret"},
               expect=201)


def follow(api: Api, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every event of the feed by following ``next_cursor``, and every page answered."""
    events: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        page = api.get("/v1/events", **params, **({"cursor": cursor} if cursor else {}))
        pages.append(page)
        events += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return events, pages
    raise AssertionError("following next_cursor never ended")


def teams_of(events: list[dict[str, Any]]) -> dict[str, str]:
    """Each subject's team, from the creating events of the full feed."""
    teams: dict[str, str] = {}
    for e in events:
        if e["type"].startswith("opsledger.teams."):
            teams[e["subject"]] = e["subject"]
        elif e["streamversion"] == 1:
            teams[e["subject"]] = e["data"]["team_id"]
    return teams


@pytest.fixture
def admin(api: Api) -> Api:
    admin = speaking(api, ADMIN)
    team_events(admin, TA, "Alpha")
    team_events(admin, TB, "Bravo", incidents=6)  # team B's events outnumber A's
    team_events(admin, str(uuid4()), "Charlie")
    return admin


def test_following_next_cursor_reads_the_whole_log_once(admin: Api) -> None:
    events, pages = follow(admin, limit=2)

    # Every public event once, in order (private records, such as the member directory's,
    # take positions the feed never shows).
    whole = admin.get("/v1/events", after=0, limit=500)["items"]
    assert len(whole) < 500
    assert [e["position"] for e in events] == [e["position"] for e in whole]
    assert [e["position"] for e in events] == sorted({e["position"] for e in events})
    assert events[-1]["position"] <= admin.head()
    assert all(len(p["items"]) <= 2 for p in pages)


def test_a_scoped_service_or_auditor_token_reads_only_its_teams_events(admin: Api) -> None:
    everything, _ = follow(admin, limit=500)
    team = teams_of(everything)
    of_a = [e for e in everything if team[e["subject"]] == TA]
    assert 0 < len(of_a) < len(everything)

    for token in (SERVICE_A, AUDITOR_A):
        reader = speaking(admin, token)
        for limit in (1, 3, 500):
            events, _ = follow(reader, limit=limit)
            assert events == of_a, (token, limit)
            assert "Bravo secret" not in json.dumps(events)
    events, _ = follow(speaking(admin, AUDITOR_AB), limit=7)
    assert events == [e for e in everything if team[e["subject"]] in {TA, TB}]


def test_a_scoped_page_may_be_empty_while_its_cursor_advances(admin: Api) -> None:
    reader = speaking(admin, SERVICE_A)

    events, pages = follow(reader, limit=1)

    cursors = [int(p["next_cursor"]) for p in pages[:-1]]
    assert cursors == sorted(set(cursors))  # strictly forward
    assert any(p["items"] == [] and p["next_cursor"] for p in pages)
    assert pages[-1]["items"] == [] and pages[-1]["next_cursor"] is None
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and positions[-1] < admin.head()  # gaps


def test_cursor_continues_where_the_previous_page_ended_and_wins_over_after(
    admin: Api,
) -> None:
    public = [e["position"] for e in admin.get("/v1/events", after=0, limit=500)["items"]]
    first = admin.get("/v1/events", limit=3)
    assert [e["position"] for e in first["items"]] == public[:3]
    assert first["next_cursor"] and first["next_after"] == public[2]

    second = admin.get("/v1/events", limit=3, after=0, cursor=first["next_cursor"])

    assert [e["position"] for e in second["items"]] == public[3:6]


def test_a_scoped_feed_decides_teams_from_the_event_store_not_the_read_models(
    admin: Api, client: TestClient
) -> None:
    everything, _ = follow(admin, limit=500)
    team = teams_of(everything)
    store = client.app.state.runtime.store  # type: ignore[attr-defined]
    with sqlite3.connect(store.path) as db:  # read models that say otherwise
        for table in ("c_incidents", "c_feedback", "c_audit_trail"):
            db.execute(f"UPDATE {table} SET body = json_set(body, '$.team_id', ?)", (TA,))

    events, _ = follow(speaking(admin, SERVICE_A), limit=4)

    assert events == [e for e in everything if team[e["subject"]] == TA]


@pytest.mark.parametrize("params, status", [
    ({"after": 2**63}, 422),
    ({"after": 10**30}, 422),
    ({"after": -1}, 422),
    ({"cursor": str(2**63)}, 400),
    ({"cursor": "9" * 20}, 400),
    ({"cursor": "-1"}, 400),
    ({"cursor": "1e3"}, 400),
    ({"cursor": "WzEsIngiXQ"}, 400),  # a list cursor of another route
    ({"cursor": "\u0661"}, 400),  # a digit, but not an ASCII one
])
def test_positions_a_store_cannot_hold_are_refused(
    api: Api, params: dict[str, Any], status: int
) -> None:
    problem = speaking(api, ADMIN).get("/v1/events", expect=status, **params)

    assert problem["status"] == status


@pytest.mark.parametrize("params", [{"after": 2**63 - 1}, {"cursor": str(2**63 - 1)}])
def test_the_largest_position_is_an_empty_end_of_the_log(
    admin: Api, params: dict[str, Any]
) -> None:
    page = admin.get("/v1/events", **params)

    assert (page["items"], page["next_cursor"]) == ([], None)
    assert page["head"] == admin.head()
