"""docker-compose.yml, as Docker Compose itself reads it: real Kafka and MongoDB images
and OpsLedger's processes, gated on health, published on 127.0.0.1 only, with every
secret required.

The checks read ``docker compose config --format json`` (the model Compose builds from
the file, with anchors, merges and interpolation applied), not our own YAML parsing.
``make test`` installs the Compose plugin (infra/local/compose/install.sh); with ``CI``
set a missing plugin fails the suite instead of skipping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
OPSLEDGER = ("api", "relay", "projector")
TOKENS = '{"ci-token-0123456789": {"principal": "user:ci", "roles": ["admin"], "teams": ["*"]}}'
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.I)


def _compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        found = subprocess.run(["docker", "compose", "version"], capture_output=True,
                               timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0


def compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), *args], cwd=ROOT,
        env=env if env is not None else {**os.environ, "OPSLEDGER_TOKENS": TOKENS},
        capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.fixture(scope="module", autouse=True)
def _compose_cli() -> None:
    if _compose_available():
        return
    if os.environ.get("CI"):
        pytest.fail("CI must check docker-compose.yml with the real Compose CLI: run "
                    "infra/local/compose/install.sh (make test does)")
    pytest.skip("the docker compose plugin is not installed (infra/local/compose/install.sh)")


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    read = compose("config", "--format", "json")
    assert read.returncode == 0, read.stderr
    return json.loads(read.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def raw_model() -> dict[str, Any]:
    """The same model without interpolation: what the file asks of the environment."""
    read = compose("config", "--no-interpolate", "--format", "json")
    assert read.returncode == 0, read.stderr
    return json.loads(read.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def services(model: dict[str, Any]) -> dict[str, Any]:
    return model["services"]  # type: ignore[no-any-return]


def command_of(service: dict[str, Any]) -> str:
    command = service.get("command") or []
    return command if isinstance(command, str) else " ".join(command)


def test_docker_compose_accepts_the_file() -> None:
    checked = compose("config", "-q")
    assert checked.returncode == 0, checked.stderr


def test_the_stack_has_its_services(services: dict[str, Any]) -> None:
    assert {"kafka", "mongo", "topics", *OPSLEDGER} <= set(services)


def test_kafka_and_mongo_are_the_official_images(services: dict[str, Any]) -> None:
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["mongo"]["image"].startswith("mongo:")


def test_kafka_is_one_kraft_node_that_creates_no_topics_itself(
    services: dict[str, Any],
) -> None:
    env = services["kafka"]["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"].lower() == "false"
    assert "kafka-broker-api-versions.sh" in " ".join(services["kafka"]["healthcheck"]["test"])


def test_mongo_runs_as_a_replica_set_and_initiates_it_in_its_healthcheck(
    services: dict[str, Any],
) -> None:
    mongo = services["mongo"]
    assert "--replSet" in command_of(mongo)
    check = " ".join(mongo["healthcheck"]["test"])
    assert "mongosh" in check and "rs.initiate" in check


def test_kafka_and_mongo_have_healthchecks(services: dict[str, Any]) -> None:
    for name in ("kafka", "mongo"):
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
        assert not check.get("disable"), name
        assert check.get("interval") and check.get("retries"), name


def test_the_api_is_healthy_only_when_it_answers_healthz() -> None:
    # The api service has no healthcheck of its own: the image's HEALTHCHECK applies.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile


@pytest.mark.parametrize("name", ["topics", "relay", "projector"])
def test_processes_without_an_http_port_disable_the_image_healthcheck(
    services: dict[str, Any], name: str
) -> None:
    assert services[name]["healthcheck"].get("disable") is True


@pytest.mark.parametrize("name", OPSLEDGER)
def test_opsledger_processes_build_the_one_dockerfile(
    services: dict[str, Any], name: str
) -> None:
    build = services[name]["build"]
    assert Path(build["context"]).resolve() == ROOT
    assert build["dockerfile"] == "Dockerfile"
    assert (ROOT / build["dockerfile"]).is_file()
    assert services[name]["image"] == "opsledger:local"


def test_each_process_runs_its_own_command(services: dict[str, Any]) -> None:
    assert services["api"]["command"] == ["opsledger", "api", "--host", "0.0.0.0",
                                          "--port", "8000"]
    assert services["relay"]["command"] == ["opsledger", "relay"]
    assert services["projector"]["command"] == ["opsledger", "projector"]
    assert services["topics"]["command"] == ["opsledger", "topics", "create"]


@pytest.mark.parametrize("name", OPSLEDGER)
def test_processes_wait_for_healthy_kafka_and_mongo_and_the_topics(
    services: dict[str, Any], name: str
) -> None:
    deps = services[name]["depends_on"]
    assert deps["kafka"]["condition"] == "service_healthy"
    assert deps["mongo"]["condition"] == "service_healthy"
    assert deps["topics"]["condition"] == "service_completed_successfully"


def test_topics_are_created_once_kafka_is_healthy(services: dict[str, Any]) -> None:
    topics = services["topics"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert topics["restart"] == "no"


@pytest.mark.parametrize("name", OPSLEDGER)
def test_processes_are_configured_for_the_distributed_mode(
    services: dict[str, Any], name: str
) -> None:
    env = services[name]["environment"]
    assert env["OPSLEDGER_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["OPSLEDGER_MONGO_URI"].startswith("mongodb://mongo:27017")
    assert env["OPSLEDGER_DATA_DIR"] == "/data"
    assert env["OPSLEDGER_TOKENS"] == TOKENS


def test_every_secret_is_required_never_defaulted(raw_model: dict[str, Any]) -> None:
    secrets = [
        (name, key, value) for name, service in raw_model["services"].items()
        for key, value in (service.get("environment") or {}).items()
        if SECRET_NAME.search(key)
    ]
    assert {name for name, _, _ in secrets} >= {"topics", *OPSLEDGER}
    for name, key, value in secrets:
        assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", value or ""), (name, key, value)


def test_the_stack_refuses_to_start_without_its_token_secret() -> None:
    unset = {k: v for k, v in os.environ.items() if k != "OPSLEDGER_TOKENS"}
    refused = compose("config", "-q", env=unset)
    assert refused.returncode != 0
    assert "OPSLEDGER_TOKENS" in refused.stderr


def test_api_and_relay_share_the_event_store_volume(
    model: dict[str, Any], services: dict[str, Any]
) -> None:
    def volume_at(name: str, target: str) -> str:
        [source] = [v["source"] for v in services[name]["volumes"]
                    if v["type"] == "volume" and v["target"] == target]
        return str(source)

    assert volume_at("api", "/data") == volume_at("relay", "/data")
    assert volume_at("kafka", "/var/lib/kafka/data") in model["volumes"]
    assert volume_at("mongo", "/data/db") in model["volumes"]
    assert volume_at("api", "/data") in model["volumes"]


def test_every_published_port_binds_localhost_only(services: dict[str, Any]) -> None:
    published = [(name, port) for name, service in services.items()
                 for port in service.get("ports", [])]
    assert ("api", "8000") in [(name, p.get("published")) for name, p in published]
    for name, port in published:
        assert port.get("host_ip") == "127.0.0.1", (name, port)


def test_the_dockerfile_runs_the_api_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    assert re.search(r"^USER (?!root\b|0\b)\S+", dockerfile, re.M)
    assert "pip install ." in dockerfile
    assert re.search(r'^CMD \["opsledger", "api"\]', dockerfile, re.M)
