"""The member page: who the member is (team, role, role history) and their
performance timeline, the API's member timeline query
(``GET /v1/performance/members/{id}/timeline``: role changes, goals and check-ins,
incidents handled, feedback, trainings and policy acknowledgements), oldest first, a
page of 100 entries at a time, with a count of each kind of entry.

A member of a team the token may not see is not found (404, as an unknown one).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from projections.fold import public
from services.api.bootstrap import Runtime
from services.api.problems import ProblemError
from services.api.queries import one
from services.api.queries import page as page_of
from services.console.auth import SignedIn
from services.console.rendering import PREFIX, page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100


def member_of(rt: Runtime, viewer: SignedIn, member_id: UUID) -> dict[str, Any]:
    member = one(rt, "members", str(member_id), "member")
    if not viewer.grant.may_see_team(str(member.get("team_id"))):
        raise ProblemError(404, f"member {member_id} not found")
    return member


@router.get(f"{PREFIX}/members/{{member_id}}")
def member_page(request: Request, member_id: Annotated[UUID, Path()], viewer: SignedIn,
                cursor: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    member = member_of(rt, viewer, member_id)
    found = page_of(rt, "timeline", {"owner": f"member:{member_id}"}, limit=PAGE_SIZE,
                    cursor=cursor, order_by="time")
    entries = found["items"]
    here = f"{PREFIX}/members/{member_id}"
    next_href = (f"{here}?{urlencode({'cursor': found['next_cursor']})}"
                 if found.get("next_cursor") else None)
    team = public(rt.store.get("teams", str(member.get("team_id")))) or {}
    return page(request, "member.html", f"Member {member.get('name')}", viewer=viewer,
                member=member, team=team, entries=entries, next_href=next_href,
                kinds=sorted(Counter(str(e.get("kind")) for e in entries).items()),
                first_page=cursor is None)
