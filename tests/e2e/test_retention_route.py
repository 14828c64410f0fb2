"""``POST /v1/retention/run`` as specifications: an admin of every team only; a call
erases at most ``limit`` subjects and says how many remain; a kind without a period
keeps everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.api.app import create_app
from tests.e2e.conftest import SCOPED_ADMIN_TOKEN, Api, with_scoped_admin


def ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


@pytest.fixture
def retention(settings: Settings) -> Settings:
    return settings.model_copy(update={"retention_member_days": 30})


def _members_who_left(api: Api, count: int) -> list[str]:
    team = api.team("Old", occurred_at=ago(300))
    ids = [api.member(team, f"Leaver {i}", occurred_at=ago(200)) for i in range(count)]
    for member in ids:
        api.post(f"/v1/teams/{team}/members/{member}/leave",
                 {"reason": "left", "occurred_at": ago(100)}, expect=200)
    return ids


def test_a_call_erases_at_most_limit_subjects_and_says_how_many_remain(
    retention: Settings,
) -> None:
    with TestClient(create_app(retention)) as client:
        api = Api(client)
        leavers = _members_who_left(api, 3)
        first = api.post("/v1/retention/run", {"limit": 2}, expect=200).json()
        member = next(k for k in first["kinds"] if k["kind"] == "member")
        assert (member["due"], member["erased"], member["remaining"]) == (3, 2, 1)
        customer = next(k for k in first["kinds"] if k["kind"] == "customer")
        assert (customer["retention_days"], customer["due"]) == (None, 0)  # kept

        second = api.post("/v1/retention/run", {"limit": 2}, expect=200).json()
        member = next(k for k in second["kinds"] if k["kind"] == "member")
        assert (member["due"], member["erased"], member["remaining"],
                member["already_erased"]) == (1, 1, 0, 2)
        erased = {s["subject_id"] for s in member["subjects"] if s["outcome"] == "erased"}
        assert erased < set(leavers)


def test_without_periods_nothing_is_due(api: Api) -> None:
    _members_who_left(api, 1)
    head = api.head()
    report = api.post("/v1/retention/run", {}, expect=200).json()
    assert [(k["kind"], k["retention_days"], k["due"]) for k in report["kinds"]] == [
        ("customer", None, 0), ("member", None, 0)]
    assert api.head() == head


@pytest.mark.parametrize("role", ["lead", "member", "auditor", "service"])
def test_only_an_admin_runs_retention(api: Api, role: str) -> None:
    api.as_(role).post("/v1/retention/run", {"dry_run": True}, expect=403)


def test_an_admin_of_some_teams_may_not_run_retention(retention: Settings) -> None:
    with TestClient(create_app(with_scoped_admin(retention))) as client:
        api = Api(client)
        _members_who_left(api, 1)
        head = api.head()
        sue = Api(client)
        sue.headers = {"Authorization": f"Bearer {SCOPED_ADMIN_TOKEN}"}
        sue.post("/v1/retention/run", {}, expect=403)
        assert api.head() == head


@pytest.mark.parametrize("body", [{"limit": 0}, {"limit": 501}, {"dry_run": "maybe"},
                                  {"kinds": ["member"]}])
def test_a_bad_body_is_422(api: Api, body: dict[str, object]) -> None:
    api.post("/v1/retention/run", body, expect=422)
