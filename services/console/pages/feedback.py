"""A team's feedback page: the feedback the team received (customer, peer and
manager), newest first, and for feedback not yet triaged the triage form (priority and
owner, ``If-Match`` and CSRF), through the feedback command service as
``POST /v1/feedback/{id}/triage``.

A team the token may not see is not found (404, as an unknown one).
"""

from __future__ import annotations

from itertools import islice
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from domain.feedback import commands as c
from domain.feedback.aggregate import PRIORITIES
from projections.fold import public
from services.api.bootstrap import Runtime
from services.api.deps import OPERATE
from services.api.models.feedback import FeedbackTriage
from services.console.actions.commands import body_of, context_of, run
from services.console.auth import CheckedPost, SignedIn
from services.console.pages.team import TeamId, team_of
from services.console.rendering import PREFIX, notice_of, page

router = APIRouter(include_in_schema=False)

LIMIT = 200
"""The most feedback items one page shows (the newest)."""


@router.get(f"{PREFIX}/teams/{{team_id}}/feedback")
def feedback_page(request: Request, team_id: TeamId, viewer: SignedIn) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    team = team_of(rt, viewer.grant, team_id)
    items: list[dict[str, Any]] = [d for d in (public(doc) for doc in rt.store.iter_find(
        "feedback", {"team_id": team_id}, order_by="received_at")) if d is not None]
    items.reverse()
    members = sorted((public(m) or {} for m in rt.store.iter_find(
        "members", {"team_id": team_id})), key=lambda m: str(m.get("name") or ""))
    active = [m for m in members if m.get("active")]
    names = {str(m.get("id")): m.get("name") for m in members}
    return page(request, "feedback.html", f"Feedback: {team.get('name')}", viewer=viewer,
                notice=notice_of(request), team=team, items=list(islice(items, LIMIT)),
                total=len(items), members=active, names=names, priorities=PRIORITIES,
                may_act=bool(viewer.grant.roles & set(OPERATE)),
                here=f"{PREFIX}/teams/{team_id}/feedback")


@router.post(f"{PREFIX}/feedback/{{feedback_id}}/triage")
async def triage(request: Request, feedback_id: UUID, posted: CheckedPost) -> Response:
    rt: Runtime = request.app.state.runtime
    body = body_of(FeedbackTriage, {"priority": posted.form.get("priority", ""),
                                    "owner_id": posted.form.get("owner_id", "")})
    ctx = await context_of(request, posted, OPERATE)
    return await run(request, posted, "feedback", "triaged",
                     lambda: rt.feedback.triage(
                         c.TriageFeedback(feedback_id, body.priority, body.owner_id), ctx))
