"""The one middleware around every answer (services/api/middleware.py, ``Edge``): the
default headers, the body limit and the request metrics, in the order the four
layers it replaces had."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from services.api.middleware import CONSOLE_CSP, Edge, HttpMetrics


async def echo(request: Request) -> Response:
    return PlainTextResponse(str(len(await request.body())))


async def own_policy(request: Request) -> Response:
    return PlainTextResponse("svg", headers={"Content-Security-Policy": "default-src 'none'",
                                             "Cache-Control": "max-age=60"})


async def boom(request: Request) -> Response:
    raise RuntimeError("boom")


def client(metrics: HttpMetrics) -> TestClient:
    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]),
                            Route("/console/chart.svg", own_policy),
                            Route("/boom", boom)])
    app.add_middleware(Edge, metrics=metrics, max_body_bytes=10)
    return TestClient(app, raise_server_exceptions=False)


def count(metrics: HttpMetrics, method: str, status: str) -> float:
    """Answers counted with ``method`` and ``status``, whatever their route label."""
    return sum(sample.value for family in metrics.registry.collect()
               for sample in family.samples
               if sample.name == "opsledger_http_requests_total"
               and sample.labels["method"] == method and sample.labels["status"] == status)


def test_every_answer_gets_the_default_headers_it_does_not_set() -> None:
    r = client(HttpMetrics()).post("/echo", content=b"hello")
    assert (r.status_code, r.text) == (200, "5")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "content-security-policy" not in r.headers


def test_a_console_answer_gets_the_console_s_headers_but_keeps_its_own() -> None:
    r = client(HttpMetrics()).get("/console/chart.svg")
    assert r.headers["content-security-policy"] == "default-src 'none'"
    assert r.headers["cache-control"] == "max-age=60"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client(HttpMetrics()).get("/console").headers[
        "content-security-policy"] == CONSOLE_CSP


@pytest.mark.parametrize("streamed", [False, True])
def test_a_body_over_the_limit_is_a_413_with_the_default_headers_and_counted(
        streamed: bool) -> None:
    metrics = HttpMetrics()
    content = iter([b"123456", b"789012"]) if streamed else b"x" * 11
    r = client(metrics).post("/echo", content=content)
    assert r.status_code == 413
    if not streamed:  # refused before the app ran (streamed: the app's own 413 answer)
        assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert count(metrics, "POST", "413") == 1


def test_an_unhandled_exception_is_counted_as_the_500_it_becomes() -> None:
    metrics = HttpMetrics()
    assert client(metrics).get("/boom").status_code == 500
    assert count(metrics, "GET", "500") == 1
