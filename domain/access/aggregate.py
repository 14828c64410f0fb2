"""A bearer token issued through the API: whom it speaks for, with which roles and teams.

Only the SHA-256 of the secret is recorded. A secret names its token's id
(``olt_<token id hex>_<random>``), so resolving one loads one aggregate by id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, get_args
from uuid import UUID

from domain.aggregate import LedgerAggregate, require, require_reason
from domain.envelope import RFC3339, iso_time
from domain.errors import ValidationError
from domain.meta import ALL_TEAMS as ALL_TEAMS  # re-exported: a token's "every team"
from domain.meta import CommandMeta

Role = Literal["admin", "lead", "member", "auditor", "service", "personal-data-reader"]
"""Every role a token can carry, in the order they are listed to people.
``personal-data-reader`` only opens sealed personal values (for services that read the
Kafka topics, which carry them sealed); a token needs another role to read anything."""
ROLES: frozenset[str] = frozenset(get_args(Role))
"""The same roles as a set (``infra.auth`` checks configured tokens against it)."""

PRINCIPAL = re.compile(r"^(user|service):[A-Za-z0-9._@+-]{1,200}$")
SECRET_PREFIX = "olt_"  # noqa: S105 - the visible prefix of every issued secret, not a secret
_SECRET = re.compile(r"^olt_([0-9a-f]{32})_[A-Za-z0-9_-]{20,200}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def secret_digest(secret: str) -> str:
    """The SHA-256 of a secret, hex: the only form in which a secret is recorded."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_id_of(secret: str) -> UUID | None:
    """The token id a secret names, or None when it is not an issued token's form."""
    found = _SECRET.fullmatch(secret)
    return UUID(found.group(1)) if found else None


def expiry_of(value: str | None, now: datetime) -> str | None:
    """An expiry (RFC 3339 with an offset) as a UTC event time; it must be in the future."""
    if value is None:
        return None
    if not re.fullmatch(RFC3339, value):
        raise ValidationError(
            f"expires_at {value!r} is not an RFC 3339 time with an offset, "
            "e.g. 2030-01-01T00:00:00Z")
    try:
        moment = datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        raise ValidationError(f"expires_at {value!r} is not a valid time") from None
    except OverflowError:
        raise ValidationError(f"expires_at {value!r} is out of range") from None
    require(moment > now, "expires_at must be in the future")
    return iso_time(moment)


def has_expired(expires_at: str | None, now: datetime) -> bool:
    """Whether a token with this expiry (an event time, or None: never) has expired."""
    if expires_at is None:
        return False
    return now >= datetime.fromisoformat(expires_at.replace("Z", "+00:00"))


def teams_of(teams: list[str]) -> list[str]:
    """A token's teams: ``["*"]`` for every team, else team ids, sorted, each once."""
    if not teams:
        raise ValidationError("a token needs teams: team ids, or [\"*\"] for every team")
    if ALL_TEAMS in teams:
        return [ALL_TEAMS]
    ids = set()
    for team in teams:
        try:
            ids.add(str(UUID(team)))
        except (ValueError, TypeError, AttributeError):
            raise ValidationError(f"team {team!r} is neither a team id nor \"*\"") from None
    return sorted(ids)


class AccessToken(LedgerAggregate):
    CONTEXT = "access"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        principal: str
        roles: list[str]
        teams: list[str]
        expires_at: str | None
        secret_sha256: str
        revoked: bool

    class TokenIssued(LedgerAggregate.Created):
        """A token was issued: for whom, with which roles and teams, until when."""

        principal: str
        roles: list[str]
        teams: list[str]
        expires_at: str | None
        reason: str
        secret_sha256: str

        def apply(self, token: AccessToken) -> None:
            token.principal = self.principal
            token.roles = list(self.roles)
            token.teams = list(self.teams)
            token.expires_at = self.expires_at
            token.secret_sha256 = self.secret_sha256
            token.revoked = False

    class TokenRevoked(LedgerAggregate.Event):
        """A token was revoked; it names whom it spoke for, so the audit trail does too."""

        principal: str
        roles: list[str]
        teams: list[str]
        reason: str

        def apply(self, token: AccessToken) -> None:
            token.revoked = True

    # -- commands -------------------------------------------------------------

    @classmethod
    def issue(
        cls, token_id: UUID, principal: str, roles: list[str], teams: list[str],
        expires_at: str | None, reason: str, secret_sha256: str, meta: CommandMeta,
    ) -> AccessToken:
        if not PRINCIPAL.fullmatch(principal):
            raise ValidationError(
                f"principal {principal!r} must look like 'user:<name>' or 'service:<name>'")
        unknown = set(roles) - ROLES
        if not roles or unknown:
            raise ValidationError(f"roles must be some of {', '.join(sorted(ROLES))}")
        if not _SHA256.fullmatch(secret_sha256):
            raise ValidationError("a token records the SHA-256 of its secret, in hex")
        return cls._start(
            cls.TokenIssued, token_id, meta, principal=principal,
            roles=sorted(set(roles)), teams=teams_of(teams),
            # The server clock, not business time: a token must work from now on.
            expires_at=expiry_of(expires_at, meta.now), reason=reason.strip(),
            secret_sha256=secret_sha256,
        )

    def revoke(self, reason: str, meta: CommandMeta) -> None:
        require(not self.revoked, f"token {self.id} is already revoked")
        reason = require_reason(reason, "revoking a token")
        self._record(self.TokenRevoked, meta, principal=self.principal, roles=list(self.roles),
                     teams=list(self.teams), reason=reason)

    # -- queries --------------------------------------------------------------

    def is_active(self, now: datetime) -> bool:
        return not self.revoked and not has_expired(self.expires_at, now)

    def matches(self, secret: str) -> bool:
        """Whether ``secret`` is this token's (constant time in the digest)."""
        return hmac.compare_digest(secret_digest(secret), self.secret_sha256)
