"""Actions on incidents, through the incidents' command service (as the API's
``/v1/incidents/{id}/...`` routes)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.incidents import commands as c
from services.api.bootstrap import Runtime
from services.api.deps import OPERATE
from services.console.actions.commands import context_of, run
from services.console.auth import CheckedPost
from services.console.rendering import PREFIX

router = APIRouter(include_in_schema=False)


@router.post(f"{PREFIX}/incidents/{{incident_id}}/acknowledge")
async def acknowledge(request: Request, incident_id: UUID, posted: CheckedPost) -> Response:
    rt: Runtime = request.app.state.runtime
    ctx = await context_of(request, posted, OPERATE)
    return await run(request, posted, "incident", "acknowledged",
               lambda: rt.incidents.acknowledge(c.Acknowledge(incident_id), ctx))
