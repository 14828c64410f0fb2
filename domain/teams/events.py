"""The public wire names of the teams context (one topic: ``opsledger.teams.events``)."""

from __future__ import annotations

from domain.teams.aggregate import Team

CONTEXT = Team.CONTEXT
EVENTS = (
    Team.TeamFormed, Team.MemberJoined, Team.RoleAssigned,
    Team.TeamLeadChanged, Team.MemberLeft, Team.MemberMovedOut, Team.MemberMovedIn,
    Team.PrincipalBound,
)
