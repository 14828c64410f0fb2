"""Teams, their members and roles."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from domain.envelope import iso_time
from domain.teams import commands as c
from infra.auth import Grant
from infra.read_store.port import BadCursorError, decode_cursor, encode_cursor
from projections.fold import public
from projections.roster_at import team_at
from services.api.bootstrap import Runtime
from services.api.deps import (
    Admin,
    CommandCtx,
    Cursor,
    Fresh,
    Limit,
    Manager,
    Reader,
    RuntimeDep,
    check_team,
)
from services.api.models.common import CommandAnswer, UtcDateTime, answer
from services.api.models.teams import (
    MemberJoin,
    MemberLeave,
    MemberMove,
    MemberPrincipalBind,
    MemberPublic,
    MemberRoleChange,
    TeamForm,
    TeamLeadChange,
    TeamPublic,
    TeamsPublic,
)
from services.api.problems import ProblemError
from services.api.queries import one, page, visible_teams

router = APIRouter(tags=["teams"])


@router.post("/v1/teams", status_code=201)
def form_team(body: TeamForm, grant: Manager, ctx: CommandCtx, rt: RuntimeDep,
              response: Response) -> CommandAnswer:
    """Form a team."""
    if body.team_id is not None and body.id is not None and body.team_id != body.id:
        raise ProblemError(422, "team_id and id name the same field; they must not differ")
    team_id = body.team_id or body.id
    if "*" not in grant.teams:  # a scoped lead may only form the team it is scoped to
        check_team(grant, team_id or "a new team")
    result = rt.teams.form(c.FormTeam(body.name, body.mission, team_id), ctx)
    return answer(result, response)


@router.post("/v1/teams/{team_id}/members", status_code=201)
def add_member(
    team_id: UUID, body: MemberJoin, grant: Manager, ctx: CommandCtx, rt: RuntimeDep,
    response: Response,
) -> CommandAnswer:
    """A member joins the team. Its id is global: one that exists anywhere is a 409.
    Only an admin may name the member's ``principal``."""
    check_team(grant, team_id)
    if body.principal is not None and "admin" not in grant.roles:
        raise ProblemError(403, f"{grant.principal} may not bind a principal to a member; "
                                "only an admin may")
    return answer(rt.teams.add_member(c.AddMember(
        team_id, body.name, body.email, body.role, body.member_id, list(body.responsibilities),
        body.principal,
    ), ctx), response)


@router.post("/v1/teams/{team_id}/members/{member_id}/role")
def assign_role(
    team_id: UUID, member_id: UUID, body: MemberRoleChange, grant: Manager, ctx: CommandCtx,
    rt: RuntimeDep, response: Response,
) -> CommandAnswer:
    """Give a member a new role (a reason is required)."""
    check_team(grant, team_id)
    return answer(rt.teams.assign_role(c.AssignRole(
        team_id, member_id, body.role, body.reason,
        None if body.responsibilities is None else list(body.responsibilities),
        body.effective_date or "",
    ), ctx), response)


@router.post("/v1/teams/{team_id}/members/{member_id}/leave")
def leave(
    team_id: UUID, member_id: UUID, body: MemberLeave, grant: Manager, ctx: CommandCtx,
    rt: RuntimeDep, response: Response,
) -> CommandAnswer:
    """A member leaves the team."""
    check_team(grant, team_id)
    return answer(rt.teams.remove_member(
        c.RemoveMember(team_id, member_id, body.reason), ctx), response)


@router.post("/v1/teams/{team_id}/members/{member_id}/move")
def move_member(
    team_id: UUID, member_id: UUID, body: MemberMove, grant: Manager, ctx: CommandCtx,
    rt: RuntimeDep, response: Response,
) -> CommandAnswer:
    """Move an active member to another team (an admin, or a lead holding both teams).
    It keeps its id, name, email, role, responsibilities and principal; ``If-Match``
    and the answer's version are the source team's."""
    check_team(grant, team_id)
    check_team(grant, body.to_team_id)
    return answer(rt.teams.move_member(
        c.MoveMember(team_id, member_id, body.to_team_id, body.reason), ctx), response)


