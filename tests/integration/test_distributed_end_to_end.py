"""The distributed path end to end, on the real servers: HTTP command → event store →
relay → Kafka → projector → MongoDB → HTTP query (read-your-writes included)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.api.app import create_app
from tests.conftest import Servers
from tests.e2e.conftest import TOKENS, Api

pytestmark = pytest.mark.integration


@pytest.fixture
def distributed(tmp_path: Path, servers: Servers, mongo_db: str,
                topic_prefix: str) -> Iterator[tuple[Settings, dict[str, str]]]:
    settings = Settings(
        data_dir=tmp_path / "data", tokens=json.dumps(TOKENS),
        kafka_bootstrap=servers.kafka_bootstrap, mongo_uri=servers.mongo_uri,
        mongo_db=mongo_db, kafka_topic_prefix=topic_prefix,
        projector_group=f"{topic_prefix}-projector", min_position_timeout=20.0,
    )
    env = {
        **os.environ,
        "OPSLEDGER_DATA_DIR": str(settings.data_dir),
        "OPSLEDGER_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        "OPSLEDGER_MONGO_URI": servers.mongo_uri,
        "OPSLEDGER_MONGO_DB": mongo_db,
        "OPSLEDGER_KAFKA_TOPIC_PREFIX": topic_prefix,
        "OPSLEDGER_PROJECTOR_GROUP": settings.projector_group,
    }
    settings.data_dir.mkdir(parents=True)
    yield settings, env


def start(module: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", module], env=env, stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@contextmanager
def relay_and_projector(env: dict[str, str], logs: Path) -> Iterator[None]:
    """The relay and a projector running (logs in ``logs``); stopped with SIGTERM after."""
    relay = start("services.relay", env, logs / "relay.log")
    projector = start("services.projector", env, logs / "projector.log")
    try:
        yield
    finally:
        for proc in (relay, projector):
            proc.send_signal(signal.SIGTERM)
        for proc in (relay, projector):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def distributed_api(
    settings: Settings, env: dict[str, str], logs: Path
) -> Iterator[tuple[TestClient, Api]]:
    """The topics made first (as compose does), then the API app, the relay and a
    projector running: OpsLedger in the distributed mode, driven through its API."""
    subprocess.run([sys.executable, "-m", "services.cli", "topics", "create"], env=env,
                   check=True, capture_output=True, timeout=60)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client, \
            relay_and_projector(env, logs):
        yield client, Api(client)


def test_a_command_reaches_the_read_models_through_kafka_and_mongodb(
    distributed: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = distributed
    with distributed_api(settings, env, tmp_path) as (client, api):
        team = api.team("Platform")
        ada = api.member(team, "Ada Lovelace", "SRE")
        incident = api.incident(team, "SEV2")
        last = api.post(f"/v1/incidents/{incident}/assign", {"responder_id": ada},
                        expect=200).json()["position"]

        got = api.get(f"/v1/incidents/{incident}", min_position=last)
        assert got["responders"] == [ada]
        roster = api.get(f"/v1/teams/{team}")["roster"]
        assert [m["name"] for m in roster] == ["Ada Lovelace"]
        audit = api.as_("auditor").get("/v1/audit", entity_id=incident)["items"]
        assert [a["name"] for a in audit] == ["IncidentOpened", "ResponderAssigned"]
        assert all(len(a["hash"]) == 64 for a in audit)
        timeline = api.get(f"/v1/performance/members/{ada}/timeline")["items"]
        assert "incident_responder" in {t["kind"] for t in timeline}
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready", ready
