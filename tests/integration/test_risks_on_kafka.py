"""The risks context on the distributed path, on the real servers: its events travel on
their own topic (``<prefix>.risks.events``) and the projector folds the register, the
plans, their history, the timelines and the findings' facts into MongoDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.kafka.topics import Topics
from infra.settings import Settings
from tests.e2e.test_business_time import ago
from tests.e2e.test_contingency_plans import STEPS, Plan
from tests.e2e.test_risks import DAY, Register
from tests.integration.test_distributed_end_to_end import distributed, distributed_api

pytestmark = pytest.mark.integration

__all__ = ["distributed"]  # the fixture, shared with the end-to-end test


def test_risks_plans_and_links_reach_mongodb_through_their_own_topic(
    distributed: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = distributed
    assert f"{settings.kafka_topic_prefix}.risks.events" in Topics(
        settings.kafka_topic_prefix).event_topics
    with distributed_api(settings, env, tmp_path) as (_client, api):
        reg = Register(api)  # 4 x 5, identified 30 days ago, untreated
        reg.do("assess", {"likelihood": 4, "impact": 5, "residual_likelihood": 3,
                          "residual_impact": 3, "note": "replica"})
        plan = Plan(reg, occurred_at=ago(2 * DAY))
        plan.do("revise", {"steps": [*STEPS, {"title": "Review", "role": "Lead"}],
                           "reason": "review step"})
        plan.do("exercise", {"held_at": ago(0), "participants": [reg.olu, reg.ria],
                             "outcome": "ok"})
        incident = api.incident(reg.team, "SEV1")
        reg.position = api.post(f"/v1/incidents/{incident}/links", {
            "risk_id": reg.risk, "plan_id": plan.id, "plan_followed": True},
            expect=201).json()["position"]

        risk = reg.read(f"/v1/risks/{reg.risk}")
        assert (risk["residual_score"], risk["version"]) == (9, 3)
        assert [p["id"] for p in risk["plans"]] == [plan.id]
        assert [i["incident_id"] for i in risk["incidents"]] == [incident]
        doc = plan.read()
        assert ([v["plan_version"] for v in doc["versions"]], len(doc["exercises"]),
                [i["incident_id"] for i in doc["incidents"]]) == ([1, 2], 1, [incident])
        heat = reg.read("/v1/risks/heatmap", team_id=reg.team)
        assert heat["risks"] == 1
        history = reg.read(f"/v1/compliance/entities/{plan.id}/history")["items"]
        assert [(r["event_name"], r["team_id"]) for r in history] == [
            ("PlanDrafted", reg.team), ("PlanRevised", reg.team),
            ("PlanExercised", reg.team), ("PlanIncidentLinked", reg.team)]
        kinds = {e["kind"] for e in reg.read(
            f"/v1/performance/members/{reg.ria}/timeline")["items"]}
        assert "drill" in kinds
        [untreated] = [f for f in reg.read("/v1/compliance/findings",
                                           team_id=reg.team)["items"]
                       if f["control"] == "high_risk_untreated"]
        assert untreated["subject_id"] == reg.risk
