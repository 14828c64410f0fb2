"""The FastAPI application: ``create_app(settings)`` with a lifespan that opens and
closes the runtime (nothing connects at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from infra.settings import Settings
from services import console
from services.api import offline_docs, openapi, problems
from services.api.bootstrap import Runtime
from services.api.limits import BodyLimit
from services.api.middleware import AnswerHeaders, ConsoleHeaders, HttpMetrics, RequestMetrics
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
                   events, health):
        app.include_router(module.router)
    app.include_router(tokens.router)
    app.include_router(legal_holds.router)
    app.include_router(retention.router)
    app.include_router(imports.router)
    app.include_router(controls.router)
    app.include_router(action_items.router)
    app.include_router(risks.router)
    app.include_router(contingency_plans.router)
    app.include_router(trainings.router)
    app.include_router(policies.router)
    app.include_router(privacy.router)
    console.install(app)  # /console: pages, none of them in the OpenAPI document
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AnswerHeaders)
    app.add_middleware(ConsoleHeaders)
    app.add_middleware(RequestMetrics, metrics=metrics)  # added last: outermost, sees all
    return app
