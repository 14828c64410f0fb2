"""``opsledger serve`` and ``opsledger api`` with their tokens: a malformed grant stops
them before they serve, in one line and without a traceback; the default admin token
is printed once, when it is created, and never again."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import ServerProcess, free_port

pytestmark = pytest.mark.slow

SECRET = "a-secret-of-lena-0123456789"


@pytest.mark.parametrize("command", ["serve", "api"])
@pytest.mark.parametrize("teams", [[], None, "missing"])
def test_a_token_without_teams_stops_the_server_in_one_line(
    tmp_path: Path, command: str, teams: object,
) -> None:
    grant: dict[str, object] = {"principal": "user:lena", "roles": ["lead"]}
    if teams != "missing":
        grant["teams"] = teams
    env = {**os.environ, "OPSLEDGER_TOKENS": json.dumps({SECRET: grant})}

    done = subprocess.run(
        [sys.executable, "-m", "services.cli", command, "--port", str(free_port()),
         "--data-dir", str(tmp_path / "data")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )

    assert done.returncode == 2, (done.stdout, done.stderr)
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1, done.stderr
    assert "user:lena" in errors[0] and "teams" in errors[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_the_admin_token_is_printed_when_created_and_never_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"OPSLEDGER_TOKENS": "", "PYTHONUNBUFFERED": "1"}

    first = ServerProcess(data, env).start()
    try:
        printed = re.findall(r"export OPSLEDGER_TOKEN=(\S+)", first.log.read_text())
        assert len(printed) == 1
        token = printed[0]
        r = httpx.get(f"{first.url}/v1/teams", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    finally:
        first.stop(signal.SIGTERM)

    second = ServerProcess(data, env).start()
    second.stop(signal.SIGTERM)

    later = second.log.read_text()
    assert token not in later
    assert "OPSLEDGER_TOKEN=" not in later
    assert str(data / "tokens.json") in later
