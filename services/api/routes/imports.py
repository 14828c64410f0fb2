"""Import runs: declared backfills, inside which commands may carry any past time.

Commands sent with ``OpsLedger-Import-Run: <id>`` of an open run record the run in
their events, so the ``backdated_entry`` control leaves them out; outside a run a
late entry is accepted and found (:mod:`projections.compliance_controls`).
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from domain.errors import NotFoundError
from services.api.deps import Admin, Auditor, CommandCtx, RuntimeDep
from services.api.models.common import Empty, answer
from services.api.models.imports import ImportFinished, ImportOpen, ImportOpened, ImportRunPublic
from services.api.problems import ProblemError

router = APIRouter(tags=["imports"])


@router.post("/v1/imports", status_code=201)
def open_import(body: ImportOpen, _: Admin, ctx: CommandCtx, rt: RuntimeDep,
                response: Response) -> ImportOpened:
    """Open an import run; send its commands with ``OpsLedger-Import-Run: <id>``."""
    result = rt.imports.open(body.source, body.reason, ctx)
    return ImportOpened(**answer(result, response).model_dump(), import_run_id=str(result.id))


@router.post("/v1/imports/{run_id}/finish")
def finish_import(run_id: UUID, _: Admin, ctx: CommandCtx, rt: RuntimeDep,
                  response: Response, body: Empty | None = None) -> ImportFinished:
    """Close an import run: its counts are answered and recorded; no command can join
    it afterwards (409)."""
    result = rt.imports.finish(run_id, ctx)
    run = rt.imports.run(run_id)
    return ImportFinished(**answer(result, response).model_dump(), import_run_id=str(run_id),
                          events_recorded=run.events_recorded, by_context=run.by_context)


@router.get("/v1/imports/{run_id}")
def import_run(run_id: UUID, _: Auditor, rt: RuntimeDep) -> ImportRunPublic:
    """An import run: who opened it, from which source and why, and its counts."""
    try:
        run = rt.imports.run(run_id)
    except NotFoundError:
        raise ProblemError(404, f"import run {run_id} not found") from None
    counts = run.by_context if run.finished else rt.imports.counts(run_id)
    return ImportRunPublic(
        import_run_id=str(run_id), source=run.source, reason=run.reason,
        opened_by=run.opened_by, status="finished" if run.finished else "open",
        events_recorded=sum(counts.values()), by_context=counts)
