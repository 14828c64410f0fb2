"""What can be asked of a team: imperative, validated at the edge, checked by the aggregate."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID


@dataclass(frozen=True)
class FormTeam:
    name: str
    mission: str = ""
    team_id: UUID | None = None


@dataclass(frozen=True)
class AddMember:
    team_id: UUID
    name: str
    email: str
    role: str
    member_id: UUID | None = None
    responsibilities: list[str] = field(default_factory=list)
    principal: str | None = None


@dataclass(frozen=True)
class AssignRole:
    team_id: UUID
    member_id: UUID
    role: str
    reason: str
    responsibilities: list[str] | None = None
    effective_date: str = ""


@dataclass(frozen=True)
class RemoveMember:
    team_id: UUID
    member_id: UUID
    reason: str


@dataclass(frozen=True)
class ChangeLead:
    team_id: UUID
    member_id: UUID
    reason: str


@dataclass(frozen=True)
class MoveMember:
    team_id: UUID
    member_id: UUID
    to_team_id: UUID
    reason: str


@dataclass(frozen=True)
class BindPrincipal:
    member_id: UUID
    principal: str
    reason: str
