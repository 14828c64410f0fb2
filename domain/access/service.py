"""The access command service: issue and revoke tokens, and resolve a secret to its token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from domain.access import commands as c
from domain.access.aggregate import SECRET_PREFIX, AccessToken, secret_digest, token_id_of
from domain.errors import NotFoundError
from domain.ledger import CommandContext, CommandResult, Ledger


@dataclass(frozen=True)
class Issued:
    """The answer to issuing: the secret is here once, and ``None`` on an idempotent
    repeat (it was never stored, so it cannot be answered again)."""

    result: CommandResult
    token: AccessToken | None
    secret: str | None


def new_secret(token_id_hex: str) -> str:
    return f"{SECRET_PREFIX}{token_id_hex}_{secrets.token_urlsafe(32)}"


class AccessService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def issue(self, cmd: c.IssueToken, ctx: CommandContext) -> Issued:
        made: list[tuple[AccessToken, str]] = []

        def run() -> AccessToken:
            token_id = uuid4()
            secret = new_secret(token_id.hex)
            token = AccessToken.issue(
                token_id, cmd.principal, list(cmd.roles), list(cmd.teams), cmd.expires_at,
                cmd.reason, secret_digest(secret), ctx.meta,
            )
            made.append((token, secret))
            return token

        result = self.ledger.execute(ctx, run, created=True)
        if not made:  # an idempotent repeat: answered from the record, secret unknown
            return Issued(result, None, None)
        token, secret = made[-1]
        return Issued(result, token, secret)

    def revoke(self, cmd: c.RevokeToken, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(AccessToken, cmd.token_id, ctx,
                                  lambda t: t.revoke(cmd.reason, ctx.meta))

    def token(self, token_id: UUID) -> AccessToken:
        return self.ledger.load(AccessToken, token_id)

    def resolve(self, secret: str, now: datetime) -> AccessToken | None:
        """The active token whose secret this is, else None (unknown, wrong, revoked or
        expired: the caller cannot tell which)."""
        token_id = token_id_of(secret)
        if token_id is None:
            return None
        try:
            token = self.ledger.load(AccessToken, token_id)
        except NotFoundError:
            return None
        if not token.matches(secret) or not token.is_active(now):
            return None
        return token
