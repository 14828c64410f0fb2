"""``opsledger retention run`` end to end, on the embedded default: a real
``opsledger serve`` with retention periods set, and the real command line.

Given customers and members whose periods are over, not over, or under a legal hold,
a dry run lists what is due and changes nothing; a run erases what is due (each
erasure by the token's principal, with a reason naming the kind and period) and skips
and names what is held; a second run finds nothing due."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.personal import ERASED
from tests.e2e.server import TOKEN, ServerProcess, free_port

ERASED_TYPE = "opsledger.privacy.PersonalDataErased.v1"
RETENTION = {"OPSLEDGER_RETENTION_CUSTOMER_DAYS": "365", "OPSLEDGER_RETENTION_MEMBER_DAYS": "30"}


def without_settings() -> dict[str, str]:
    """This process's environment without any ``OPSLEDGER_*`` setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OPSLEDGER_")}


def ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def cli(url: str, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "retention", "run", "--url", url,
         "--token", token, *args], capture_output=True, text=True, timeout=120, check=False)


def post(http: httpx.Client, path: str, body: dict[str, Any], expect: int = 201) -> Any:
    r = http.post(path, json=body)
    assert r.status_code == expect, r.text
    return r.json()


@dataclass
class World:
    server: ServerProcess
    http: httpx.Client
    ids: dict[str, str]

    def feedback(self, key: str) -> dict[str, Any]:
        head = self.head()
        r = self.http.get(f"/v1/feedback/{self.ids[key]}", params={"min_position": head})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def member(self, key: str) -> dict[str, Any]:
        r = self.http.get(f"/v1/members/{self.ids[key]}", params={"min_position": self.head()})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def head(self) -> int:
        return int(self.http.get("/v1/events", params={"after": 0, "limit": 1}).json()["head"])

    def erasures(self) -> list[dict[str, Any]]:
        feed = self.http.get("/v1/events", params={"after": 0, "limit": 500}).json()["items"]
        return [e for e in feed if e["type"] == ERASED_TYPE]


def _given(http: httpx.Client) -> dict[str, str]:
    """Customers A (due), B (came back 10 days ago), C (due, its team held); members
    gone (left 40 days ago: due), stays (active since long ago), held (left 60 days
    ago, held by name)."""
    support = post(http, "/v1/teams", {"name": "Support", "occurred_at": ago(500)})["id"]
    held_team = post(http, "/v1/teams", {"name": "Legal", "occurred_at": ago(500)})["id"]
    ids = {"support": support, "held_team": held_team}

    def customer(key: str, who: str, team: str, days: int) -> None:
        ids[key] = post(http, "/v1/feedback", {
            "kind": "customer", "team_id": team, "text": f"words of {who}", "score": 3,
            "customer": {"name": f"Customer {who}", "email": f"{who}@example.net"},
            "occurred_at": ago(days)})["id"]

    customer("cust_a", "cust_a", support, 400)
    customer("cust_b", "cust_b", support, 400)
    customer("cust_b_again", "cust_b", support, 10)
    customer("cust_c", "cust_c", held_team, 400)

    def join(key: str, days: int) -> None:
        ids[key] = post(http, f"/v1/teams/{support}/members", {
            "name": f"Member {key}", "email": f"{key}@example.org", "role": "SRE",
            "occurred_at": ago(days)})["id"]

    join("stays", 400)
    join("gone", 100)
    join("held", 100)
    post(http, f"/v1/teams/{support}/members/{ids['held']}/leave",
         {"reason": "moved on", "occurred_at": ago(60)}, expect=200)
    post(http, f"/v1/teams/{support}/members/{ids['gone']}/leave",
         {"reason": "moved on", "occurred_at": ago(40)}, expect=200)
    ids["team_hold"] = post(http, "/v1/legal-holds", {"team_id": held_team,
                                                      "reason": "case 17"})["hold_id"]
    ids["member_hold"] = post(http, "/v1/legal-holds", {
        "subject": {"kind": "member", "member_id": ids["held"]}, "reason": "case 18"})["hold_id"]
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("retention") / "data"
    with ServerProcess(data, env=RETENTION) as server, server.client() as http:
        yield World(server, http, _given(http))


