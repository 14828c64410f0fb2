"""Where the real servers are, for the tests of the distributed mode.

Found in this order: endpoints given by the environment (``make test`` starts
infra/local and passes them); else testcontainers when a Docker engine answers;
else infra/local started for this session and stopped after it.

The endpoints are taken out of the environment at start, so tests of the embedded
default (and the processes they start) never go distributed by accident.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest

ROOT = Path(__file__).resolve().parent.parent
_GIVEN_KAFKA = os.environ.pop("OPSLEDGER_KAFKA_BOOTSTRAP", None)
_GIVEN_MONGO = os.environ.pop("OPSLEDGER_MONGO_URI", None)


@dataclass(frozen=True)
class Servers:
    kafka_bootstrap: str
    mongo_uri: str
    how: str
    kafka_data_dir: Path | None = None
    """Where the broker keeps its log segments, when known (infra/local says; a
    container's files are out of reach)."""
    ferretdb_data_dir: Path | None = None
    """Where FerretDB keeps its SQLite files, when known."""


def _data_dirs(env: dict[str, str]) -> dict[str, Path | None]:
    def path(name: str) -> Path | None:
        value = env.get(name)
        return Path(value) if value else None

    return {"kafka_data_dir": path("OPSLEDGER_INFRA_KAFKA_DATA_DIR"),
            "ferretdb_data_dir": path("OPSLEDGER_INFRA_FERRETDB_DATA_DIR")}


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _testcontainers() -> Iterator[Servers]:
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.mongodb import MongoDbContainer

    with KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft() as kafka, \
            MongoDbContainer("mongo:7") as mongo:
        yield Servers(kafka.get_bootstrap_server(), mongo.get_connection_url(),
                      "testcontainers")


def _infra_local() -> Iterator[Servers]:
    up = subprocess.run(
        ["bash", str(ROOT / "infra/local/up.sh")], capture_output=True, text=True,
        timeout=900, check=False,
    )
    if up.returncode != 0:
        pytest.skip(f"infra/local/up.sh failed:\n{up.stderr[-3000:]}")
    env = dict(  # shlex: up.sh quotes the data dirs for the shell
        shlex.split(line)[1].split("=", 1)
        for line in up.stdout.splitlines() if line.startswith("export ")
    )
    # Servers someone else started (another session, a developer's `make infra-up`)
    # are theirs to stop: only stop what this session started.
    started_here = "from a previous up are running and healthy" not in up.stderr
    try:
        yield Servers(env["OPSLEDGER_KAFKA_BOOTSTRAP"], env["OPSLEDGER_MONGO_URI"],
                      "infra/local", **_data_dirs(env))
    finally:
        if started_here:
            subprocess.run(["bash", str(ROOT / "infra/local/down.sh")],
                           capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    if _GIVEN_KAFKA and _GIVEN_MONGO:
        yield Servers(_GIVEN_KAFKA, _GIVEN_MONGO, "environment", **_data_dirs(dict(os.environ)))
    elif _docker_answers():
        yield from _testcontainers()
    else:
        yield from _infra_local()


@pytest.fixture
def mongo_db(servers: Servers) -> Iterator[str]:
    """A fresh database name on the real MongoDB-wire server, dropped afterwards."""
    import pymongo

    name = f"t_{uuid4().hex[:12]}"
    yield name
    with pymongo.MongoClient(servers.mongo_uri, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)


@pytest.fixture
def topic_prefix() -> str:
    """Topics of one test never meet another test's events on the shared broker."""
    return f"t{uuid4().hex[:10]}"


# -- CI: integration tests must run, never be skipped ------------------------------

_skipped_integration: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "integration" in report.keywords:
        _skipped_integration.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped_integration and os.environ.get("CI"):
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    if _skipped_integration:
        verdict = "fails the run in CI" if os.environ.get("CI") else "would fail the run in CI"
        terminalreporter.write_line(
            f"{len(_skipped_integration)} integration test(s) were skipped; this {verdict}:",
            red=True,
        )
        for nodeid in _skipped_integration[:20]:
            terminalreporter.write_line(f"  {nodeid}")
