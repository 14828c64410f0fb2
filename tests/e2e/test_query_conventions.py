"""The query conventions of API.md: pagination, read-your-writes, feeds, health."""

from __future__ import annotations

from uuid import uuid4

from tests.e2e.conftest import Api


def test_lists_page_with_an_opaque_cursor(api: Api) -> None:
    team = api.team()
    opened = [api.incident(team, "SEV4") for _ in range(7)]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"team_id": team, "limit": 3, "min_position": api.head()}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/v1/incidents", **params)
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == opened  # oldest first, each exactly once


def test_a_forged_cursor_is_400(api: Api) -> None:
    problem = api.get("/v1/teams", expect=400, cursor="not-a-cursor!!")
    assert problem["status"] == 400


def test_limit_is_bounded(api: Api) -> None:
    api.get("/v1/teams", expect=422, limit=501)
    api.get("/v1/teams", expect=422, limit=0)
    assert api.get("/v1/teams", limit=500)["items"] == []


def test_min_position_waits_for_the_read_models(api: Api) -> None:
    position = api.post("/v1/teams", {"name": "Fresh"}, expect=201).json()["position"]
    teams = api.get("/v1/teams", min_position=position)["items"]
    assert [t["name"] for t in teams] == ["Fresh"]


def test_min_position_beyond_the_log_is_409_at_once(api: Api) -> None:
    # Issue 10: a position the log has not reached cannot be waited for (it was a 503
    # after the full timeout); waits that time out are still 503 with Retry-After
    # (tests/e2e/test_read_your_writes.py).
    r = api.client.get("/v1/teams", params={"min_position": 10_000}, headers=api.headers)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"


def test_unknown_ids_on_queries_are_404(api: Api) -> None:
    for path in (f"/v1/teams/{uuid4()}", f"/v1/members/{uuid4()}", f"/v1/goals/{uuid4()}",
                 f"/v1/incidents/{uuid4()}", f"/v1/feedback/{uuid4()}",
                 f"/v1/performance/members/{uuid4()}/timeline",
                 f"/v1/performance/teams/{uuid4()}/metrics"):
        assert api.get(path, expect=404)["status"] == 404, path
    auditor = api.as_("auditor")
    auditor.get(f"/v1/compliance/entities/{uuid4()}/history", expect=404)
    auditor.get(f"/v1/compliance/entities/{uuid4()}", expect=404)
    api.get("/v1/teams/not-a-uuid", expect=422)


def test_events_feed_is_cloudevents_in_position_order(api: Api) -> None:
    team = api.team()
    api.member(team)
    api.incident(team)
    feed = api.as_("service").get("/v1/events", after=0, limit=500)
    positions = [e["position"] for e in feed["items"]]
    assert positions == [1, 3, 4] == [1, 3, api.head()]  # 2: the member's directory record
    first = feed["items"][0]
    assert first["specversion"] == "1.0"
    assert first["type"] == "opsledger.teams.TeamFormed.v1"
    assert first["subject"] == team
    for key in ("id", "source", "time", "streamversion", "actor", "correlationid",
                "causationid", "data", "prevhash", "hash"):
        assert key in first
    assert first["prevhash"] == "0" * 64
    assert feed["items"][1]["prevhash"] == first["hash"]
    page = api.as_("service").get("/v1/events", after=1, limit=1)
    assert [e["position"] for e in page["items"]] == [3]
    assert page["next_after"] == 3


def test_idempotency_records_are_not_in_the_public_feed(api: Api) -> None:
    api.post("/v1/teams", {"name": "Keyed"}, expect=201, **{"Idempotency-Key": "only-once"})
    api.post("/v1/teams", {"name": "Next"}, expect=201)
    feed = api.get("/v1/events", limit=500)["items"]
    assert [e["type"] for e in feed] == ["opsledger.teams.TeamFormed.v1"] * 2
    assert [e["position"] for e in feed] == [1, 3]  # position 2 holds the key record


def test_health_readiness_and_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    api.team()
    api.get("/v1/teams", min_position=api.head())
    # Issue 10: positions and lag need a token; /metrics needs one
    # (tests/e2e/test_probes_and_metrics.py).
    ready = api.client.get("/readyz", headers=api.headers).json()
    assert ready["status"] == "ready"
    assert ready["projection_lag"] == 0
    metrics = api.client.get("/metrics", headers=api.headers).text
    assert "opsledger_projection_lag 0.0" in metrics
    assert "opsledger_head_position 1.0" in metrics


def test_openapi_document_and_docs_are_served(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "/v1/incidents/{incident_id}/postmortem" in spec["paths"]
    assert api.client.get("/docs").status_code == 200


def test_findings_name_a_resolved_sev2_without_postmortem(api: Api) -> None:
    team = api.team()
    incident = api.incident(team, "SEV2")
    for step, body in (("acknowledge", None), ("resolve", {"summary": "done"})):
        api.post(f"/v1/incidents/{incident}/{step}", body, expect=200)
    auditor = api.as_("auditor")
    findings = auditor.get("/v1/compliance/findings", team_id=team, min_position=api.head())
    assert findings["items"] == [] or all(f["subject_id"] == incident
                                          for f in findings["items"])
    # Not yet overdue (5 working days), so nothing is open for the postmortem control.
    assert not [f for f in findings["items"]
                if f["control"] == "postmortem_overdue" and f["status"] == "open"]
    api.as_("member").get("/v1/compliance/findings", expect=403)