def test_a_dry_run_lists_what_is_due_and_held_and_changes_nothing(world: World) -> None:
    head = world.head()
    done = cli(world.server.url, "--dry-run")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "customer: kept 365 days after the customer's latest feedback: 2 due (1 under " \
           "legal hold), 0 erased before" in out
    assert "member: kept 30 days after the day the member left: 2 due (1 under legal hold)" \
        in out
    assert f"held: member {world.ids['held']} by legal hold {world.ids['member_hold']} " \
           "(case 18)" in out
    assert f"due: member {world.ids['gone']}" in out
    assert f"legal hold {world.ids['team_hold']} (case 17)" in out
    assert "dry run: nothing was erased" in out
    assert world.head() == head
    assert world.feedback("cust_a")["customer"]["name"] == "Customer cust_a"
    assert world.member("gone")["name"] == "Member gone"


def test_a_run_erases_what_is_due_and_skips_what_is_held(world: World) -> None:
    done = cli(world.server.url)
    assert done.returncode == 0, done.stderr
    assert "erased 2/2" in done.stdout
    assert "customer: 1 erased, 1 skipped under legal hold, 0 refused" in done.stdout
    assert "member: 1 erased, 1 skipped under legal hold, 0 refused" in done.stdout

    erased = world.feedback("cust_a")
    assert (erased["customer"], erased["text"], erased["score"]) == (
        {"name": ERASED, "email": ERASED}, ERASED, 3)
    assert world.member("gone")["name"] == ERASED
    assert world.feedback("cust_b")["customer"]["name"] == "Customer cust_b"  # came back
    assert world.feedback("cust_c")["customer"]["name"] == "Customer cust_c"  # team held
    assert world.member("stays")["name"] == "Member stays"  # active
    assert world.member("held")["name"] == "Member held"  # held by name

    records = world.erasures()
    assert sorted(e["data"]["subject_kind"] for e in records) == ["customer", "member"]
    assert {e["actor"] for e in records} == {"user:admin"}  # the token's principal
    by_kind = {e["data"]["subject_kind"]: e["data"] for e in records}
    assert by_kind["member"]["subject_id"] == world.ids["gone"]
    assert by_kind["customer"]["reason"] == (
        "retention: customer personal data kept 365 days after the customer's latest "
        "feedback")
    assert by_kind["member"]["reason"].startswith("retention: member personal data kept 30")


def test_a_second_run_finds_nothing_due(world: World) -> None:
    head = world.head()
    done = cli(world.server.url)
    assert done.returncode == 0, done.stderr
    assert "customer: kept 365 days after the customer's latest feedback: 1 due (1 under " \
           "legal hold), 1 erased before" in done.stdout
    assert "erased 0/" not in done.stdout  # nothing left to erase: no batch was sent
    assert world.head() == head


def test_a_refused_token_or_an_unreachable_server_is_a_message_and_exit_1(
    world: World,
) -> None:
    refused = cli(world.server.url, token="not-a-token-0123456789")
    assert refused.returncode == 1
    assert "answered 401" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    gone = cli(f"http://127.0.0.1:{free_port()}")
    assert gone.returncode == 1
    assert "is OpsLedger running" in gone.stderr
    assert "Traceback" not in gone.stderr + gone.stdout


def test_a_bad_period_stops_serve_with_a_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(free_port()),
         "--data-dir", str(tmp_path / "data")],
        env={**without_settings(), "OPSLEDGER_RETENTION_MEMBER_DAYS": "0"},
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "OPSLEDGER_RETENTION_MEMBER_DAYS='0'" in done.stderr
    assert "greater than or equal to 1" in done.stderr
    assert "Traceback" not in done.stderr
