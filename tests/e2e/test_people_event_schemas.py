"""The people context in the published contract: every event of trainings and policies
validates against its JSON Schema, on the ``people`` topic of the AsyncAPI document."""

from __future__ import annotations

from tests.e2e.conftest import Api, bearer
from tests.e2e.test_business_time import ago
from tests.e2e.test_team_policies import publish
from tests.e2e.test_trainings import EVIDENCE, People
from tests.support.contract import assert_context_published, validated_types

PEOPLE_EVENTS = {f"opsledger.people.{name}.v1" for name in (
    "TrainingDefined", "TrainingAssigned", "TrainingCompleted", "PolicyPublished",
    "PolicyVersionPublished", "PolicyAcknowledged")}


def test_every_people_event_validates_against_its_schema(api: Api) -> None:
    p = People(api)
    training = p.define(["SRE"], valid=None)
    p.post(f"/v1/members/{p.olu}/trainings/{training}/complete",
           {"completed_at": ago(0), "evidence": EVIDENCE}, expect=200)
    policy = publish(p, "1", "v1").json()["id"]
    publish(p, "2", "v2", expect=200)
    p.post(f"/v1/members/{p.ria}/policy-acknowledgements", {"policy_id": policy,
                                                            "version": "2"})

    events = api.client.get("/v1/events", params={"after": 0, "limit": 500},
                            headers=bearer("admin")).json()["items"]
    assert validated_types(events) >= PEOPLE_EVENTS


def test_the_people_topic_and_its_messages_are_in_the_asyncapi_document() -> None:
    assert_context_published("people", PEOPLE_EVENTS)
