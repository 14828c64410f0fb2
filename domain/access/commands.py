"""What can be asked about tokens: imperative, validated at the edge, checked by the aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class IssueToken:
    principal: str
    roles: list[str]
    teams: list[str]
    expires_at: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class RevokeToken:
    token_id: UUID
    reason: str
