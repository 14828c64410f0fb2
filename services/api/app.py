"""The FastAPI application: ``create_app(settings)`` with a lifespan that opens and
closes the runtime (nothing connects at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from infra.settings import Settings
from services import console
from services.api import dispatch, offline_docs, openapi, problems
from services.api.bootstrap import Runtime
from services.api.middleware import Edge, HttpMetrics
from services.api.routes import (
    action_items,
    audit,
    compliance,
    contingency_plans,
    controls,
    events,
    feedback,
    findings,
    goals,
    health,
    imports,
    incidents,
    legal_holds,
    performance,
    policies,
    privacy,
    retention,
    risks,
    teams,
    tokens,
    trainings,
)

DESCRIPTION = """OpsLedger records every change to an operations team as an immutable event
and serves read models for ops staff, auditors and other services.
Authenticate every request with `Authorization: Bearer <token>`."""


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or Settings()
    owns_runtime = runtime is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.runtime is None:
            app.state.runtime = Runtime.open(settings)
        try:
            yield
        finally:
            if owns_runtime and app.state.runtime is not None:
                app.state.runtime.close()
                app.state.runtime = None

    app = FastAPI(title="OpsLedger", version="1.0.0", description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.runtime = runtime
    app.state.http_metrics = metrics = HttpMetrics()
    problems.install(app)
    openapi.install(app)
    offline_docs.install(app)
    for module in (teams, goals, incidents, feedback, audit, compliance, findings, performance,
                   events, health, tokens, legal_holds, retention, imports, controls,
                   action_items, risks, contingency_plans, trainings, policies, privacy):
        add_routes(app, module.router)
    console.install(app)  # /console: pages, none of them in the OpenAPI document
    app.add_middleware(Edge, metrics=metrics, max_body_bytes=settings.max_body_bytes)
    dispatch.install(app.router)
    return app


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """``router``'s routes as routes of the application itself, in order. Newer FastAPI
    keeps an included router whole and matches a request twice over its routes (once
    to find the router, once to pick the route), with bookkeeping at each; an API
    router here is only a list of routes (no prefix, dependencies or lifespan of its
    own: refused otherwise), so its routes are the application's as they are. The
    OpenAPI document is the same (``tests/unit/services/test_dispatch.py``)."""
    if router.prefix or router.dependencies or router.on_startup or router.on_shutdown:
        raise ValueError("add_routes takes a plain router: use app.include_router")
    app.router.routes.extend(router.routes)
