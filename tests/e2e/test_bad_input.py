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


@pytest.mark.parametrize("when", ["-1", "1700000000", "1e20", "2026-13-45T00:00:00Z",
                                  "2026-02-30T00:00:00Z", "yesterday"])
def test_a_time_that_is_not_rfc_3339_is_422(api: Api, when: str) -> None:
    auditor = api.as_("auditor")
    problem = auditor.get("/v1/audit", expect=422, since=when)
    assert problem["errors"][0]["loc"] == ["query", "since"]


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


# -- stored bad input: refused (422), nothing appended -------------------------------

NUL = "\u0000"
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


def refused(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    before = api.head()
    r = api.post(path, body)
    assert r.status_code == 422, (path, body, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert api.head() == before, f"{path} appended on a refused body"
    return r.json()  # type: ignore[no-any-return]


def accepted(api: Api, path: str, body: dict[str, Any]) -> str:
    r = api.post(path, body)
    assert r.status_code in (200, 201), (path, body, r.status_code, r.text)
    return str(r.json()["id"])


def with_text(body: dict[str, Any], field: str, text: str) -> dict[str, Any]:
    """``body`` with ``text`` spliced into the string ``field`` (or its first item)."""
    value = body[field]
    if isinstance(value, list):
        first = value[0]
        if isinstance(first, dict):  # a list of objects: the first one's title
            return {**body, field: [{**first, "title": first["title"] + text}, *value[1:]]}
        return {**body, field: [first + text, *value[1:]]}
    return {**body, field: f"{value[:2]}{text}{value[2:]}"}


def commands(api: Api) -> list[tuple[str, dict[str, Any], list[str]]]:
    """(path, a valid body, its text fields), in an order in which each one is accepted."""
    team = api.team("Text checks")
    member = api.member(team, "Ada Lovelace")
    other = api.member(team, "Grace Hopper")
    goal = {"team_id": team, "owner_id": member, "title": "Fewer pages", "metric": "pages",
            "baseline": 10, "target": 2, "unit": "per week", "deadline": "2099-12-31"}
    incident = {"team_id": team, "severity": "SEV2", "service": "checkout",
                "summary": "Checkout latency above SLO"}
    return [
        ("/v1/teams", {"name": "Payments", "mission": "move money"}, ["name", "mission"]),
        (f"/v1/teams/{team}/members",
         {"name": "Linus T", "email": "linus@example.com", "role": "SRE",
          "responsibilities": ["on-call", "reviews"]},
         ["name", "email", "role", "responsibilities"]),
        (f"/v1/teams/{team}/members/{other}/role",
         {"role": "Senior SRE", "reason": "grew into it", "responsibilities": ["mentoring"]},
         ["role", "reason", "responsibilities"]),
        ("/v1/goals", goal, ["title", "metric", "unit"]),
        ("/v1/incidents", incident, ["service", "summary"]),
        ("/v1/feedback", {"kind": "customer", "team_id": team, "text": "fast fix, thanks",
                          "channel": "email"}, ["text", "channel"]),
    ]


@pytest.mark.parametrize("bad", [NUL, *BIDI], ids=lambda c: f"U+{ord(c):04X}")
def test_nul_and_bidirectional_controls_are_refused_in_every_text_field(
        api: Api, bad: str) -> None:
    for path, body, fields in commands(api):
        for field in fields:
            # when one text field carries the character
            problem = refused(api, path, with_text(body, field, bad))
            # then the problem names the field
            assert [e["loc"][:2] for e in problem["errors"]] == [["body", field]], problem
        # and the same body without it is accepted
        accepted(api, path, body)


def test_text_is_checked_in_nested_bodies_and_on_every_incident_step(api: Api) -> None:
    team = api.team()
    owner = api.member(team)
    incident = api.incident(team, "SEV2")
    steps = [
        ("acknowledge", None),
        ("escalate", {"severity": "SEV1", "reason": "customers affected"}),
        ("notes", {"text": "rolled back the deploy"}),
        ("mitigate", {"summary": "traffic shifted"}),
        ("resolve", {"summary": "fixed", "root_cause": "a bad config push"}),
        ("postmortem", {"causes": ["config push without canary"],
                        "action_items": [{"title": "add a canary", "owner_id": owner,
                                          "due": "2099-01-31"}]}),
    ]
    for step, body in steps:
        path = f"/v1/incidents/{incident}/{step}"
        for field in [f for f in body or {} if f != "severity"]:
            refused(api, path, with_text(body or {}, field, "\u202e"))
            refused(api, path, with_text(body or {}, field, NUL))
        api.post(path, body, expect=200)


def test_goal_and_feedback_follow_up_texts_are_checked(api: Api) -> None:
    team = api.team()
    owner = api.member(team)
    goal = accepted(api, "/v1/goals", {
        "team_id": team, "owner_id": owner, "title": "Fewer pages", "metric": "pages",
        "baseline": 10, "target": 2, "unit": "per week", "deadline": "2099-12-31"})
    for path, body in ((f"/v1/goals/{goal}/check-ins", {"value": 8, "note": "better"}),
                       (f"/v1/goals/{goal}/target", {"target": 1, "reason": "ambitious"})):
        refused(api, path, with_text(body, list(body)[1], "\u2067"))
        accepted(api, path, body)
    feedback = accepted(api, "/v1/feedback", {"kind": "customer", "team_id": team,
                                              "text": "slow answers"})
    body = {"resolution": "added a second on-call"}
    refused(api, f"/v1/feedback/{feedback}/resolve", with_text(body, "resolution", NUL))


def test_ordinary_unicode_text_is_kept(api: Api) -> None:
    # Right-to-left scripts, emoji, tabs and newlines are text, not controls.
    team = accepted(api, "/v1/teams", {"name": "فريق العمليات 🚒",
                                       "mission": "line one\n\tline two"})
    view = api.get(f"/v1/teams/{team}", min_position=api.head())
    assert view["name"] == "فريق العمليات 🚒"


@pytest.mark.parametrize("effective_date", ["2030-13-01", "0000-00-00", "2030-02-30",
                                            "2030-00-10", "2030-04-31"])
def test_an_effective_date_must_be_a_real_calendar_date(api: Api, effective_date: str) -> None:
    team = api.team()
    member = api.member(team)
    path = f"/v1/teams/{team}/members/{member}/role"
    body = {"role": "Senior SRE", "reason": "promotion", "effective_date": effective_date}
    problem = refused(api, path, body)
    assert problem["errors"][0]["loc"] == ["body", "effective_date"]
    accepted(api, path, {**body, "effective_date": "2030-12-01"})


@pytest.mark.parametrize("flag", [True, False])
def test_booleans_are_not_numbers_or_scores(api: Api, flag: bool) -> None:
    team = api.team()
    owner = api.member(team)
    goal_body = {"team_id": team, "owner_id": owner, "title": "Fewer pages", "metric": "pages",
                 "baseline": 10, "target": 2, "unit": "per week", "deadline": "2099-12-31"}
    for field in ("baseline", "target"):
        problem = refused(api, "/v1/goals", {**goal_body, field: flag})
        assert problem["errors"][0]["loc"] == ["body", field]
    goal = accepted(api, "/v1/goals", goal_body)  # ints are still numbers
    refused(api, f"/v1/goals/{goal}/check-ins", {"value": flag})
    refused(api, f"/v1/goals/{goal}/target", {"target": flag, "reason": "why not"})
    accepted(api, f"/v1/goals/{goal}/check-ins", {"value": 7.5})
    feedback = {"kind": "customer", "team_id": team, "text": "ok", "score": flag}
    refused(api, "/v1/feedback", feedback)
    accepted(api, "/v1/feedback", {**feedback, "score": 0})


def test_numbers_in_text_are_not_numbers(api: Api) -> None:
    team = api.team()
    owner = api.member(team)
    body = {"team_id": team, "owner_id": owner, "title": "Fewer pages", "metric": "pages",
            "baseline": "10", "target": 2, "unit": "per week", "deadline": "2099-12-31"}
    refused(api, "/v1/goals", body)
    refused(api, "/v1/feedback", {"kind": "customer", "team_id": team, "text": "ok",
                                  "score": "7"})


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_if_match_is_no_condition(api: Api, empty: str) -> None:
    # given a team at version 1
    team = api.team()
    # when a command carries an empty If-Match header (schema-valid: any string)
    r = api.post(f"/v1/teams/{team}/members", {"name": "Bo", "email": "bo@example.com",
                                               "role": "SRE"}, **{"If-Match": empty})
    # then it runs as if the header were absent
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2


def test_a_malformed_if_match_is_still_a_400(api: Api) -> None:
    team = api.team()
    r = api.post(f"/v1/teams/{team}/members", {"name": "Bo", "email": "bo@example.com",
                                               "role": "SRE"}, **{"If-Match": "W/"})
    assert r.status_code == 400, r.text


def test_an_if_match_of_thousands_of_digits_is_a_400_not_a_500(api: Api) -> None:
    team = api.team()
    r = api.post("/v1/teams", {"name": "x"}, **{"If-Match": "9" * 5000})
    assert r.status_code == 400, r.text
    r = api.post(f"/v1/teams/{team}/members", {"name": "A", "email": "a@example.com",
                                               "role": "SRE"}, **{"If-Match": "1" * 20})
    assert r.status_code == 400, r.text
