"""Incident times over HTTP: when the impact began, reopening, duplicates linked both
ways and left out of the team's metrics, and each stage's time in seconds."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.test_business_time import ago, z


def an_incident(api: Api, team: str, minutes_ago: float) -> str:
    return str(api.post("/v1/incidents", {
        "team_id": team, "severity": "SEV3", "service": "checkout", "summary": "5xx",
        "occurred_at": ago(minutes_ago)}, expect=201).json()["id"])


def at_least(api: Api, answer: Any, path: str) -> dict[str, Any]:
    return api.get(path, min_position=answer.json()["position"])


def test_an_incident_answers_each_stage_from_the_impact_start(api: Api) -> None:
    team = api.team(occurred_at=ago(24 * 60))
    incident = an_incident(api, team, 60)
    api.post(f"/v1/incidents/{incident}/acknowledge", {"occurred_at": ago(55)}, expect=200)
    started = ago(80)
    api.post(f"/v1/incidents/{incident}/impact", {"started_at": started, "reason": "graphs",
                                                  "occurred_at": ago(50)}, expect=200)
    api.post(f"/v1/incidents/{incident}/mitigate", {"summary": "rolled back",
                                                    "occurred_at": ago(40)}, expect=200)
    done = api.post(f"/v1/incidents/{incident}/resolve", {"summary": "fixed",
                                                         "occurred_at": ago(20)}, expect=200)

    doc = at_least(api, done, f"/v1/incidents/{incident}")
    assert doc["impact_started_at"] == z(started)
    expected = {"time_to_detect_seconds": 1200, "time_to_acknowledge_seconds": 1500,
                "time_to_mitigate_seconds": 2400, "time_to_resolve_seconds": 3600,
                "mtta_seconds": 300, "mttr_seconds": 2400}
    assert {key: round(doc[key]) for key in expected} == expected


def test_an_impact_after_the_opening_is_a_409_that_appends_nothing(api: Api) -> None:
    team = api.team(occurred_at=ago(24 * 60))
    opened = api.post("/v1/incidents", {
        "team_id": team, "severity": "SEV3", "service": "checkout", "summary": "5xx",
        "occurred_at": ago(60)}, expect=201)
    incident = opened.json()["id"]

    problem = api.post(f"/v1/incidents/{incident}/impact",
                       {"started_at": ago(50), "reason": "late"}, expect=409).json()

    assert "after it was opened" in problem["detail"]
    # Read at the opening's position at least: a read without one may come before it.
    assert at_least(api, opened, f"/v1/incidents/{incident}")["version"] == 1


def test_a_resolved_incident_is_reopened(api: Api) -> None:
    team = api.team(occurred_at=ago(24 * 60))
    incident = an_incident(api, team, 60)
    api.post(f"/v1/incidents/{incident}/acknowledge", {"occurred_at": ago(55)}, expect=200)
    api.post(f"/v1/incidents/{incident}/resolve", {"summary": "fixed", "occurred_at": ago(30)},
             expect=200)

    answer = api.post(f"/v1/incidents/{incident}/reopen", {"reason": "errors are back"},
                      expect=200)

    doc = at_least(api, answer, f"/v1/incidents/{incident}")
    assert (doc["status"], doc["resolved_at"], doc["time_to_resolve_seconds"]) == (
        "open", None, None)
    api.post(f"/v1/incidents/{incident}/reopen", {"reason": "again"}, expect=409)


def test_a_duplicate_is_linked_both_ways_and_left_out_of_the_metrics(api: Api) -> None:
    team = api.team(occurred_at=ago(24 * 60))
    original = an_incident(api, team, 60)
    duplicate = an_incident(api, team, 58)
    api.post(f"/v1/incidents/{duplicate}/duplicate",
             {"of_incident_id": duplicate, "reason": "same"}, expect=422)
    api.post(f"/v1/incidents/{duplicate}/duplicate",
             {"of_incident_id": "00000000-0000-4000-8000-00000000dead", "reason": "same"},
             expect=404)

    answer = api.post(f"/v1/incidents/{duplicate}/duplicate",
                      {"of_incident_id": original, "reason": "same outage"}, expect=200)

    doc = at_least(api, answer, f"/v1/incidents/{duplicate}")
    assert (doc["status"], doc["duplicate_of"], doc["duplicates"]) == (
        "closed", original, [])
    assert api.get(f"/v1/incidents/{original}")["duplicates"] == [duplicate]
    listed = {i["id"]: i for i in api.get("/v1/incidents", team_id=team)["items"]}
    assert (listed[original]["duplicates"], listed[duplicate]["duplicate_of"]) == (
        [duplicate], original)
    rows = api.get(f"/v1/performance/teams/{team}/metrics", period="month")["items"]
    assert sum(row["incidents_opened"] for row in rows) == 1
    assert set(rows[-1]["time_to_acknowledge_seconds"]) == {"count", "mean", "median", "p90"}
