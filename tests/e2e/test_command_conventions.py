"""The command conventions of API.md: answers, If-Match, Idempotency-Key, bad input."""

from __future__ import annotations

from uuid import uuid4

from tests.e2e.conftest import Api


def test_create_answers_201_with_id_version_and_position(api: Api) -> None:
    r = api.post("/v1/teams", {"name": "SRE", "mission": "Keep checkout up"}, expect=201)
    body = r.json()
    assert set(body) == {"id", "version", "position"}
    assert body["version"] == 1
    assert body["position"] == api.head()
    assert r.headers["etag"] == '"1"'


def test_client_supplied_id_is_kept_and_cannot_be_reused(api: Api) -> None:
    team_id = str(uuid4())
    created = api.post("/v1/teams", {"name": "A", "team_id": team_id}, expect=201).json()
    assert created["id"] == team_id
    head = api.head()
    problem = api.post("/v1/teams", {"name": "B", "team_id": team_id}, expect=409).json()
    assert "already exists" in problem["detail"]
    assert api.head() == head


def test_update_answers_200_and_positions_increase(api: Api) -> None:
    team = api.team()
    member = api.member(team)
    r = api.post(f"/v1/teams/{team}/members/{member}/role",
                 {"role": "Incident Commander", "reason": "on-call rotation"}, expect=200)
    assert r.json()["id"] == member
    assert r.json()["version"] == 3
    assert r.json()["position"] == api.head()


def test_stale_if_match_gets_412_and_appends_nothing(api: Api) -> None:
    team = api.team()
    api.member(team)  # team is now at version 2
    head = api.head()
    r = api.post(f"/v1/teams/{team}/members", {"name": "Bo", "email": "bo@example.com",
                                               "role": "SRE"}, expect=412, **{"If-Match": "1"})
    assert r.headers["content-type"] == "application/problem+json"
    assert api.head() == head
    api.post(f"/v1/teams/{team}/members", {"name": "Bo", "email": "bo@example.com",
                                           "role": "SRE"}, expect=201, **{"If-Match": "2"})


def test_malformed_if_match_is_a_400(api: Api) -> None:
    team = api.team()
    api.post(f"/v1/teams/{team}/lead", {"member_id": str(uuid4()), "reason": "x"},
             expect=400, **{"If-Match": "latest"})


def test_repeated_idempotency_key_returns_first_answer_and_appends_nothing(api: Api) -> None:
    key = {"Idempotency-Key": f"k-{uuid4()}"}
    first = api.post("/v1/teams", {"name": "Payments"}, expect=201, **key).json()
    head = api.head()
    again = api.post("/v1/teams", {"name": "Payments"}, expect=201, **key).json()
    assert again == first
    assert api.head() == head
    teams = api.get("/v1/teams", min_position=head)["items"]
    assert [t["name"] for t in teams].count("Payments") == 1


def test_idempotency_key_reused_for_another_request_is_422(api: Api) -> None:
    key = {"Idempotency-Key": f"k-{uuid4()}"}
    api.post("/v1/teams", {"name": "One"}, expect=201, **key)
    head = api.head()
    api.post("/v1/teams", {"name": "Two"}, expect=422, **key)
    assert api.head() == head


def test_idempotency_keys_are_per_principal(api: Api) -> None:
    key = {"Idempotency-Key": "shared-key"}
    a = api.post("/v1/teams", {"name": "One"}, expect=201, **key).json()
    b = api.as_("lead").post("/v1/teams", {"name": "One"}, expect=201, **key).json()
    assert a["id"] != b["id"]


def test_domain_rule_broken_is_409_problem(api: Api) -> None:
    team = api.team()
    member = api.member(team)
    api.post(f"/v1/teams/{team}/members/{member}/leave", {"reason": "moved on"}, expect=200)
    head = api.head()
    problem = api.post(f"/v1/teams/{team}/lead", {"member_id": member, "reason": "x"},
                       expect=409).json()
    assert problem["status"] == 409
    assert problem["title"] == "Conflict"
    assert "left" in problem["detail"]
    assert api.head() == head


