"""The goal page: a goal's baseline, target and progress, its check-ins and target
revisions, and the check-in form (value and note, ``If-Match`` and CSRF), through the
goals' command service as ``POST /v1/goals/{id}/check-ins``.

A goal of a team the token may not see is not found (404, as an unknown one).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from domain.goals import commands as c
from projections.fold import public
from services.api.bootstrap import Runtime
from services.api.deps import OPERATE
from services.api.models.goals import GoalCheckIn
from services.api.problems import ProblemError
from services.api.queries import one
from services.console.actions.commands import body_of, context_of, run
from services.console.auth import CheckedPost, SignedIn
from services.console.rendering import PREFIX, notice_of, page

router = APIRouter(include_in_schema=False)

GOAL = f"{PREFIX}/goals/{{goal_id}}"
GoalId = Annotated[UUID, Path()]


def number_of(text: str) -> float | str:
    """A typed number (``75``, ``12.5``, ``1,5``), else the text itself, which the body
    model then refuses with its own message."""
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return text


@router.get(GOAL)
def goal_page(request: Request, goal_id: GoalId, viewer: SignedIn) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    goal = one(rt, "goals", str(goal_id), "goal")
    if not viewer.grant.may_see_team(str(goal.get("team_id"))):
        raise ProblemError(404, f"goal {goal_id} not found")
    team = public(rt.store.get("teams", str(goal["team_id"]))) or {}
    return page(request, "goal.html", f"Goal: {goal.get('title')}", viewer=viewer,
                notice=notice_of(request), goal=goal, team=team,
                may_act=bool(viewer.grant.roles & set(OPERATE)),
                here=f"{PREFIX}/goals/{goal['id']}")


@router.post(f"{GOAL}/check-ins")
async def check_in(request: Request, goal_id: GoalId, posted: CheckedPost) -> Response:
    rt: Runtime = request.app.state.runtime
    body = body_of(GoalCheckIn, {"value": number_of(posted.form.get("value", "")),
                                 "note": posted.form.get("note", "")})
    ctx = await context_of(request, posted, OPERATE)
    return await run(request, posted, "goal", "checked-in",
                     lambda: rt.goals.check_in(c.CheckIn(goal_id, body.value, body.note), ctx))
