"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from services.api.deps import RuntimeDep
from services.runtime import Runtime

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
        checks["event_store"] = "ok"
    except Exception as e:  # any failure means "not ready", reported, never raised
        head = 0
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
    checks["projection_lag"] = max(0, head - applied)
    if rt.follower is not None and rt.follower.last_error:
        checks["follower_error"] = rt.follower.last_error
        ok = False
    return ok, checks


@router.get("/readyz")
def readyz(rt: RuntimeDep) -> JSONResponse:
    """Stores reachable; projection lag."""
    ok, checks = readiness(rt)
    return JSONResponse({"status": "ready" if ok else "not ready", **checks},
                        status_code=200 if ok else 503)


@router.get("/metrics")
def metrics(rt: RuntimeDep) -> Response:
    """Prometheus text: positions, projection lag, request counts."""
    registry = CollectorRegistry()
    _, checks = readiness(rt)
    Gauge("opsledger_head_position", "last stored global position",
          registry=registry).set(checks["head_position"])
    Gauge("opsledger_applied_position", "last position applied to the read models",
          registry=registry).set(checks["applied_position"])
    Gauge("opsledger_projection_lag", "stored positions not yet in the read models",
          registry=registry).set(checks["projection_lag"])
    requests = Gauge("opsledger_http_requests", "requests answered, by status class",
                     ["status"], registry=registry)
    for status, count in rt.request_counts.items():
        requests.labels(status).set(count)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
