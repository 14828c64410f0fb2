"""Tokens issued through the API: the bodies of issuing and revoking, the answer that
carries the secret once, and the token metadata lists show (never a secret)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from domain.access.aggregate import PRINCIPAL, ROLES, Role
from domain.envelope import RFC3339
from services.api.models.common import CommandAnswer, CommandBody, Reason

TokenPrincipal = Annotated[str, StringConstraints(pattern=PRINCIPAL.pattern)]
TeamRef = Annotated[str, StringConstraints(
    pattern=r"^(\*|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)]
TokenStatus = Literal["active", "revoked", "expired"]
"""As a list shows it: ``expired`` is an active token past its expiry, when asked."""

# -- requests -------------------------------------------------------------------------


class TokenIssue(CommandBody):
    principal: TokenPrincipal = Field(description="whom the token speaks for")
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(ROLES))]
    teams: Annotated[list[TeamRef], Field(
        min_length=1, max_length=100, description='team ids, or ["*"] for every team')]
    expires_at: Annotated[str, StringConstraints(max_length=64, pattern=RFC3339)] | None = Field(
        default=None, description="RFC 3339 time with an offset; the token stops working then",
        json_schema_extra={"format": "date-time"})
    reason: Reason | None = Field(default=None, description="why it is issued")


class TokenRevoke(CommandBody):
    reason: Reason


# -- answers --------------------------------------------------------------------------


class TokenIssued(CommandAnswer):
    token_id: str
    token: str = Field(description="the secret: answered once, never again")
    principal: str
    roles: list[str]
    teams: list[str]
    expires_at: str | None


class TokenPublic(BaseModel):
    token_id: str
    principal: str
    roles: list[str]
    teams: list[str]
    issued_at: str
    issued_by: str
    expires_at: str | None
    status: TokenStatus
    revoked_at: str | None
    revoked_by: str | None
    revoked_reason: str | None


class TokensPublic(BaseModel):
    items: list[TokenPublic]
    next_cursor: str | None
