"""Liveness, readiness and Prometheus metrics.

``/healthz`` is open and answered on the event loop. ``/readyz`` is open for probes,
which learn only ready or not; with any valid token it adds positions, lag and checks.
``/metrics`` needs a valid token (any role): Prometheus sends one (``authorization`` in
its scrape config).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from services.api.bootstrap import Runtime
from services.api.deps import GrantDep, OptionalGrant, RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive: answered on the event loop, never queued behind work."""
    return {"status": "ok"}


def readiness(rt: Runtime) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    ok = True
    try:
        head = rt.ledger.head_position()
        # Without an in-process follower, "applied" is a projector's checkpoint: a
        # public position. Private records after the last public event never count.
        public_head = head if rt.follower is not None else rt.last_public_position(head)
        checks["event_store"] = "ok"
    except Exception as e:  # any failure means "not ready", reported, never raised
        head = public_head = 0
        checks["event_store"] = f"unreachable: {type(e).__name__}"
        ok = False
    try:
        rt.store.ping()
        applied = rt.applied_position()
        checks["read_store"] = "ok"
    except Exception as e:
        applied = 0
        checks["read_store"] = f"unreachable: {type(e).__name__}"
        ok = False
    if rt.settings.distributed:
        from infra.kafka.admin import reachable

        kafka_ok = reachable(rt.settings.kafka_bootstrap or "", timeout=1.0)
        checks["kafka"] = "ok" if kafka_ok else "unreachable"
        ok = ok and kafka_ok
    checks["head_position"] = head
    checks["applied_position"] = applied
    checks["projection_lag"] = max(0, public_head - applied)
    if rt.follower is not None and rt.follower.last_error:
        checks["follower_error"] = rt.follower.last_error
        ok = False
    return ok, checks


@router.get("/readyz")
def readyz(rt: RuntimeDep, grant: OptionalGrant) -> JSONResponse:
    """Ready or not (200/503); with a token, also the stores, positions and lag."""
    ok, checks = readiness(rt)
    body: dict[str, Any] = {"status": "ready" if ok else "not ready"}
    if grant is not None:  # details (and error text) only for an authenticated caller
        body.update(checks)
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics")
def metrics(request: Request, rt: RuntimeDep, grant: GrantDep) -> Response:
    """Prometheus text: positions, projection lag, requests by route and status, and
    their durations. Needs a token (any role)."""
    registry = CollectorRegistry()
    _, checks = readiness(rt)
    Gauge("opsledger_head_position", "last stored global position",
          registry=registry).set(checks["head_position"])
    Gauge("opsledger_applied_position", "last position applied to the read models",
          registry=registry).set(checks["applied_position"])
    Gauge("opsledger_projection_lag", "public positions not yet in the read models",
          registry=registry).set(checks["projection_lag"])
    http = request.app.state.http_metrics.registry
    return Response(generate_latest(registry) + generate_latest(http),
                    media_type=CONTENT_TYPE_LATEST)