@router.post("/v1/members/{member_id}/principal")
def bind_principal(
    member_id: UUID, body: MemberPrincipalBind, grant: Admin, ctx: CommandCtx, rt: RuntimeDep,
    response: Response,
) -> CommandAnswer:
    """Bind the principal who acts as an active member (admin only). A principal is
    bound to at most one active member; ``If-Match`` is the member's team's version."""
    team_id = rt.teams.team_of(member_id)
    if team_id is not None:
        check_team(grant, team_id)
    return answer(rt.teams.bind_principal(
        c.BindPrincipal(member_id, body.principal, body.reason), ctx), response)


@router.post("/v1/teams/{team_id}/lead")
def change_lead(
    team_id: UUID, body: TeamLeadChange, grant: Manager, ctx: CommandCtx, rt: RuntimeDep,
    response: Response,
) -> CommandAnswer:
    """Make an active member the team's lead."""
    check_team(grant, team_id)
    return answer(rt.teams.change_lead(
        c.ChangeLead(team_id, body.member_id, body.reason), ctx), response)


@router.get("/v1/teams", response_model=TeamsPublic, response_model_exclude_unset=True)
def list_teams(grant: Reader, rt: RuntimeDep, _: Fresh, limit: Limit = 50,
               cursor: Cursor = None) -> dict[str, Any]:
    """Teams, by name. A team-scoped token pages over its own teams only (neither the
    items nor the cursor name any other team)."""
    if "*" in grant.teams:
        return page(rt, "teams", {}, limit=limit, cursor=cursor, order_by="name")
    return _page_of_own_teams(rt, grant, limit, cursor)


def _page_of_own_teams(rt: Runtime, grant: Grant, limit: int, cursor: str | None) -> dict[str, Any]:
    """The token's teams by (name, id), paged with the store's cursor format."""
    after: tuple[str, str] | None = None
    if cursor is not None:
        name, doc_id = decode_cursor(cursor)
        if not isinstance(name, str):
            raise BadCursorError("the cursor is not valid")
        after = (name, doc_id)
    teams = visible_teams(rt, grant)
    if after is not None:
        teams = [t for t in teams if (str(t.get("name") or ""), str(t["id"])) > after]
    items = teams[:limit]
    more = len(teams) > limit
    return {"items": items,
            "next_cursor": encode_cursor(items[-1]["name"], items[-1]["id"]) if more else None}


@router.get("/v1/teams/{team_id}", response_model=TeamPublic, response_model_exclude_unset=True)
def get_team(team_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh,
             effective_at: UtcDateTime | None = None) -> dict[str, Any]:
    """One team with its roster. With ``effective_at`` (business time), the roster in
    force then: its members, and each one's role by the role changes' effective dates."""
    check_team(grant, team_id)
    if effective_at is None:
        return one(rt, "teams", str(team_id), "team")
    at = iso_time(effective_at)
    history = (r for r in rt.store.iter_find(
        "compliance_history", {"entity_id": str(team_id)}, order_by="version")
        if r.get("context") == "teams")  # an id of another kind names no team
    audit = rt.store.iter_find("audit_trail", {"entity_id": str(team_id)},
                               order_by="position")
    team = team_at(history, audit, at)
    if team is None:
        raise ProblemError(404, f"team {team_id} had not been formed at {at}")
    return {"effective_at": at, **(public(team) or {})}


@router.get("/v1/members/{member_id}", response_model=MemberPublic,
            response_model_exclude_unset=True)
def get_member(member_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """A member, with current team and role."""
    member = one(rt, "members", str(member_id), "member")
    check_team(grant, member.get("team_id", ""))
    return member
