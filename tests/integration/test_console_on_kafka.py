"""The console in the distributed mode, on the real servers: its pages read what the
projector folded into MongoDB, and its acknowledgement goes through the same command
service, the relay and the projector back to the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.settings import Settings
from tests.e2e.console_client import sign_in
from tests.integration.test_distributed_end_to_end import distributed, distributed_api
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

__all__ = ["distributed"]  # the fixture, shared with the end-to-end test


def test_the_console_reads_mongodb_and_acknowledges_through_kafka(
    distributed: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = distributed
    with distributed_api(settings, env, tmp_path) as (client, api):
        team = api.team("Distributed SRE")
        opened = api.post("/v1/incidents", {
            "team_id": team, "severity": "SEV2", "service": "checkout",
            "summary": "Checkout slow in the distributed mode"}, expect=201).json()
        api.get(f"/v1/incidents/{opened['id']}", min_position=opened["position"])

        csrf = sign_in(client)
        overview = client.get("/console").text
        assert "Distributed SRE" in overview
        assert "Checkout slow in the distributed mode" in overview
        assert client.get(f"/console/teams/{team}").status_code == 200
        assert client.get(f"/console/teams/{team}/charts/acknowledge.svg").status_code == 200

        answer = client.post(f"/console/incidents/{opened['id']}/acknowledge",
                             data={"csrf_token": csrf, "if_match": "1"},
                             follow_redirects=False)
        assert answer.status_code == 303, answer.text

        def acknowledged() -> bool:
            status = api.get(f"/v1/incidents/{opened['id']}")["status"]
            return bool(status == "acknowledged")

        wait_until(acknowledged, 60, "the acknowledgement folded into MongoDB")
        page = client.get("/console").text
        assert "Checkout slow in the distributed mode" in page
        assert f"/console/incidents/{opened['id']}/acknowledge" not in page