def test_unknown_ids_are_404(api: Api) -> None:
    api.post(f"/v1/incidents/{uuid4()}/acknowledge", expect=404)
    api.post(f"/v1/goals/{uuid4()}/check-ins", {"value": 1}, expect=404)
    team = api.team()
    api.post(f"/v1/teams/{team}/members/{uuid4()}/role", {"role": "x", "reason": "y"},
             expect=404)
    api.post(f"/v1/teams/{uuid4()}/members", {"name": "A", "email": "a@example.com",
                                              "role": "SRE"}, expect=404)


def test_an_incident_id_is_not_a_team_id(api: Api) -> None:
    team = api.team()
    incident = api.incident(team)
    api.post(f"/v1/teams/{incident}/lead", {"member_id": str(uuid4()), "reason": "x"},
             expect=404)


def test_malformed_json_is_400(api: Api) -> None:
    head = api.head()
    r = api.client.post("/v1/teams", content=b'{"name": ', headers={
        **api.headers, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in r.text
    assert api.head() == head


def test_wrong_types_unknown_fields_and_overlong_strings_are_422(api: Api) -> None:
    head = api.head()
    for body in (
        {"name": 42},
        {"name": "SRE", "colour": "blue"},
        {"name": "x" * 201},
        {},
        [],
    ):
        problem = api.post("/v1/teams", body, expect=422).json()
        assert problem["errors"], body
    team = api.team()
    head = api.head()
    api.post("/v1/incidents", {"team_id": team, "severity": "SEV9", "service": "a",
                               "summary": "b"}, expect=422)
    api.post("/v1/feedback", {"kind": "customer", "team_id": team, "text": "hi",
                              "score": 11}, expect=422)
    api.post("/v1/goals", {"team_id": team, "owner_id": str(uuid4()), "title": "t",
                           "metric": "m", "baseline": 1, "target": 2, "unit": "%",
                           "deadline": "next week"}, expect=422)
    api.post(f"/v1/incidents/{uuid4()}/acknowledge", {"note": "unexpected"}, expect=422)
    assert api.head() == head


def test_bodies_over_one_mebibyte_are_413(api: Api) -> None:
    head = api.head()
    r = api.client.post("/v1/teams", content=b'{"name": "' + b"x" * (1024 * 1024) + b'"}',
                        headers={**api.headers, "Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"

    def chunks():  # no Content-Length: the limit still holds while streaming
        yield b'{"name": "'
        for _ in range(40):
            yield b"y" * 32768
        yield b'"}'

    r = api.client.post("/v1/teams", content=chunks(), headers={
        **api.headers, "Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert api.head() == head


def test_correlation_id_header_is_recorded_and_actor_is_the_principal(api: Api) -> None:
    r = api.as_("lead").post("/v1/teams", {"name": "Ops"}, expect=201,
                             **{"X-Correlation-Id": "corr-123"})
    events = api.get("/v1/events", after=r.json()["position"] - 1, limit=1)["items"]
    assert events[0]["actor"] == "user:lena"
    assert events[0]["correlationid"] == "corr-123"


def test_a_member_may_be_linked_to_the_principal_who_acts_as_them(api: Api) -> None:
    team = api.team()

    member = api.member(team, principal="user:ada.l")

    view = api.get(f"/v1/members/{member}", min_position=api.head())
    assert view["principal"] == "user:ada.l"


def test_a_principal_that_is_not_a_user_is_a_422_and_appends_nothing(api: Api) -> None:
    team = api.team()
    head = api.head()

    r = api.post(f"/v1/teams/{team}/members", {"name": "Bo", "email": "bo@example.com",
                                               "role": "SRE", "principal": "service:ci"},
                 expect=422)

    assert r.headers["content-type"] == "application/problem+json"
    assert api.head() == head
