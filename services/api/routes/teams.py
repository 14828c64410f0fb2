"""Teams, their members and roles."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from domain.teams import commands as c
from services.api.deps import (
    CommandCtx,
    Cursor,
    Fresh,
    Limit,
    Manager,
    Reader,
    RuntimeDep,
    check_team,
)
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
                                  "for segregation-of-duties controls")


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


@router.post("/v1/teams", status_code=201, responses=ANSWERS)
def form_team(body: TeamCreate, grant: Manager, ctx: CommandCtx, rt: RuntimeDep) -> Any:
    """Form a team."""
    team_id = body.team_id or body.id
    if "*" not in grant.teams:  # a scoped lead may only form the team it is scoped to
        check_team(grant, team_id or "a new team")
    result = rt.teams.form(c.FormTeam(body.name, body.mission, team_id), ctx)
    return answer(result)


@router.post("/v1/teams/{team_id}/members", status_code=201, responses=ANSWERS)
def add_member(
    team_id: UUID, body: MemberCreate, grant: Manager, ctx: CommandCtx, rt: RuntimeDep
) -> Any:
    """A member joins the team."""
    check_team(grant, team_id)
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
    """Teams, by name."""
    result = page(rt, "teams", {}, limit=limit, cursor=cursor, order_by="name")
    if "*" not in grant.teams:
        result["items"] = [t for t in result["items"] if grant.may_see_team(t["id"])]
    return result


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
