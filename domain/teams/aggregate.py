"""A team and its roster."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from domain.aggregate import LedgerAggregate, require, require_reason
from domain.errors import NotFoundError, ValidationError
from domain.meta import CommandMeta
from domain.personal import MEMBER, Personal

MEMBER_DATA: Personal = {"name": MEMBER, "email": MEMBER, "principal": MEMBER}
"""Who a member is: name, email and the principal bound to them (no fold keys or
filters on any of them; the controls that compare principals run where documents
are opened: ``projections/compliance_controls.py``)."""

PRINCIPAL = re.compile(r"^user:[A-Za-z0-9._@+-]{1,200}$")
"""A person's principal, as tokens name them (``infra.auth``)."""


class Team(LedgerAggregate):
    CONTEXT = "teams"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        name: str
        mission: str
        members: dict[str, dict[str, Any]]
        lead_id: str | None

    class TeamFormed(LedgerAggregate.Created):
        name: str
        mission: str

        def apply(self, team: Team) -> None:
            team.name = self.name
            team.mission = self.mission
            team.members = {}
            team.lead_id = None

    class MemberJoined(LedgerAggregate.Event):
        PERSONAL: ClassVar[Personal] = MEMBER_DATA
        member_id: str
        name: str
        email: str
        role: str
        responsibilities: list[str]
        # The principal (``user:<name>``) who acts as this member, when known: what
        # segregation-of-duties controls compare an event's actor with. Optional, so
        # events stored before it existed read as ``None`` (no new version needed).
        principal: str | None = None

        def apply(self, team: Team) -> None:
            team.members[self.member_id] = {
                "name": self.name, "email": self.email, "role": self.role,
                "responsibilities": list(self.responsibilities),
                "since": self.occurred_at, "active": True, "principal": self.principal,
            }

    class RoleAssigned(LedgerAggregate.Event):
        member_id: str
        role: str
        previous_role: str
        responsibilities: list[str]
        effective_date: str
        reason: str

        def apply(self, team: Team) -> None:
            member = team.members[self.member_id]
            member["role"] = self.role
            member["responsibilities"] = list(self.responsibilities)

    class TeamLeadChanged(LedgerAggregate.Event):
        member_id: str
        previous_lead_id: str | None
        reason: str

        def apply(self, team: Team) -> None:
            team.lead_id = self.member_id

    class MemberLeft(LedgerAggregate.Event):
        member_id: str
        reason: str

        def apply(self, team: Team) -> None:
            team.members[self.member_id]["active"] = False
            if team.lead_id == self.member_id:
                team.lead_id = None

    class MemberMovedOut(LedgerAggregate.Event):
        """A member moved from this team to another (``MemberMovedIn`` there)."""

        member_id: str
        to_team_id: str
        reason: str

        def apply(self, team: Team) -> None:
            member = team.members[self.member_id]
            member["active"] = False
            member["moved_to"] = self.to_team_id
            if team.lead_id == self.member_id:
                team.lead_id = None

    class MemberMovedIn(LedgerAggregate.Event):
        """A member of another team moved here, keeping its id, role and principal."""

        PERSONAL: ClassVar[Personal] = MEMBER_DATA

        member_id: str
        from_team_id: str
        name: str
        email: str
        role: str
        responsibilities: list[str]
        principal: str | None
        reason: str

        def apply(self, team: Team) -> None:
            team.members[self.member_id] = {
                "name": self.name, "email": self.email, "role": self.role,
                "responsibilities": list(self.responsibilities),
                "since": self.occurred_at, "active": True, "principal": self.principal,
            }

    class PrincipalBound(LedgerAggregate.Event):
        """An admin bound the principal who acts as a member (segregation of duties)."""

        PERSONAL: ClassVar[Personal] = {"principal": MEMBER, "previous_principal": MEMBER}

        member_id: str
        principal: str
        previous_principal: str | None
        reason: str

        def apply(self, team: Team) -> None:
            team.members[self.member_id]["principal"] = self.principal

    def owning_team(self) -> str | None:
        return str(self.id)

    # -- commands -------------------------------------------------------------

    @classmethod
    def form(cls, team_id: UUID, name: str, mission: str, meta: CommandMeta) -> Team:
        require(bool(name.strip()), "a team needs a name")
        return cls._start(cls.TeamFormed, team_id, meta, name=name.strip(), mission=mission)

    def join(
        self, member_id: UUID, name: str, email: str, role: str,
        responsibilities: list[str], meta: CommandMeta, principal: str | None = None,
    ) -> None:
        require(str(member_id) not in self.members,
                f"member {member_id} has already joined team {self.id}")
        require(bool(role.strip()), "a member needs a role")
        if principal is not None and not PRINCIPAL.match(principal):
            raise ValidationError(f"principal {principal!r} must look like 'user:<name>'")
        self._record(
            self.MemberJoined, meta, member_id=str(member_id), name=name, email=email,
            role=role, responsibilities=list(responsibilities), principal=principal,
        )

    def assign_role(
        self, member_id: UUID, role: str, reason: str, responsibilities: list[str] | None,
        effective_date: str, meta: CommandMeta,
    ) -> None:
        member = self._active_member(member_id, "get a new role")
        reason = require_reason(reason, "a role change")
        require(bool(role.strip()), "a role must not be empty")
        self._record(
            self.RoleAssigned, meta, member_id=str(member_id), role=role,
            previous_role=member["role"],
            responsibilities=list(
                member["responsibilities"] if responsibilities is None else responsibilities
            ),
            effective_date=effective_date or meta.business_time.date().isoformat(), reason=reason,
        )

    def change_lead(self, member_id: UUID, reason: str, meta: CommandMeta) -> None:
        self._active_member(member_id, "lead the team")
        reason = require_reason(reason, "a lead change")
        require(self.lead_id != str(member_id), f"member {member_id} already leads the team")
        self._record(
            self.TeamLeadChanged, meta, member_id=str(member_id),
            previous_lead_id=self.lead_id, reason=reason,
        )

    def leave(self, member_id: UUID, reason: str, meta: CommandMeta) -> None:
        self._active_member(member_id, "leave")
        reason = require_reason(reason, "leaving a team")
        self._record(self.MemberLeft, meta, member_id=str(member_id), reason=reason)

    def move_out(
        self, member_id: UUID, to_team_id: UUID, reason: str, meta: CommandMeta
    ) -> dict[str, Any]:
        """Record that an active member moves to ``to_team_id``; returns the member as it
        stands (name, email, role, responsibilities, principal) for ``move_in``."""
        member = self._active_member(member_id, "move")
        require(str(to_team_id) != str(self.id), f"member {member_id} is already on team {self.id}")
        reason = require_reason(reason, "a move")
        snapshot = dict(member)
        self._record(
            self.MemberMovedOut, meta, member_id=str(member_id), to_team_id=str(to_team_id),
            reason=reason,
        )
        return snapshot

    def move_in(
        self, member_id: UUID, from_team_id: UUID, member: Mapping[str, Any], reason: str,
        meta: CommandMeta,
    ) -> None:
        """Record that a member of ``from_team_id`` arrives, as it stood there."""
        earlier = self.members.get(str(member_id))
        require(earlier is None or bool(earlier.get("moved_to")),
                f"member {member_id} has already joined team {self.id}")
        require(str(from_team_id) != str(self.id),
                f"member {member_id} is already on team {self.id}")
        reason = require_reason(reason, "a move")
        self._record(
            self.MemberMovedIn, meta, member_id=str(member_id), from_team_id=str(from_team_id),
            name=member["name"], email=member["email"], role=member["role"],
            responsibilities=list(member["responsibilities"]),
            principal=member.get("principal"), reason=reason,
        )

    def bind_principal(
        self, member_id: UUID, principal: str, reason: str, meta: CommandMeta
    ) -> None:
        member = self._active_member(member_id, "be bound to a principal")
        if not PRINCIPAL.match(principal):
            raise ValidationError(f"principal {principal!r} must look like 'user:<name>'")
        reason = require_reason(reason, "binding a principal")
        require(member.get("principal") != principal,
                f"member {member_id} is already bound to {principal}")
        self._record(
            self.PrincipalBound, meta, member_id=str(member_id), principal=principal,
            previous_principal=member.get("principal"), reason=reason,
        )

    def _active_member(self, member_id: UUID, action: str) -> dict[str, Any]:
        member = self.members.get(str(member_id))
        if member is None:
            raise NotFoundError(f"member {member_id} is not on team {self.id}")
        moved_to = member.get("moved_to")
        require(not moved_to,
                f"member {member_id} has moved to team {moved_to} and can't {action} here")
        require(member["active"], f"member {member_id} has left the team and can't {action}")
        return member
