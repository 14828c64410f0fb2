"""Decisions on findings on the distributed path, on the real servers: the decision
waits for the projector to fold the facts it is judged by, travels on its own topic
(``<prefix>.compliance.events``) and is folded into MongoDB like every event."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.kafka.topics import Topics
from infra.settings import Settings
from tests.e2e.test_finding_lifecycle import ahead, late_sev1
from tests.integration.test_distributed_end_to_end import distributed, distributed_api

pytestmark = pytest.mark.integration

__all__ = ["distributed"]  # the fixture, shared with the end-to-end test


def test_a_decision_on_a_finding_reaches_mongodb_through_its_own_topic(
    distributed: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = distributed
    assert f"{settings.kafka_topic_prefix}.compliance.events" in Topics(
        settings.kafka_topic_prefix).event_topics
    with distributed_api(settings, env, tmp_path) as (_client, api):
        finding_id, team = late_sev1(api)  # no wait: the decision waits for it

        accepted = api.as_("auditor").post(
            f"/v1/compliance/findings/{finding_id}/accept-risk",
            {"reason": "vendor fix in Q3", "until": ahead(90)}, expect=200).json()

        assert accepted["state"] == "risk_accepted"
        shown = api.as_("auditor").get(f"/v1/compliance/findings/{finding_id}",
                                       min_position=accepted["position"])
        assert (shown["state"], shown["decision"]["by"]) == (
            "risk_accepted", "user:audrey")
        history = api.as_("auditor").get(
            f"/v1/compliance/entities/{finding_id}/history")["items"]
        assert [(r["event_name"], r["team_id"]) for r in history] == [
            ("FindingTracked", team), ("FindingRiskAccepted", team)]
