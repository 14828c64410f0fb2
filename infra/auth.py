"""Bearer tokens and the grants they carry: configured (OPSLEDGER_TOKENS or a tokens
file) or issued through the API (the access context, resolved from the ledger).

The embedded default creates an admin token on first start and keeps it in the data
folder (mode 0600), so a newcomer has a working credential without configuring any.

Configured grants fail closed: a token without a non-empty list of teams is a
configuration error (``["*"]`` grants every team), never a grant of every team.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.access.aggregate import ALL_TEAMS, ROLES

__all__ = ["ALL_TEAMS", "ROLES", "Grant", "TokenConfigError", "TokenRegistry"]


class TokenConfigError(ValueError):
    """The configured tokens are malformed; the service refuses to start."""


@dataclass(frozen=True)
class Grant:
    principal: str
    roles: frozenset[str]
    teams: frozenset[str]
    # Which token this is, for per-token limits: an issued token's id, or a digest
    # prefix of a configured one. Never the secret.
    token_key: str = field(default="", compare=False)

    def may_see_team(self, team_id: str) -> bool:
        return ALL_TEAMS in self.teams or team_id in self.teams


def _strings(value: Any) -> list[str] | None:
    """``value`` if it is a list of non-empty strings, else None."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return None
    return [v.strip() for v in value]


def _parse_grant(token: str, raw: Any) -> Grant:
    if not isinstance(raw, dict):
        raise TokenConfigError("each token must map to an object")
    principal = raw.get("principal")
    if not isinstance(principal, str) or not principal.startswith(("user:", "service:")):
        raise TokenConfigError(
            f"principal {json.dumps(principal)} must look like 'user:<name>' or 'service:<name>'")
    roles = _strings(raw.get("roles"))
    if not roles or set(roles) - ROLES:
        raise TokenConfigError(
            f"token for {principal}: roles must be a list among {sorted(ROLES)}")
    if len(token) < 16:
        raise TokenConfigError(f"token for {principal} is too short (16+ characters)")
    teams = _strings(raw.get("teams"))
    if not teams:
        raise TokenConfigError(
            f"token for {principal}: teams must be a non-empty list of team ids, "
            f'or ["*"] for every team (got {json.dumps(raw.get("teams"))})')
    return Grant(principal, frozenset(roles), frozenset(teams), _key_of(token))


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _key_of(token: str) -> str:
    return "configured:" + _digest(token).hex()[:16]


class TokenRegistry:
    """Configured tokens, looked up by digest in constant time per comparison; then
    issued tokens, through ``managed`` (the ledger), when one is attached."""

    def __init__(self, grants: dict[str, Grant],
                 managed: Callable[[str], Grant | None] | None = None) -> None:
        self._by_digest = {_digest(t): g for t, g in grants.items()}
        self._managed = managed

    def with_managed(self, managed: Callable[[str], Grant | None]) -> TokenRegistry:
        """The same configured tokens, then issued tokens resolved by ``managed``."""
        registry = TokenRegistry({}, managed)
        registry._by_digest = self._by_digest
        return registry

    def resolve(self, token: str) -> Grant | None:
        return self.resolve_configured(token) or self.resolve_issued(token)

    def resolve_configured(self, token: str) -> Grant | None:
        """A configured token's grant: in memory, no I/O."""
        digest = _digest(token)
        for known, grant in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return grant
        return None

    def resolve_issued(self, token: str) -> Grant | None:
        """An issued token's grant, from ``managed`` (which may read the event store)."""
        if self._managed is not None:
            return self._managed(token)
        return None

    @classmethod
    def from_json(cls, text: str) -> TokenRegistry:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TokenConfigError(f"tokens are not valid JSON: {e}") from None
        if not isinstance(data, dict) or not data:
            raise TokenConfigError("tokens must be a non-empty JSON object")
        return cls({str(t): _parse_grant(str(t), g) for t, g in data.items()})


def ensure_admin_token(data_dir: Path) -> tuple[Path, str | None]:
    """Create ``tokens.json`` with one admin token unless it exists.

    Returns the file and the new token (None when the file already existed).
    """
    path = data_dir / "tokens.json"
    if path.exists():
        return path, None
    data_dir.mkdir(parents=True, exist_ok=True)
    token = "olt_" + secrets.token_urlsafe(32)
    body = {token: {"principal": "user:admin", "roles": ["admin"], "teams": [ALL_TEAMS]}}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f, indent=2)
    return path, token


def admin_token_in(path: Path) -> str | None:
    """The first admin token of a tokens file (``opsledger demo`` uses it; ``serve``
    never prints it after it was created)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    for token, grant in data.items():
        if isinstance(grant, dict) and "admin" in (grant.get("roles") or []):
            return str(token)
    return None
