"""Business time over HTTP: every command body may say when it happened; what can't
have happened that way is a clear problem that appends nothing; reads show when it
happened, and the audit trail both times, filtered on either."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.envelope import iso_time
from services.api.openapi import READS_BY_POST
from tests.e2e.conftest import Api

COMMANDS = ("post", "put", "patch", "delete")


def ago(minutes: float) -> str:
    """A time ``minutes`` before now, as a client sends it (RFC 3339 with an offset)."""
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def z(moment: str) -> str:
    """``moment`` as OpsLedger writes times (fixed-width UTC)."""
    return iso_time(datetime.fromisoformat(moment))


def opened(api: Api, minutes_ago: float, severity: str = "SEV1") -> tuple[str, str]:
    """An incident opened ``minutes_ago`` (by a team formed a day before); its id and
    opening time as sent."""
    team = api.team(occurred_at=ago(minutes_ago + 24 * 60))
    at = ago(minutes_ago)
    incident = api.post("/v1/incidents", {
        "team_id": team, "severity": severity, "service": "checkout",
        "summary": "5xx spike", "occurred_at": at}, expect=201).json()["id"]
    return str(incident), at


# -- every command -----------------------------------------------------------------------


def test_every_command_body_may_carry_occurred_at(api: Api) -> None:
    document = api.get("/openapi.json")
    components = document["components"]["schemas"]
    bodies = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in COMMANDS or path in READS_BY_POST:  # reads record nothing
                continue
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            assert schema is not None, f"{method.upper()} {path} takes no JSON body"
            refs = [s["$ref"] for s in schema.get("anyOf", [schema]) if "$ref" in s]
            assert refs, (method, path, schema)
            body = components[refs[0].rsplit("/", 1)[1]]
            assert body["properties"]["occurred_at"]["format"] == "date-time", (method, path)
            bodies.append((method, path))
    assert len(bodies) >= 25


def test_a_late_acknowledgement_keeps_when_it_happened(api: Api) -> None:
    incident, opened_at = opened(api, 30)
    acked_at = ago(25)

    answer = api.post(f"/v1/incidents/{incident}/acknowledge", {"occurred_at": acked_at},
                      expect=200).json()

    doc = api.get(f"/v1/incidents/{incident}", min_position=answer["position"])
    assert (doc["opened_at"], doc["acknowledged_at"]) == (z(opened_at), z(acked_at))
    assert 299 < doc["mtta_seconds"] < 301
    record = api.get("/v1/audit", entity_id=incident, type=(
        "opsledger.incidents.IncidentAcknowledged.v1"))["items"][0]
    assert record["time"] == z(acked_at)
    assert record["recorded_at"] > z(ago(1))  # recorded just now
    feed = api.get("/v1/events", after=answer["position"] - 1, limit=1)["items"][0]
    assert (feed["time"], feed["recordedtime"]) == (record["time"], record["recorded_at"])


def test_a_command_without_occurred_at_happened_when_recorded(api: Api) -> None:
    team = api.team()
    feed = api.get("/v1/events", after=api.head() - 1)["items"][-1]

    assert feed["subject"] == team and "recordedtime" not in feed
    record = api.get("/v1/audit", entity_id=team)["items"][0]
    assert record["time"] == record["recorded_at"] == feed["time"]


# -- what can't have happened that way ---------------------------------------------------


def test_more_than_five_minutes_ahead_is_a_422_that_appends_nothing(api: Api) -> None:
    team = api.team()
    head = api.head()
    ahead = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()

    r = api.post("/v1/incidents", {"team_id": team, "severity": "SEV2", "service": "api",
                                   "summary": "slow", "occurred_at": ahead})

    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "more than 5 minutes ahead of the server clock" in r.json()["detail"]
    assert api.head() == head


@pytest.mark.parametrize("value", [
    "2026-03-01T09:00:00", "2026-03-01", "yesterday", 1767225600, "2026-02-30T09:00:00Z",
])
def test_an_occurred_at_that_is_not_an_rfc3339_time_with_an_offset_is_a_422(
    api: Api, value: Any,
) -> None:
    team = api.team()
    head = api.head()

    r = api.post("/v1/incidents", {"team_id": team, "severity": "SEV2", "service": "api",
                                   "summary": "slow", "occurred_at": value})

    assert r.status_code == 422, r.text
    assert ["body", "occurred_at"] in [e["loc"] for e in r.json()["errors"]]
    assert api.head() == head


def test_a_change_before_the_latest_event_is_a_409_naming_its_time(api: Api) -> None:
    incident, _ = opened(api, 30)
    noted_at = ago(20)
    api.post(f"/v1/incidents/{incident}/notes", {"text": "paging db", "occurred_at": noted_at},
             expect=200)
    head = api.head()

    r = api.post(f"/v1/incidents/{incident}/acknowledge", {"occurred_at": ago(25)})

    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["latest_event"] == "TimelineNoteAdded"
    assert problem["latest_event_at"] == z(noted_at)
    assert z(noted_at) in problem["detail"]
    assert api.head() == head


def test_an_acknowledgement_before_the_incident_began_is_a_409(api: Api) -> None:
    incident, opened_at = opened(api, 30)
    head = api.head()

    r = api.post(f"/v1/incidents/{incident}/acknowledge", {"occurred_at": ago(31)})

    assert r.status_code == 409, r.text
    assert f"before it was opened at {z(opened_at)}" in r.json()["detail"]
    assert r.json()["must_not_precede"] == z(opened_at)
    assert api.head() == head


def test_a_retry_of_a_backdated_command_gets_its_first_answer(api: Api) -> None:
    incident, _ = opened(api, 30)
    body = {"occurred_at": ago(25)}
    first = api.post(f"/v1/incidents/{incident}/acknowledge", body, expect=200,
                     **{"Idempotency-Key": "ack-1"}).json()

    again = api.post(f"/v1/incidents/{incident}/acknowledge", body, expect=200,
                     **{"Idempotency-Key": "ack-1"}).json()

    assert again == first


# -- the audit trail on both axes --------------------------------------------------------


@pytest.fixture
def entered_late(api: Api) -> dict[str, str]:
    """An incident opened 3 hours ago and acknowledged 2h50 ago, both entered now; the
    times to filter on."""
    incident, opened_at = opened(api, 180)
    acked_at = ago(170)
    position = api.post(f"/v1/incidents/{incident}/acknowledge", {"occurred_at": acked_at},
                        expect=200).json()["position"]
    api.get(f"/v1/incidents/{incident}", min_position=position)
    return {"incident": incident, "opened_at": opened_at, "acked_at": acked_at}


def names(records: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in records]


def test_since_and_until_filter_on_when_it_happened(api: Api,
                                                    entered_late: dict[str, str]) -> None:
    incident = entered_late["incident"]

    between = api.get("/v1/audit", entity_id=incident, since=ago(175), until=ago(1))
    before = api.get("/v1/audit", entity_id=incident, until=ago(175))

    assert names(between["items"]) == ["IncidentAcknowledged"]
    assert names(before["items"]) == ["IncidentOpened"]


def test_recorded_since_and_until_filter_on_when_it_was_recorded(
    api: Api, entered_late: dict[str, str],
) -> None:
    incident = entered_late["incident"]

    recorded = api.get("/v1/audit", entity_id=incident, recorded_since=ago(5))
    earlier = api.get("/v1/audit", entity_id=incident, recorded_until=ago(5))
    both = api.get("/v1/audit", entity_id=incident, since=ago(175), recorded_since=ago(5))

    assert names(recorded["items"]) == ["IncidentOpened", "IncidentAcknowledged"]
    assert earlier["items"] == []
    assert names(both["items"]) == ["IncidentAcknowledged"]


def test_the_export_shows_both_times_and_takes_both_filters(
    api: Api, entered_late: dict[str, str],
) -> None:
    incident = entered_late["incident"]

    jsonl = api.client.get("/v1/audit/export", params={
        "entity_id": incident, "since": ago(175), "recorded_since": ago(5)},
        headers=api.headers)
    csv = api.client.get("/v1/audit/export", params={
        "entity_id": incident, "format": "csv", "recorded_until": ago(5)},
        headers=api.headers)

    assert jsonl.status_code == 200, jsonl.text
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [(r["name"], r["time"]) for r in lines] == [
        ("IncidentAcknowledged", z(entered_late["acked_at"]))]
    assert lines[0]["recorded_at"] > lines[0]["time"]
    header = csv.text.splitlines()[0].split(",")
    assert header[:2] == ["position", "time"] and header[-2:] == ["recorded_at", "sealed"]
    assert csv.text.splitlines()[1:] == []


def test_as_of_is_what_the_ledger_knew_then(api: Api, entered_late: dict[str, str]) -> None:
    """Three hours ago the ledger knew nothing of an incident opened then but entered
    now; now it knows it was acknowledged 2h50 ago."""
    incident = entered_late["incident"]
    auditor = api.as_("auditor")

    then = auditor.get(f"/v1/compliance/entities/{incident}", expect=404, as_of=ago(60))
    now = auditor.get(f"/v1/compliance/entities/{incident}")

    assert "did not exist" in then["detail"]
    assert now["state"]["acknowledged_at"] == z(entered_late["acked_at"])
    assert now["time"] == z(entered_late["acked_at"]) < now["recorded_at"]
