"""Control policies in the distributed mode, on the real servers: a version added over
HTTP goes through the relay to the ``compliance`` topic, the projector folds it into
MongoDB, and the controls and the findings read it from there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.kafka.reading import read_all_cloudevents
from infra.kafka.topics import Topics
from infra.settings import Settings
from tests.e2e.conftest import bearer
from tests.integration.test_distributed_end_to_end import distributed, distributed_api

pytestmark = pytest.mark.integration

__all__ = ["distributed"]  # the fixture, shared with the end-to-end test


def test_a_version_reaches_mongodb_through_the_compliance_topic(
    distributed: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = distributed
    with distributed_api(settings, env, tmp_path) as (client, api):
        effective = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
        answer = client.put("/v1/compliance/controls/ack_sla", headers=bearer("admin"),
                            json={"thresholds": {"sev1_ack_minutes": 30,
                                                 "sev2_ack_minutes": 90},
                                  "effective_from": effective, "reason": "new contract"})
        assert answer.status_code == 200, answer.text

        listed = api.as_("auditor").get("/v1/compliance/controls",
                                        min_position=answer.json()["position"])
        ack = next(c for c in listed["items"] if c["control"] == "ack_sla")
        assert [(v["version"], v["by"]) for v in ack["versions"]] == [
            (1, "settings"), (2, "user:admin")]
        api.as_("auditor").get("/v1/compliance/findings")  # loads the policies
    published = read_all_cloudevents(settings, timeout_s=60)
    assert [e["type"] for e in published] == ["opsledger.compliance.ControlPolicyCreated.v1"]
    assert Topics(settings.kafka_topic_prefix).events("compliance") in Topics(
        settings.kafka_topic_prefix).event_topics
