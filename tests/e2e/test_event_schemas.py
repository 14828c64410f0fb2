"""The published contract: every stored event validates against its event type's JSON
Schema, and the AsyncAPI document names every topic and message."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from fastapi.testclient import TestClient

from infra.contract.schemas import all_event_schemas, asyncapi_document
from infra.kafka.topics import Topics
from services.cli.demo import run_demo
from tests.e2e.conftest import bearer
from tests.support.contract import validated_types

pytestmark = pytest.mark.slow


def test_every_event_of_a_busy_month_validates_against_its_schema(client: TestClient) -> None:
    token = bearer("admin")["Authorization"].removeprefix("Bearer ")
    run_demo("http://testserver", token, client=client, console=None)
    schemas = all_event_schemas()
    seen: set[str] = set()
    after = 0
    for _ in range(100):
        page = client.get("/v1/events", params={"after": after, "limit": 500},
                          headers=bearer("admin")).json()
        seen |= validated_types(page["items"])
        if not page["items"]:
            break
        after = page["next_after"]
    assert len(seen) >= 20, sorted(set(schemas) - seen)


def test_a_wrong_event_does_not_validate() -> None:
    schema = all_event_schemas()["opsledger.incidents.IncidentOpened.v1"]
    bad = {"specversion": "1.0", "type": "opsledger.incidents.IncidentOpened.v1",
           "data": {"team_id": 1}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_a_field_added_later_is_optional_so_older_events_still_validate() -> None:
    data = all_event_schemas()["opsledger.teams.MemberJoined.v1"]["properties"]["data"]
    before_principal = {"member_id": "m-1", "name": "Ada", "email": "ada@example.com",
                        "role": "SRE", "responsibilities": []}

    jsonschema.validate(before_principal, data)
    jsonschema.validate({**before_principal, "principal": "user:ada"}, data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({k: v for k, v in before_principal.items() if k != "role"}, data)


def test_asyncapi_names_every_topic_and_message(tmp_path: Path) -> None:
    schemas = all_event_schemas()
    document = asyncapi_document(Topics("opsledger"), schemas)
    assert document["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == set(Topics("opsledger").event_topics)
    assert len(document["components"]["messages"]) == len(schemas)
    json.dumps(document)  # serialisable as published


def test_control_policy_events_are_on_the_compliance_topic_and_match_their_schemas(
        client: TestClient) -> None:
    def put(effective_from: str, sev1: int) -> None:
        answer = client.put("/v1/compliance/controls/ack_sla", headers=bearer("admin"), json={
            "thresholds": {"sev1_ack_minutes": sev1, "sev2_ack_minutes": 60},
            "effective_from": effective_from, "reason": "new support contract"})
        assert answer.status_code == 200, answer.text

    put("2099-01-01T00:00:00Z", 30)
    put("2099-02-01T00:00:00+01:00", 20)
    events = client.get("/v1/events", params={"after": 0, "limit": 10},
                        headers=bearer("admin")).json()["items"]
    schemas = all_event_schemas()

    assert [e["type"] for e in events] == ["opsledger.compliance.ControlPolicyCreated.v1",
                                           "opsledger.compliance.ControlPolicyRevised.v1"]
    validated_types(events)
    assert events[1]["data"] == {
        "control": "ack_sla", "policy_version": 3,
        "thresholds": {"sev1_ack_minutes": 20, "sev2_ack_minutes": 60},
        "effective_from": "2099-01-31T23:00:00.000000Z", "reason": "new support contract"}
    topics = Topics("opsledger")
    assert topics.events("compliance") in topics.event_topics
    assert topics.events("compliance") in topics.specs()
    channels = asyncapi_document(topics, schemas)["channels"]
    assert channels["compliance"]["address"] == "opsledger.compliance.events"
    assert set(channels["compliance"]["messages"]) >= {
        "opsledger_compliance_ControlPolicyCreated_v1",
        "opsledger_compliance_ControlPolicyRevised_v1"}
