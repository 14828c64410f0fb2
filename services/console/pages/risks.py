"""The risk register page: the heat map of the open risks (likelihood x impact, the
API's ``GET /v1/risks/heatmap``), before and after their controls, and the register's
open risks.

Readable without colour: every cell shows its counts as numbers and its band as a
word (low, medium, high, severe) with a pattern of its own (none, dots, hatching,
cross-hatching), and the grid is a table with row and column headers. ``team_id``
narrows it to one team of the token (another team: 403, as on the API).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from domain.risks.aggregate import SCALE
from projections.fold import public
from services.api.bootstrap import Runtime
from services.api.deps import team_scope
from services.api.queries import visible_teams
from services.api.routes.risks import heatmap
from services.console.auth import SignedIn
from services.console.rendering import PREFIX, page

router = APIRouter(include_in_schema=False)

BANDS: tuple[tuple[int, str], ...] = ((20, "severe"), (10, "high"), (5, "medium"), (1, "low"))
"""The lowest score of each band (likelihood x impact, 1 to 25)."""


def band(score: int) -> str:
    return next(name for lowest, name in BANDS if score >= lowest)


def grid(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The heat map's rows, likelihood 5 (top) to 1, each with its cells by impact
    1 to 5 and the band of each."""
    by_cell = {(c["likelihood"], c["impact"]): c for c in cells}
    return [{"likelihood": lk,
             "cells": [{**by_cell[(lk, im)], "band": band(lk * im)} for im in SCALE]}
            for lk in reversed(SCALE)]


@router.get(f"{PREFIX}/risks")
def risks_page(request: Request, viewer: SignedIn,
               team_id: Annotated[UUID | None, Query()] = None) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    found = heatmap(viewer.grant, rt, None, team_id).model_dump()
    risks = [public(r) for r in rt.store.iter_find(
        "risks", team_scope(viewer.grant, team_id), order_by="identified_at")]
    open_risks = sorted((r for r in risks if r and r.get("status") != "closed"),
                        key=lambda r: -int(r.get("residual_score") or 0))
    teams = visible_teams(rt, viewer.grant)
    return page(request, "risks.html", "Risk register", viewer=viewer,
                total=found["risks"], grid=grid(found["cells"]), scale=list(SCALE),
                bands=[name for _, name in reversed(BANDS)], risks=open_risks,
                teams=teams, team_names={str(t["id"]): t.get("name") for t in teams},
                team_id=None if team_id is None else str(team_id))
