"""Rate limits on authentication: failed authentications per client address (on by
default: 20 per 60 s), and requests per token (off by default). Beyond either, a 429
problem document with ``Retry-After``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.api.app import create_app
from tests.e2e.conftest import TOKENS, bearer

WRONG = {"Authorization": "Bearer not-a-known-token-at-all"}


def app_with(tmp_path: Path, **limits: Any) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", tokens=json.dumps(TOKENS), **limits)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[TestClient]:
    with app_with(tmp_path, auth_failure_limit=3) as client:
        yield client


def assert_too_many(r: Any, window: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 429 and r.json()["title"] == "Too many requests"
    assert 1 <= int(r.headers["retry-after"]) <= window


def test_by_default_the_21st_failed_authentication_in_a_minute_is_refused(
    client: TestClient,
) -> None:
    failures = [client.get("/v1/teams", headers=WRONG).status_code for _ in range(20)]

    assert failures == [401] * 20
    assert_too_many(client.get("/v1/teams", headers=WRONG), 60)


def test_beyond_the_limit_an_address_is_refused_before_its_token_is_checked(
    limited: TestClient,
) -> None:
    for _ in range(3):
        assert limited.get("/v1/teams", headers=WRONG).status_code == 401

    assert_too_many(limited.get("/v1/teams", headers=WRONG), 60)
    assert_too_many(limited.get("/v1/teams", headers=bearer("admin")), 60)
    assert_too_many(limited.post("/v1/teams", json={"name": "x"},
                                 headers=bearer("admin")), 60)


def test_every_kind_of_bad_credential_counts_but_a_missing_one_does_not(
    limited: TestClient,
) -> None:
    for _ in range(5):
        assert limited.get("/v1/teams").status_code == 401
    assert limited.get("/v1/teams", headers=bearer("admin")).status_code == 200

    for headers in ({"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
                    WRONG):
        assert limited.get("/v1/teams", headers=headers).status_code == 401
    assert_too_many(limited.get("/v1/teams", headers=bearer("admin")), 60)


def test_failures_are_counted_per_client_address(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", tokens=json.dumps(TOKENS),
                        auth_failure_limit=2)
    app = create_app(settings)
    with TestClient(app, client=("203.0.113.7", 50000)) as attacker, \
            TestClient(app, client=("198.51.100.2", 50000)) as colleague:
        for _ in range(2):
            attacker.get("/v1/teams", headers=WRONG)
        assert attacker.get("/v1/teams", headers=bearer("admin")).status_code == 429

        assert colleague.get("/v1/teams", headers=bearer("admin")).status_code == 200


def test_an_address_may_try_again_once_its_window_frees_a_slot(tmp_path: Path) -> None:
    with app_with(tmp_path, auth_failure_limit=2, auth_failure_window_seconds=1) as client:
        for _ in range(2):
            client.get("/v1/teams", headers=WRONG)
        refused = client.get("/v1/teams", headers=bearer("admin"))
        assert_too_many(refused, 1)

        time.sleep(1.1)

        assert client.get("/v1/teams", headers=bearer("admin")).status_code == 200


def test_the_failure_limit_can_be_switched_off(tmp_path: Path) -> None:
    with app_with(tmp_path, auth_failure_limit=0) as client:
        assert {client.get("/v1/teams", headers=WRONG).status_code for _ in range(25)} == {401}


def test_a_401_keeps_its_bearer_challenge_under_the_limit(limited: TestClient) -> None:
    r = limited.get("/v1/teams", headers=WRONG)

    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="opsledger"'


# -- requests per token ------------------------------------------------------------------


def test_tokens_have_no_request_limit_by_default(client: TestClient) -> None:
    assert Settings().token_request_limit == 0
    statuses = {client.get("/v1/teams", headers=bearer("admin")).status_code for _ in range(40)}
    assert statuses == {200}


def test_a_token_over_its_request_limit_is_refused_and_other_tokens_are_not(
    tmp_path: Path,
) -> None:
    with app_with(tmp_path, token_request_limit=3, token_request_window_seconds=30) as client:
        for _ in range(3):
            assert client.get("/v1/teams", headers=bearer("lead")).status_code == 200

        assert_too_many(client.get("/v1/teams", headers=bearer("lead")), 30)
        assert client.get("/v1/teams", headers=bearer("member")).status_code == 200
        # A refused request is no failed authentication: the address is not blocked.
        assert client.get("/v1/teams", headers=bearer("admin")).status_code == 200


def test_an_issued_token_has_its_own_request_limit(tmp_path: Path) -> None:
    with app_with(tmp_path, token_request_limit=2) as client:
        first, second = (client.post("/v1/tokens", headers=bearer("admin"), json={
            "principal": "user:ada", "roles": ["member"], "teams": ["*"]}).json()["token"]
            for _ in range(2))
        for _ in range(2):
            assert client.get("/v1/teams", headers={
                "Authorization": f"Bearer {first}"}).status_code == 200

        assert_too_many(client.get("/v1/teams", headers={"Authorization": f"Bearer {first}"}),
                        60)
        assert client.get("/v1/teams", headers={
            "Authorization": f"Bearer {second}"}).status_code == 200


def test_a_command_counts_once_against_its_token_s_request_limit(tmp_path: Path) -> None:
    """A command's route checks the role and builds the command's context, both from
    the caller's grant: the token is counted once per request, not once per use."""
    with app_with(tmp_path, token_request_limit=3, token_request_window_seconds=30) as client:
        for n in range(3):
            answer = client.post("/v1/teams", headers=bearer("admin"), json={"name": f"T{n}"})
            assert answer.status_code == 201, answer.text

        assert_too_many(client.post("/v1/teams", headers=bearer("admin"),
                                    json={"name": "T4"}), 30)
