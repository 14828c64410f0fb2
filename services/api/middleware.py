"""The ASGI middleware around every answer: request metrics, the headers of every
answer, and the body limit, in one layer (:class:`Edge`).

``Edge`` is the only middleware the application adds, so it sees every answer, 413
refusals included. The only layers outside it are Starlette's and FastAPI's own:
``ServerErrorMiddleware`` turns an unhandled exception into the 500; that exception
passes through here first, so it is counted as the 500 it becomes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.limits import BodyLimit

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # any path no route matches: one label, not one per path


@dataclass
class HttpMetrics:
    """The request metrics of one application, in a registry of its own."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    requests: Counter = field(init=False)
    duration: Histogram = field(init=False)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "opsledger_http_requests", "HTTP responses, by method, route template and status",
            ["method", "route", "status"], registry=self.registry,
        )
        self.duration = Histogram(
            "opsledger_http_request_duration_seconds",
            "time to answer an HTTP request, by method and route template",
            ["method", "route"], registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/teams/{team_id}``), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


ANSWER_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"))
"""On every answer that does not set its own: answers carry personal data and must not
be cached or sniffed into another content type."""

CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
               "font-src 'self'; connect-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
"""The console's pages load only what the console serves: its stylesheet and its
charts; no inline script, no inline style, and no other site."""

CONSOLE_PREFIX = "/console"
CONSOLE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    *ANSWER_HEADERS, (b"content-security-policy", CONSOLE_CSP.encode()),
    (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"))
"""On every answer under ``/console`` that does not set its own (an SVG chart sets a
stricter Content-Security-Policy of its own), besides :data:`ANSWER_HEADERS`."""


def default_headers(path: str) -> tuple[tuple[bytes, bytes], ...]:
    """The headers an answer for ``path`` gets unless it sets them itself."""
    if path == CONSOLE_PREFIX or path.startswith(f"{CONSOLE_PREFIX}/"):
        return CONSOLE_HEADERS
    return ANSWER_HEADERS


class Edge:
    """The one middleware of the application, around everything else it adds: request
    metrics, the default headers of every answer, and the body limit (413).

    One layer, not four: each layer of pure ASGI middleware wraps ``send`` in a closure
    of its own, and these are on every request. Their order is kept: the metrics see
    every answer (413s included, and an exception as the 500 it becomes), and a 413
    gets the default headers like any answer."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.body_limit = BodyLimit(max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        defaults = default_headers(scope.get("path", ""))

        async def edge_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                message = {**message, "headers": headers + [
                    (n, v) for n, v in defaults if n not in present]}
            await send(message)

        try:
            await self.body_limit.call(self.app, scope, receive, edge_send,
                                       answered=lambda: status is not None)
        except Exception:
            if status is None:
                status = 500  # what ServerErrorMiddleware, outside us, will answer
            raise
        finally:
            if status is not None:  # None: the client went away before any answer
                method = scope.get("method", "")
                self.metrics.observe(method if method in METHODS else "other",
                                     route_template(scope), status,
                                     time.perf_counter() - started)
