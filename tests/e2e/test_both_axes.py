"""As-of on both axes over HTTP: an entity as it was at ``effective_at`` (business time),
as known at ``as_of`` (recording time, default now); a team's roster in force at
``effective_at``, role changes counting from their ``effective_date``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.envelope import iso_time
from tests.e2e.conftest import SCOPED_TEAM, Api


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def z(moment: str) -> str:
    return iso_time(datetime.fromisoformat(moment))


def test_the_auditors_question_on_both_axes(api: Api) -> None:
    """An incident opened 30 minutes ago (entered then) and acknowledged 25 minutes ago,
    entered later: 20 minutes ago, as known before the acknowledgement was entered, it
    was unacknowledged; as known now, it was acknowledged 25 minutes ago."""
    team = api.team(occurred_at=ago(24 * 60))
    incident = api.post("/v1/incidents", {
        "team_id": team, "severity": "SEV1", "service": "checkout", "summary": "5xx spike",
        "occurred_at": ago(30)}, expect=201).json()["id"]
    time.sleep(0.01)  # the acknowledgement is recorded strictly later
    acked_at = ago(25)
    position = api.post(f"/v1/incidents/{incident}/acknowledge", {"occurred_at": acked_at},
                        expect=200).json()["position"]
    auditor = api.as_("auditor")
    history = auditor.get(f"/v1/compliance/entities/{incident}/history",
                          min_position=position)["items"]
    before_entry = history[0]["recorded_at"]  # known then: the opening only
    at = ago(20)

    then: dict[str, Any] = auditor.get(f"/v1/compliance/entities/{incident}",
                                       as_of=before_entry, effective_at=at)
    now: dict[str, Any] = auditor.get(f"/v1/compliance/entities/{incident}", effective_at=at)

    assert (then["as_of"], then["effective_at"]) == (before_entry, z(at))
    assert then["state"]["status"] == "open" and then["state"]["acknowledged_at"] is None
    assert now["state"]["status"] == "acknowledged"
    assert now["state"]["acknowledged_at"] == z(acked_at)


def test_effective_at_before_the_entity_began_is_a_404(api: Api) -> None:
    team = api.team(occurred_at=ago(24 * 60))
    incident = api.post("/v1/incidents", {
        "team_id": team, "severity": "SEV2", "service": "checkout", "summary": "slow",
        "occurred_at": ago(30)}, expect=201).json()["id"]

    missing = api.as_("auditor").get(f"/v1/compliance/entities/{incident}", expect=404,
                                     effective_at=ago(40))

    assert "did not exist at" in missing["detail"] and "as known at" in missing["detail"]


def test_without_effective_at_the_answer_names_no_effective_time(api: Api) -> None:
    team = api.team()
    opened = api.post("/v1/incidents", {"team_id": team, "severity": "SEV2",
                                        "service": "checkout", "summary": "slow"},
                      expect=201).json()
    incident = opened["id"]

    found = api.as_("auditor").get(f"/v1/compliance/entities/{incident}",
                                   min_position=opened["position"])

    assert "effective_at" not in found and found["state"]["status"] == "open"


def days_ago(days: float) -> str:
    return ago(days * 24 * 60)


def test_the_roster_in_force_at_a_time_honours_effective_dates(api: Api) -> None:
    """Ada joined as an engineer 35 days ago; a role change entered today makes her
    lead from 20 days ago. Bob joined 5 days ago."""
    team = api.team(occurred_at=days_ago(40))
    ada = api.member(team, "Ada Lovelace", "engineer", occurred_at=days_ago(35))
    bob = api.member(team, "Bob Smith", "engineer", occurred_at=days_ago(5))
    effective = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    position = api.post(f"/v1/teams/{team}/members/{ada}/role", {
        "role": "lead", "reason": "took over the rota", "effective_date": effective},
        expect=200).json()["position"]
    api.get(f"/v1/teams/{team}", min_position=position)

    at = days_ago(10)
    then = api.as_("member").get(f"/v1/teams/{team}", effective_at=at)
    before = api.as_("member").get(f"/v1/teams/{team}", effective_at=days_ago(30))
    unformed = api.get(f"/v1/teams/{team}", expect=404, effective_at=days_ago(41))
    now = api.get(f"/v1/teams/{team}")

    def roster(doc: dict[str, Any]) -> dict[str, str]:
        return {e["member_id"]: e["role"] for e in doc["roster"]}

    assert roster(then) == {ada: "lead"} and then["effective_at"] == z(at)
    assert roster(before) == {ada: "engineer"}
    assert roster(now) == {ada: "lead", bob: "engineer"} and "effective_at" not in now
    assert "had not been formed" in unformed["detail"]


def test_the_roster_at_a_time_keeps_team_scope(api: Api) -> None:
    other = api.team()

    problem = api.as_("scoped").get(f"/v1/teams/{other}", expect=403, effective_at=ago(1))
    unknown = api.as_("scoped").get(f"/v1/teams/{SCOPED_TEAM}", expect=404,
                                    effective_at=ago(1))

    assert problem["status"] == 403 and unknown["status"] == 404
