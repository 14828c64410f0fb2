"""Bad input is a clear 4xx problem document, never a 500, and nothing is appended."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.e2e.conftest import Api


def forged_cursor(value: Any) -> str:
    raw = json.dumps([value, "x"]).encode() if not isinstance(value, str) else value.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED_CURSORS = [
    forged_cursor([1]), forged_cursor({"a": 1}), forged_cursor(2**63), forged_cursor(10**30),
    forged_cursor("[1e999, \"x\"]"), forged_cursor("[NaN, \"x\"]"),
]


def list_routes(api: Api) -> list[tuple[str, dict[str, str]]]:
    team = api.team()
    member = api.member(team)
    return [
        ("/v1/teams", {}),
        ("/v1/goals", {"team_id": team}),
        ("/v1/incidents", {"team_id": team}),
        ("/v1/feedback", {"team_id": team}),
        ("/v1/audit", {}),
        (f"/v1/compliance/entities/{team}/history", {}),
        (f"/v1/performance/members/{member}/timeline", {}),
    ]


def test_a_forged_cursor_holding_a_list_an_object_or_a_huge_number_is_400(api: Api) -> None:
    # given a list route of every kind, with documents to page over
    routes = list_routes(api)
    head = api.head()
    for path, params in routes:
        for cursor in FORGED_CURSORS:
            # when a client sends a cursor the server never minted
            problem = api.get(path, expect=400, cursor=cursor, min_position=head, **params)
            # then it is a 400 problem document, not a 500
            assert problem["status"] == 400, (path, cursor)
            assert problem["detail"] == "the cursor is not valid"


def test_a_minted_cursor_still_pages(api: Api) -> None:
    for name in ("A", "B", "C"):
        api.team(name)
    first = api.get("/v1/teams", limit=2, min_position=api.head())
    second = api.get("/v1/teams", limit=2, cursor=first["next_cursor"])
    assert [t["name"] for t in first["items"] + second["items"]] == ["A", "B", "C"]


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                                  "9999-12-31T23:59:59-14:00"])
def test_a_time_whose_utc_conversion_overflows_is_422(api: Api, when: str) -> None:
    # given an entity and a member to ask about
    team = api.team()
    member = api.member(team)
    auditor = api.as_("auditor")
    head = api.head()
    asks = [
        (auditor, "/v1/audit", {"since": when}),
        (auditor, "/v1/audit", {"until": when}),
        (auditor, "/v1/audit/export", {"since": when}),
        (auditor, "/v1/audit/export", {"until": when, "format": "csv"}),
        (auditor, f"/v1/compliance/entities/{team}", {"as_of": when}),
        (api, f"/v1/performance/members/{member}/timeline", {"since": when}),
        (api, f"/v1/performance/members/{member}/timeline", {"until": when}),
    ]
    for who, path, params in asks:
        # when the time is valid RFC 3339 but has no UTC equivalent in range
        problem = who.get(path, expect=422, min_position=head, **params)
        # then it is a 422 naming the parameter, not a 500
        assert problem["status"] == 422, (path, params)
        [error] = problem["errors"]
        assert error["loc"] == ["query", next(iter(params))], (path, params)


def test_times_at_the_edges_of_the_range_are_accepted(api: Api) -> None:
    team = api.team()
    auditor = api.as_("auditor")
    head = api.head()
    records = auditor.get("/v1/audit", since="0001-01-01T00:00:00Z",
                          until="9999-12-31T23:59:59Z", min_position=head)["items"]
    assert [r["name"] for r in records] == ["TeamFormed"]
    assert auditor.get(f"/v1/compliance/entities/{team}",
                       as_of="2999-01-01T10:00:00+14:00")["as_of"] == "2998-12-31T20:00:00.000000Z"


def test_a_time_before_the_year_1000_still_compares_as_a_time(api: Api) -> None:
    # given a record made now
    api.team()
    auditor = api.as_("auditor")
    # when a client asks for everything since the year 999 (text order must be time order)
    records = auditor.get("/v1/audit", since="0999-06-01T00:00:00Z", min_position=api.head())
    # then today's record is in the answer
    assert [r["name"] for r in records["items"]] == ["TeamFormed"]
