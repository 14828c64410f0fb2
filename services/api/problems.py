"""RFC 9457 problem details, and the one place that maps errors to HTTP statuses.

A 405 names in ``Allow`` every method the path serves (Starlette names only those of
the first route that matched the path), as the OpenAPI document lists them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    ConcurrencyError,
    DomainError,
    IdempotencyKeyReusedError,
    NotFoundError,
    OutOfScopeError,
    StaleVersionError,
    ValidationError,
)
from infra.event_store.group_commit import WriterBusyError
from infra.personal.sealing import UnreadableSealError
from infra.read_store.port import BadCursorError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 409: "Conflict", 412: "Precondition failed",
    413: "Content too large", 415: "Unsupported media type", 422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error", 503: "Service unavailable",
}


UNREADABLE = ("stored personal data does not open with its key: it was altered, or was not "
              "sealed by this deployment; it has been logged (run opsledger verify, and "
              "opsledger rebuild for the read models)")
# Answered by ServerErrorMiddleware (a 500), outside the Edge middleware: set them here.
SERVER_ERROR_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


class ProblemError(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem(status: int, detail: str, request: Request | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://opsledger.dev/problems/{status}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


ProblemPage = Callable[[Request, int, str, dict[str, str]], Response | None]
"""Renders a problem as a page for a request that reads pages (the console), or None
for a request that reads problem documents."""


def answer_problem(request: Request, status: int, detail: str,
                   headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """The problem as a page when the application has a :data:`ProblemPage` for this
    request (``app.state.problem_page``), else as a problem document."""
    page: ProblemPage | None = getattr(request.app.state, "problem_page", None)
    if page is not None:
        rendered = page(request, status, detail, dict(headers or {}))
        if rendered is not None:
            return rendered
    return problem(status, detail, request, headers, **extra)


def status_of(error: DomainError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, OutOfScopeError):
        return 403
    if isinstance(error, StaleVersionError):
        return 412
    if isinstance(error, (IdempotencyKeyReusedError, ValidationError)):
        return 422
    if isinstance(error, ConcurrencyError):
        return 409
    return 409


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


def allowed_methods(routes: list[Any], path: str) -> list[str]:
    """Every method some route serves on this path (all routes, not only the first
    that matched the path, which is all Starlette names in ``Allow``)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    methods: set[str] = set()
    for route in contexts(routes) if contexts is not None else routes:
        regex, served = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and served and regex.match(path):
            methods |= set(served)
    return sorted(methods)


def _answer_405_with_every_allowed_method(app: FastAPI) -> None:
    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        headers = dict(getattr(exc, "headers", None) or {})
        allowed = allowed_methods(app.routes, request.scope.get("path", request.url.path))
        if allowed:
            headers["Allow"] = ", ".join(allowed)
        detail = str(getattr(exc, "detail", "Method Not Allowed"))
        return answer_problem(request, 405, detail, headers)

    app.add_exception_handler(405, method_not_allowed)


def install(app: FastAPI) -> None:
    """Answer every error as a problem document; a 405 names every allowed method."""
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        return answer_problem(request, exc.status, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return answer_problem(request, status_of(exc), str(exc), **exc.details)

    @app.exception_handler(BadCursorError)
    async def _cursor(request: Request, exc: BadCursorError) -> Response:
        return answer_problem(request, 400, str(exc))

    @app.exception_handler(UnreadableSealError)
    async def _unreadable(request: Request, exc: UnreadableSealError) -> Response:
        # Stored data that its own key does not open: altered on disk, or not sealed by
        # this deployment. Not the client's fault, and no stack trace helps anyone: one
        # line for the operator, and the client is told what is wrong.
        log.error("unreadable personal data on %s %s: %s", request.method, request.url.path,
                  exc)
        return answer_problem(request, 500, UNREADABLE, SERVER_ERROR_HEADERS)

    @app.exception_handler(WriterBusyError)
    async def _busy(request: Request, exc: WriterBusyError) -> Response:
        # Overload, not a fault: the client may send the same command again (with its
        # Idempotency-Key) and it was not stored, so a 503 says so rather than a 500.
        log.warning("event store writer busy on %s %s: %s", request.method,
                    request.url.path, exc)
        return answer_problem(request, 503, "too many commands are waiting to be stored; "
                              "nothing was stored, retry shortly", {"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return answer_problem(request, 400, "the request body is not valid JSON",
                                  errors=errors)
        return answer_problem(request, 422, "the request is not valid", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return answer_problem(request, exc.status_code, str(exc.detail),
                              getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return answer_problem(request, 500, "an unexpected error occurred; it has been logged",
                              SERVER_ERROR_HEADERS)

    _answer_405_with_every_allowed_method(app)
