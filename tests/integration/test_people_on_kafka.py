"""The people context on the distributed path, on the real servers: its events travel on
their own topic (``<prefix>.people.events``) and the projector folds the trainings, the
policies, their history, the timelines and the findings' facts into MongoDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.kafka.topics import Topics
from infra.settings import Settings
from tests.e2e.test_business_time import ago
from tests.e2e.test_risks import DAY
from tests.e2e.test_team_policies import publish
from tests.e2e.test_trainings import EVIDENCE, People, cell
from tests.integration.test_distributed_end_to_end import distributed, distributed_api

pytestmark = pytest.mark.integration

__all__ = ["distributed"]  # the fixture, shared with the end-to-end test


def test_trainings_and_policies_reach_mongodb_through_their_own_topic(
    distributed: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = distributed
    assert f"{settings.kafka_topic_prefix}.people.events" in Topics(
        settings.kafka_topic_prefix).event_topics
    with distributed_api(settings, env, tmp_path) as (_client, api):
        p = People(api)
        training = p.define(["SRE"], valid=365)
        p.post(f"/v1/teams/{p.team}/members/{p.ria}/role",
               {"role": "SRE", "reason": "on-call rotation"}, expect=200)
        p.post(f"/v1/members/{p.olu}/trainings/{training}/complete",
               {"completed_at": ago(0), "evidence": EVIDENCE}, expect=200)
        policy = publish(p, "1", "v1", occurred_at=ago(20 * DAY)).json()["id"]
        p.post(f"/v1/members/{p.olu}/policy-acknowledgements",
               {"policy_id": policy, "version": "1"})

        matrix = p.read("/v1/trainings/matrix", team_id=p.team)
        assert (cell(matrix, p.olu, training)["done"],
                cell(matrix, p.ria, training)["assigned"]) == (True, True)
        [doc] = p.read("/v1/policies", team_id=p.team)["items"]
        assert doc["versions"][0]["pending"] == [p.ria]
        history = p.read(f"/v1/compliance/entities/{training}/history")["items"]
        assert [(r["event_name"], r["team_id"]) for r in history] == [
            ("TrainingDefined", p.team), ("TrainingAssigned", p.team),
            ("TrainingAssigned", p.team), ("TrainingCompleted", p.team)]
        kinds = {e["kind"] for e in p.read(
            f"/v1/performance/members/{p.olu}/timeline")["items"]}
        assert {"training_completed", "policy_acknowledged"} <= kinds
        late = {f["id"]: f["status"] for f in p.read(
            "/v1/compliance/findings", team_id=p.team)["items"]
            if f["control"] == "policy_unacknowledged"}
        assert late == {f"policy_unacknowledged:{policy}:{p.ria}:1": "open",  # never
                        f"policy_unacknowledged:{policy}:{p.olu}:1": "resolved"}  # late
