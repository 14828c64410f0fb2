"""The risks context in the published contract: every event of a register's month (risks,
plans, drills, links) validates against its JSON Schema, on the ``risks`` topic of the
AsyncAPI document."""

from __future__ import annotations

from tests.e2e.conftest import Api, bearer
from tests.e2e.test_business_time import ago
from tests.e2e.test_contingency_plans import STEPS, Plan
from tests.e2e.test_risks import Register
from tests.support.contract import assert_context_published, validated_types

RISK_EVENTS = {f"opsledger.risks.{name}.v1" for name in (
    "RiskIdentified", "RiskAssessed", "RiskTreated", "RiskAccepted", "RiskClosed",
    "RiskIncidentLinked", "PlanDrafted", "PlanRevised", "PlanExercised", "PlanIncidentLinked")}


def test_every_risks_event_validates_against_its_schema(api: Api) -> None:
    reg = Register(api)
    reg.do("assess", {"likelihood": 4, "impact": 5, "residual_likelihood": 2,
                      "residual_impact": 3, "note": "replica"})
    reg.do("treat", {"treatment": "accept", "reason": "cheap"})
    reg.do("accept", {"approver_id": reg.ria, "reason": "ok"})
    plan = Plan(reg)
    plan.do("revise", {"steps": [*STEPS, {"title": "Review", "role": "Lead"}],
                       "reason": "review"})
    plan.do("exercise", {"held_at": ago(0), "participants": [reg.olu], "outcome": "ok"})
    incident = api.incident(reg.team)
    api.post(f"/v1/incidents/{incident}/links", {"risk_id": reg.risk}, expect=201)
    api.post(f"/v1/incidents/{incident}/links", {"plan_id": plan.id, "plan_followed": True},
             expect=201)
    reg.do("close", {"reason": "gone"})

    events = api.client.get("/v1/events", params={"after": 0, "limit": 500},
                            headers=bearer("admin")).json()["items"]
    assert validated_types(events) >= RISK_EVENTS


def test_the_risks_topic_and_its_messages_are_in_the_asyncapi_document() -> None:
    assert_context_published("risks", RISK_EVENTS)
