"""Teams and members: the bodies of their commands, and the team and member documents.

Requests are named for the command they carry (``TeamForm``, ``MemberJoin``, ...);
answers for what they show (``TeamPublic``, ``TeamsPublic``, ``MemberPublic``).
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from services.api.models.common import (
    CommandBody,
    Email,
    IsoDate,
    Items,
    Name,
    OptionalText,
    Principal,
    ReadDocument,
    Reason,
)

# -- requests -------------------------------------------------------------------------


class TeamForm(CommandBody):
    name: Name
    mission: OptionalText = ""
    team_id: UUID | None = Field(default=None, description="client-chosen id")
    id: UUID | None = Field(default=None, description="alias of team_id")


class MemberJoin(CommandBody):
    name: Name
    email: Email
    role: Name
    member_id: UUID | None = None
    responsibilities: Items = Field(default_factory=list)
    principal: Principal | None = Field(
        default=None, description="the principal (user:<name>) who acts as this member, "
                                  "for segregation-of-duties controls (admin only)")


class MemberRoleChange(CommandBody):
    role: Name
    reason: Reason
    responsibilities: Items | None = None
    effective_date: IsoDate | None = None


class MemberLeave(CommandBody):
    reason: Reason


class MemberMove(CommandBody):
    to_team_id: UUID
    reason: Reason


class MemberPrincipalBind(CommandBody):
    principal: Principal
    reason: Reason


class TeamLeadChange(CommandBody):
    member_id: UUID
    reason: Reason


# -- answers --------------------------------------------------------------------------


class RosterEntryPublic(ReadDocument):
    """A member on a team's roster, active or not (members who left or moved stay)."""

    member_id: str
    name: str
    email: str
    role: str
    responsibilities: list[str]
    since: str
    active: bool
    left_at: str | None
    moved_to_team_id: str | None = Field(default=None, description="when it moved out")
    moved_from_team_id: str | None = Field(default=None, description="when it moved in")


class TeamPublic(ReadDocument):
    """A team with its roster; ``version`` is the team's, for ``If-Match`` (with
    ``effective_at``: its version then)."""

    effective_at: str | None = Field(
        default=None, description="the business time whose roster this is, when asked for")
    id: str
    name: str
    mission: str
    lead_id: str | None
    formed_at: str
    roster: list[RosterEntryPublic]
    version: int
    event_ids: list[str]


class TeamsPublic(BaseModel):
    items: list[TeamPublic]
    next_cursor: str | None


class MemberRolePublic(ReadDocument):
    """One of a member's roles, in the order they were given."""

    role: str
    since: str
    effective_date: str | None
    reason: str | None
    position: int | None = Field(default=None, description="of the event that gave it")


class MemberTenurePublic(ReadDocument):
    """A member's time on one team, from a join or a move in."""

    team_id: str
    since: str
    until: str | None
    reason: str
    position: int


class MemberPublic(ReadDocument):
    """A member with its current team and role, and every role and team it had."""

    id: str
    roles: list[MemberRolePublic]
    teams: list[MemberTenurePublic] | None = Field(default=None, description="its tenures")
    team_id: str
    name: str
    email: str
    role: str
    responsibilities: list[str]
    active: bool
    left_at: str | None
    is_lead: bool
    principal: str | None = Field(default=None, description="who acts as it, when bound")
    since: str
