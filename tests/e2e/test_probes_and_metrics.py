"""Probes and metrics: /healthz open, /readyz says only ready-or-not without a token,
/metrics needs a token and counts every answer (unhandled 500s included) the
Prometheus way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from domain.idempotency import IdempotencyRecord
from infra.settings import Settings
from services.api.app import create_app
from services.api.bootstrap import Runtime
from tests.e2e.conftest import Api

PROBE_TOKENS = {
    "probe-admin-token-0123456789": {"principal": "user:admin", "roles": ["admin"],
                                     "teams": ["*"]},
    "probe-service-token-01234567": {"principal": "service:prometheus", "roles": ["service"],
                                     "teams": ["*"]},
}
ADMIN = {"Authorization": "Bearer probe-admin-token-0123456789"}
SCRAPER = {"Authorization": "Bearer probe-service-token-01234567"}


def samples(text: str, name: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples
            if s.name == name]


def family_types(text: str) -> dict[str, str]:
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def value(text: str, name: str, **labels: str) -> float:
    found = [s.value for s in samples(text, name) if s.labels == labels]
    return found[0] if found else 0.0


@pytest.fixture
def probe_app(tmp_path: Path) -> Iterator[tuple[FastAPI, TestClient]]:
    settings = Settings(data_dir=tmp_path / "data", tokens=json.dumps(PROBE_TOKENS))
    app = create_app(settings)

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("secret detail of an unexpected failure")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, client


# -- /healthz and /readyz ----------------------------------------------------------

def test_healthz_is_open(probe_app: tuple[FastAPI, TestClient]) -> None:
    _, client = probe_app
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_without_a_token_says_only_ready_or_not(
        probe_app: tuple[FastAPI, TestClient]) -> None:
    _, client = probe_app
    client.post("/v1/teams", json={"name": "SRE"}, headers=ADMIN)
    r = client.get("/readyz")
    assert (r.status_code, r.json()) == (200, {"status": "ready"})


def test_readyz_with_any_valid_token_adds_positions_lag_and_checks(
        probe_app: tuple[FastAPI, TestClient]) -> None:
    _, client = probe_app
    position = client.post("/v1/teams", json={"name": "SRE"}, headers=ADMIN).json()["position"]
    client.get("/v1/teams", params={"min_position": position}, headers=ADMIN)
    ready = client.get("/readyz", headers=SCRAPER).json()
    assert ready == {"status": "ready", "event_store": "ok", "read_store": "ok",
                     "head_position": position, "applied_position": position,
                     "projection_lag": 0}


def test_readyz_with_a_bad_token_is_a_401(probe_app: tuple[FastAPI, TestClient]) -> None:
    _, client = probe_app
    r = client.get("/readyz", headers={"Authorization": "Bearer not-a-token-at-all"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert "head_position" not in r.text


def test_a_not_ready_server_tells_a_tokenless_probe_no_error_text(
        probe_app: tuple[FastAPI, TestClient]) -> None:
    app, client = probe_app
    runtime: Runtime = app.state.runtime
    assert runtime.follower is not None
    runtime.follower.stop()  # a follower stuck on a failure (its thread would clear it)
    runtime.follower.last_error = "OperationalError: disk I/O error at /srv/secret/path"
    r = client.get("/readyz")
    assert (r.status_code, r.json()) == (503, {"status": "not ready"})
    detailed = client.get("/readyz", headers=ADMIN)
    assert detailed.status_code == 503
    assert detailed.json()["follower_error"].startswith("OperationalError")


# -- /metrics ------------------------------------------------------------------------

def test_metrics_need_a_valid_token(probe_app: tuple[FastAPI, TestClient]) -> None:
    _, client = probe_app
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "opsledger_" not in r.text
    scraped = client.get("/metrics", headers=SCRAPER)  # any role will do
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")


def test_metrics_count_every_answer_including_unhandled_500s(
        probe_app: tuple[FastAPI, TestClient]) -> None:
    _, client = probe_app
    # given answers of every kind: created, not found, refused, too large, unhandled
    formed = client.post("/v1/teams", json={"name": "SRE"}, headers=ADMIN).json()
    team = formed["id"]
    for _ in range(2):
        assert client.get(f"/v1/teams/{team}", params={"min_position": formed["position"]},
                          headers=ADMIN).status_code == 200
    client.get("/v1/teams/00000000-0000-4000-8000-000000000000", headers=ADMIN)
    client.get("/v1/teams")  # no token
    client.post("/v1/teams", content=b"x" * (2 * 1024 * 1024), headers={
        **ADMIN, "content-type": "application/json"})
    for _ in range(3):
        boom = client.get("/test-only/boom")
        assert boom.status_code == 500
        assert "secret detail" not in boom.text
        assert boom.headers["content-type"] == "application/problem+json"
        assert boom.headers["cache-control"] == "no-store"
    client.get("/no/such/route/4711")
    # when Prometheus scrapes
    text = client.get("/metrics", headers=SCRAPER).text
    # then each answer is counted once, by method, route template and status
    total = "opsledger_http_requests_total"
    assert value(text, total, method="POST", route="/v1/teams", status="201") == 1
    assert value(text, total, method="GET", route="/v1/teams/{team_id}", status="200") == 2
    assert value(text, total, method="GET", route="/v1/teams/{team_id}", status="404") == 1
    assert value(text, total, method="GET", route="/v1/teams", status="401") == 1
    assert value(text, total, method="POST", route="unmatched", status="413") == 1
    assert value(text, total, method="GET", route="/test-only/boom", status="500") == 3
    assert value(text, total, method="GET", route="unmatched", status="404") == 1
    # no raw path (with its ids) ever becomes a label
    assert team not in text and "4711" not in text
    # and with Prometheus conventions: a counter, a duration histogram by route template
    types = family_types(text)
    assert types["opsledger_http_requests"] == "counter"
    assert types["opsledger_http_request_duration_seconds"] == "histogram"
    assert value(text, "opsledger_http_request_duration_seconds_count",
                 method="GET", route="/v1/teams/{team_id}") == 3
    assert value(text, "opsledger_http_request_duration_seconds_count",
                 method="GET", route="/test-only/boom") == 3
    assert [s for s in samples(text, "opsledger_http_request_duration_seconds_bucket")
            if s.labels.get("le") == "+Inf" and s.labels["route"] == "/test-only/boom"]
    # and the position gauges are still there
    assert types["opsledger_head_position"] == "gauge"
    assert value(text, "opsledger_head_position") == 1
    assert types["opsledger_projection_lag"] == "gauge"


def test_api_answers_are_not_cached_or_sniffed(api: Api) -> None:
    for r in (api.client.get("/v1/teams", headers=api.headers), api.client.get("/v1/teams"),
              api.client.get("/healthz")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"


# -- lag counts only public positions ------------------------------------------------

def test_lag_is_zero_when_the_last_stored_record_is_private(tmp_path: Path) -> None:
    # given the distributed shape: no follower in the API process; a projector's
    # checkpoint is the last public position it applied
    settings = Settings(data_dir=tmp_path / "data", tokens=json.dumps(PROBE_TOKENS))
    runtime = Runtime.open(settings, follow=False)
    try:
        with TestClient(create_app(settings, runtime=runtime)) as client:
            # and a command with an Idempotency-Key: its private record is stored last
            first = client.post("/v1/teams", json={"name": "SRE"},
                                headers={**ADMIN, "Idempotency-Key": "form-sre"}).json()
            assert runtime.ledger.head_position() == first["position"] + 1
            runtime.sealed_store.commit({}, (runtime.checkpoint_name, 0))
            ready = client.get("/readyz", headers=ADMIN).json()
            assert ready["projection_lag"] == 1  # the event itself is not applied yet
            # when the projector has applied the event
            runtime.sealed_store.commit({}, (runtime.checkpoint_name, first["position"]))
            # then nothing lags: the private record is never published
            ready = client.get("/readyz", headers=ADMIN).json()
            assert ready["projection_lag"] == 0, ready
            assert ready["head_position"] == first["position"] + 1
            text = client.get("/metrics", headers=ADMIN).text
            assert value(text, "opsledger_projection_lag") == 0
            # and a later public event counts again
            later = client.post("/v1/teams", json={"name": "Payments"}, headers=ADMIN).json()
            assert client.get("/readyz", headers=ADMIN).json()["projection_lag"] == (
                later["position"] - first["position"])
    finally:
        runtime.close()


def test_last_public_position_looks_back_past_many_private_records(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", tokens=json.dumps(PROBE_TOKENS))
    runtime = Runtime.open(settings, follow=False)
    try:
        with TestClient(create_app(settings, runtime=runtime)) as client:
            team = client.post("/v1/teams", json={"name": "SRE"}, headers=ADMIN).json()
            assert runtime.last_public_position(0) == 0
            assert runtime.last_public_position(team["position"]) == team["position"]
            # 300 private records in a row (as a run of keyed commands' records could be)
            runtime.ledger.save(*[IdempotencyRecord.record(uuid4(), "f", uuid4(), 1, True,
                                                           uuid4()) for _ in range(300)])
            head = runtime.ledger.head_position()
            assert head == team["position"] + 300
            assert runtime.last_public_position(head) == team["position"]
            assert runtime.last_public_position(head - 299) == team["position"]
    finally:
        runtime.close()
