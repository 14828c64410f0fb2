"""The training matrix of a team: every active member x every training of the team
(the API's ``GET /v1/trainings/matrix``, :func:`projections.people_standing.matrix`),
each cell's status in words (done, expired, overdue, due, not assigned) with a
symbol, never colour alone.

A team the token may not see is not found (404, as an unknown one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from projections.people_standing import matrix
from services.api.bootstrap import Runtime
from services.console.auth import SignedIn
from services.console.pages.team import TeamId, team_of
from services.console.rendering import PREFIX, page

router = APIRouter(include_in_schema=False)

STATUSES: tuple[tuple[str, str], ...] = (
    ("done", "\N{CHECK MARK} done"), ("expired", "\N{WARNING SIGN} expired"),
    ("overdue", "\N{HEAVY EXCLAMATION MARK SYMBOL} overdue"),
    ("due", "\N{CLOCK FACE THREE OCLOCK} due"),
    ("not-assigned", "\N{EN DASH} not assigned"),
)
LABELS = dict(STATUSES)


def status_of(cell: dict[str, Any]) -> str:
    """A matrix cell's one status word, the worst first: expired, done, overdue, due,
    not assigned."""
    if cell.get("expired"):
        return "expired"
    if cell.get("done"):
        return "done"
    if cell.get("overdue"):
        return "overdue"
    if cell.get("assigned"):
        return "due"
    return "not-assigned"


@router.get(f"{PREFIX}/teams/{{team_id}}/trainings")
def training_matrix(request: Request, team_id: TeamId, viewer: SignedIn) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    team = team_of(rt, viewer.grant, team_id)
    trainings = list(rt.store.iter_find("trainings", {"team_id": team_id},
                                        order_by="defined_at"))
    members = rt.store.iter_find("members", {"team_id": team_id})
    rows = [{**row, "cells": [{**cell, "status": status_of(cell)} for cell in row["trainings"]]}
            for row in matrix(trainings, members, team_id, datetime.now(UTC))]
    return page(request, "trainings.html", f"Training matrix: {team.get('name')}",
                viewer=viewer, team=team, trainings=trainings,
                rows=sorted(rows, key=lambda r: str(r.get("name") or "")),
                labels=LABELS, statuses=STATUSES)
