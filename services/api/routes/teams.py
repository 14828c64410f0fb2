"""Teams, their members and roles."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import Field

from domain.teams import commands as c
from infra.auth import Grant
from infra.read_store.port import BadCursorError, decode_cursor, encode_cursor
from projections.fold import public
from services.api.bootstrap import Runtime
from services.api.deps import (
    CommandCtx,
    Cursor,
    Fresh,
    Limit,
    Manager,
    Reader,
    RuntimeDep,
    allow,
    check_team,
)
from services.api.problems import ProblemError
from services.api.queries import one, page
from services.api.schemas import (
    CommandAnswer,
    Email,
    IsoDate,
    Items,
    Name,
    OptionalText,
    Principal,
    Reason,
    StrictBody,
    answer,
)

router = APIRouter(tags=["teams"])
ANSWERS: dict[int | str, dict[str, Any]] = {201: {"model": CommandAnswer}}
Admin = Annotated[Grant, Depends(allow("admin"))]


class TeamCreate(StrictBody):
    name: Name
    mission: OptionalText = ""
    team_id: UUID | None = Field(default=None, description="client-chosen id")
    id: UUID | None = Field(default=None, description="alias of team_id")


class MemberCreate(StrictBody):
    name: Name
    email: Email
    role: Name
    member_id: UUID | None = None
    responsibilities: Items = Field(default_factory=list)
    principal: Principal | None = Field(
        default=None, description="the principal (user:<name>) who acts as this member, "
                                  "for segregation-of-duties controls (admin only)")


class RoleChange(StrictBody):
    role: Name
    reason: Reason
    responsibilities: Items | None = None
    effective_date: IsoDate | None = None


class Leave(StrictBody):
    reason: Reason


class LeadChange(StrictBody):
    member_id: UUID
    reason: Reason


class Move(StrictBody):
    to_team_id: UUID
    reason: Reason


class PrincipalBinding(StrictBody):
    principal: Principal
    reason: Reason


@router.post("/v1/teams", status_code=201, responses=ANSWERS)
def form_team(body: TeamCreate, grant: Manager, ctx: CommandCtx, rt: RuntimeDep) -> Any:
    """Form a team."""
    if body.team_id is not None and body.id is not None and body.team_id != body.id:
        raise ProblemError(422, "team_id and id name the same field; they must not differ")
    team_id = body.team_id or body.id
    if "*" not in grant.teams:  # a scoped lead may only form the team it is scoped to
        check_team(grant, team_id or "a new team")
    result = rt.teams.form(c.FormTeam(body.name, body.mission, team_id), ctx)
    return answer(result)


@router.post("/v1/teams/{team_id}/members", status_code=201, responses=ANSWERS)
def add_member(
    team_id: UUID, body: MemberCreate, grant: Manager, ctx: CommandCtx, rt: RuntimeDep
) -> Any:
    """A member joins the team. Its id is global: one that exists anywhere is a 409.
    Only an admin may name the member's ``principal``."""
    check_team(grant, team_id)
    if body.principal is not None and "admin" not in grant.roles:
        raise ProblemError(403, f"{grant.principal} may not bind a principal to a member; "
                                "only an admin may")
    return answer(rt.teams.add_member(c.AddMember(
        team_id, body.name, body.email, body.role, body.member_id, list(body.responsibilities),
        body.principal,
    ), ctx))


@router.post("/v1/teams/{team_id}/members/{member_id}/role", response_model=CommandAnswer)
def assign_role(
    team_id: UUID, member_id: UUID, body: RoleChange, grant: Manager, ctx: CommandCtx,
    rt: RuntimeDep,
) -> Any:
    """Give a member a new role (a reason is required)."""
    check_team(grant, team_id)
    return answer(rt.teams.assign_role(c.AssignRole(
        team_id, member_id, body.role, body.reason,
        None if body.responsibilities is None else list(body.responsibilities),
        body.effective_date or "",
    ), ctx))


@router.post("/v1/teams/{team_id}/members/{member_id}/leave", response_model=CommandAnswer)
def leave(
    team_id: UUID, member_id: UUID, body: Leave, grant: Manager, ctx: CommandCtx,
    rt: RuntimeDep,
) -> Any:
    """A member leaves the team."""
    check_team(grant, team_id)
    return answer(rt.teams.remove_member(c.RemoveMember(team_id, member_id, body.reason), ctx))


@router.post("/v1/teams/{team_id}/members/{member_id}/move", response_model=CommandAnswer)
def move_member(
    team_id: UUID, member_id: UUID, body: Move, grant: Manager, ctx: CommandCtx,
    rt: RuntimeDep,
) -> Any:
    """Move an active member to another team (an admin, or a lead holding both teams).
    It keeps its id, name, email, role, responsibilities and principal; ``If-Match``
    and the answer's version are the source team's."""
    check_team(grant, team_id)
    check_team(grant, body.to_team_id)
    return answer(rt.teams.move_member(
        c.MoveMember(team_id, member_id, body.to_team_id, body.reason), ctx))


@router.post("/v1/members/{member_id}/principal", response_model=CommandAnswer)
def bind_principal(
    member_id: UUID, body: PrincipalBinding, grant: Admin, ctx: CommandCtx, rt: RuntimeDep,
) -> Any:
    """Bind the principal who acts as an active member (admin only). A principal is
    bound to at most one active member; ``If-Match`` is the member's team's version."""
    team_id = rt.teams.team_of(member_id)
    if team_id is not None:
        check_team(grant, team_id)
    return answer(rt.teams.bind_principal(
        c.BindPrincipal(member_id, body.principal, body.reason), ctx))


@router.post("/v1/teams/{team_id}/lead", response_model=CommandAnswer)
def change_lead(
    team_id: UUID, body: LeadChange, grant: Manager, ctx: CommandCtx, rt: RuntimeDep
) -> Any:
    """Make an active member the team's lead."""
    check_team(grant, team_id)
    return answer(rt.teams.change_lead(c.ChangeLead(team_id, body.member_id, body.reason), ctx))


@router.get("/v1/teams")
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
    found = rt.store.get_many("teams", sorted(grant.teams))
    teams = sorted(
        (t for t in (public(d) for d in found.values()) if t is not None),
        key=lambda t: (str(t.get("name") or ""), str(t["id"])),
    )
    if after is not None:
        teams = [t for t in teams if (str(t.get("name") or ""), str(t["id"])) > after]
    items = teams[:limit]
    more = len(teams) > limit
    return {"items": items,
            "next_cursor": encode_cursor(items[-1]["name"], items[-1]["id"]) if more else None}


@router.get("/v1/teams/{team_id}")
def get_team(team_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """One team with its roster."""
    check_team(grant, team_id)
    return one(rt, "teams", str(team_id), "team")


@router.get("/v1/members/{member_id}")
def get_member(member_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """A member, with current team and role."""
    member = one(rt, "members", str(member_id), "member")
    check_team(grant, member.get("team_id", ""))
    return member
