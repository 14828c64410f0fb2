"""Durability: a restart keeps log, read models and idempotency keys; a crash between
the append and the follower's write is caught up on the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.e2e.server import TOKENS, ServerProcess

pytestmark = pytest.mark.slow


def test_restart_keeps_log_read_models_and_idempotency_keys(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as server, server.client() as http:
        first = http.post("/v1/teams", json={"name": "SRE"},
                          headers={"Idempotency-Key": "form-sre"})
        assert first.status_code == 201, first.text
        team = first.json()["id"]
        joined = http.post(f"/v1/teams/{team}/members",
                           json={"name": "Ada", "email": "ada@example.com", "role": "SRE"})
        before_head = joined.json()["position"]
        roster = http.get(f"/v1/teams/{team}", params={"min_position": before_head}).json()
        assert len(roster["roster"]) == 1
        server.stop(signal.SIGTERM)

    with ServerProcess(data) as server, server.client() as http:
        events = http.get("/v1/events", params={"after": 0, "limit": 500}).json()
        assert events["head"] == before_head
        assert [e["position"] for e in events["items"]] == sorted(
            e["position"] for e in events["items"])
        assert http.get(f"/v1/teams/{team}").json()["roster"][0]["name"] == "Ada"
        again = http.post("/v1/teams", json={"name": "SRE"},
                          headers={"Idempotency-Key": "form-sre"})
        assert again.json() == first.json()
        assert http.get("/v1/events", params={"after": 0}).json()["head"] == before_head
        nxt = http.post("/v1/teams", json={"name": "Payments"})
        assert nxt.json()["position"] == before_head + 1


CRASHING_WRITER = textwrap.dedent("""
    import os, signal, sys
    from domain.ledger import CommandContext
    from domain.meta import CommandMeta
    from domain.teams import commands as c
    from infra.settings import Settings
    from services.api.bootstrap import Runtime

    runtime = Runtime.open(Settings(data_dir=sys.argv[1]), follow=False)
    ctx = CommandContext(CommandMeta("user:admin"))
    team = runtime.teams.form(c.FormTeam("Crashers"), ctx)
    for n in range(5):
        runtime.teams.add_member(c.AddMember(team.id, f"M{n}", f"m{n}@example.com", "SRE"), ctx)
    print(team.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # events appended, read models never written
""")


def test_crash_between_append_and_follower_write_is_caught_up_on_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = {**os.environ, "OPSLEDGER_TOKENS": TOKENS}
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, str(data)], capture_output=True, env=env,
        timeout=60, check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    team_id = proc.stdout.decode().strip()

    with ServerProcess(data) as server, server.client() as http:
        team = http.get(f"/v1/teams/{team_id}", params={"min_position": 6})
        assert team.status_code == 200, team.text
        assert len(team.json()["roster"]) == 5
        audit = http.get("/v1/audit", params={"entity_id": team_id}).json()
        assert len(audit["items"]) == 6
        ready = http.get("/readyz").json()
        assert ready["projection_lag"] == 0
        assert json.loads(json.dumps(ready))["status"] == "ready"
