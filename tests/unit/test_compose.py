"""docker-compose.yml runs real Kafka and MongoDB images and OpsLedger's processes,
gated on health, published on 127.0.0.1 only, with the token secret required."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
OPSLEDGER = ("api", "relay", "projector")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def command_of(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else " ".join(command)


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, str]]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):  # the short form has no conditions
        return {name: {} for name in deps}
    return deps


def test_the_stack_has_its_services(services: dict[str, Any]) -> None:
    assert {"kafka", "mongo", "topics", *OPSLEDGER} <= set(services)


def test_kafka_and_mongo_are_the_official_images(services: dict[str, Any]) -> None:
    assert services["kafka"]["image"].startswith("apache/kafka")
    assert services["mongo"]["image"].startswith("mongo")


def test_kafka_is_one_kraft_node_that_creates_no_topics_itself(
    services: dict[str, Any],
) -> None:
    env = services["kafka"]["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]).lower() == "false"
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
        assert check["test"] and not check.get("disable")


@pytest.mark.parametrize("name", OPSLEDGER)
def test_opsledger_processes_build_the_one_dockerfile(
    services: dict[str, Any], name: str
) -> None:
    build = services[name]["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context).resolve() == ROOT
    assert dockerfile == "Dockerfile"
    assert (ROOT / dockerfile).is_file()


def test_each_process_runs_its_own_command(services: dict[str, Any]) -> None:
    assert command_of(services["api"]).startswith("opsledger api")
    assert "0.0.0.0" in command_of(services["api"])
    assert command_of(services["relay"]) == "opsledger relay"
    assert command_of(services["projector"]) == "opsledger projector"
    assert command_of(services["topics"]) == "opsledger topics create"


@pytest.mark.parametrize("name", OPSLEDGER)
def test_processes_wait_for_healthy_kafka_and_mongo_and_the_topics(
    services: dict[str, Any], name: str
) -> None:
    deps = depends_on(services[name])
    assert deps["kafka"].get("condition") == "service_healthy"
    assert deps["mongo"].get("condition") == "service_healthy"
    assert deps["topics"].get("condition") == "service_completed_successfully"
    assert depends_on(services["topics"])["kafka"].get("condition") == "service_healthy"


@pytest.mark.parametrize("name", OPSLEDGER)
def test_processes_are_configured_for_the_distributed_mode(
    services: dict[str, Any], name: str
) -> None:
    env = services[name]["environment"]
    assert env["OPSLEDGER_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["OPSLEDGER_MONGO_URI"].startswith("mongodb://mongo:27017")
    assert env["OPSLEDGER_DATA_DIR"] == "/data"


@pytest.mark.parametrize("name", OPSLEDGER)
def test_the_token_secret_is_required_never_defaulted(
    services: dict[str, Any], name: str
) -> None:
    value = services[name]["environment"]["OPSLEDGER_TOKENS"]
    assert re.fullmatch(r"\$\{OPSLEDGER_TOKENS:\?[^}]+\}", value)


def test_api_and_relay_share_the_event_store_volume(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    def volume_at_data(name: str) -> str:
        [source] = [v.split(":")[0] for v in services[name]["volumes"] if ":/data" in v]
        return source

    assert volume_at_data("api") == volume_at_data("relay")
    named = set(compose["volumes"])
    assert volume_at_data("api") in named
    assert any("/var/lib/kafka/data" in v for v in services["kafka"]["volumes"])
    assert any("/data/db" in v for v in services["mongo"]["volumes"])
    assert {v.split(":")[0] for s in ("kafka", "mongo") for v in services[s]["volumes"]} <= named


def test_published_ports_bind_localhost_only(services: dict[str, Any]) -> None:
    published = [
        (name, port) for name, service in services.items()
        for port in service.get("ports", [])
    ]
    assert ("api", "127.0.0.1:8000:8000") in published
    for name, port in published:
        if isinstance(port, dict):  # the long form
            assert port.get("host_ip") == "127.0.0.1", name
        else:
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_the_dockerfile_runs_the_api_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    assert re.search(r"^USER (?!root\b|0\b)\S+", dockerfile, re.M)
    assert "pip install ." in dockerfile
    assert "/healthz" in dockerfile and "HEALTHCHECK" in dockerfile
    assert re.search(r'^CMD \["opsledger", "api"\]', dockerfile, re.M)


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        found = subprocess.run(["docker", "compose", "version"], capture_output=True,
                               timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0


def test_docker_compose_accepts_the_file() -> None:
    if not _docker_compose_available():
        pytest.skip("the docker compose plugin is not installed")
    env = {**os.environ, "OPSLEDGER_TOKENS":
           '{"x": {"principal": "user:ci", "roles": ["admin"], "teams": ["*"]}}'}
    checked = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert checked.returncode == 0, checked.stderr
    unset = {k: v for k, v in env.items() if k != "OPSLEDGER_TOKENS"}
    refused = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, env=unset,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert refused.returncode != 0 and "OPSLEDGER_TOKENS" in refused.stderr
