"""ASGI middleware around every answer: request metrics, and the headers of every answer.

``RequestMetrics`` sits outside every other middleware the application adds, so it sees
every answer, 413 refusals included. The only layer outside it is Starlette's
``ServerErrorMiddleware``, which turns an unhandled exception into the 500; that
exception passes through here first, so it is counted as the 500 it becomes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
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


class DefaultHeaders:
    """Adds ``HEADERS`` to every answer (of the paths it ``covers``) that does not set
    them itself."""

    HEADERS: tuple[tuple[bytes, bytes], ...] = ()

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def covers(self, path: str) -> bool:
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.covers(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in self.HEADERS if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class AnswerHeaders(DefaultHeaders):
    """``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store`` on every answer
    that does not set its own: answers carry personal data and must not be cached or
    sniffed into another content type."""

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"))


CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
               "font-src 'self'; connect-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
"""The console's pages load only what the console serves: its stylesheet and its
charts; no inline script, no inline style, and no other site."""


class ConsoleHeaders(DefaultHeaders):
    """A strict Content-Security-Policy, ``X-Frame-Options: DENY`` and
    ``Referrer-Policy: same-origin`` on every answer under ``/console`` that does not
    set its own (an SVG chart sets a stricter one of its own)."""

    PREFIX = "/console"
    HEADERS = ((b"content-security-policy", CONSOLE_CSP.encode()),
               (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"))

    def covers(self, path: str) -> bool:
        return path == self.PREFIX or path.startswith(f"{self.PREFIX}/")
