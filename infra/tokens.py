"""Bearer tokens and the grants they carry, from OPSLEDGER_TOKENS or a tokens file.

The embedded default creates an admin token on first start and keeps it in the data
folder (mode 0600), so a newcomer has a working credential without configuring any.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROLES = frozenset({"admin", "lead", "member", "auditor", "service"})


class TokenConfigError(ValueError):
    """The configured tokens are malformed; the service refuses to start."""


@dataclass(frozen=True)
class Grant:
    principal: str
    roles: frozenset[str]
    teams: frozenset[str]

    def may_see_team(self, team_id: str) -> bool:
        return "*" in self.teams or team_id in self.teams


def _parse_grant(token: str, raw: Any) -> Grant:
    if not isinstance(raw, dict):
        raise TokenConfigError("each token must map to an object")
    principal = raw.get("principal")
    if not isinstance(principal, str) or not principal.startswith(("user:", "service:")):
        raise TokenConfigError("principal must look like 'user:<name>' or 'service:<name>'")
    roles = frozenset(raw.get("roles") or [])
    unknown = roles - ROLES
    if not roles or unknown:
        raise TokenConfigError(f"token for {principal}: roles must be among {sorted(ROLES)}")
    if len(token) < 16:
        raise TokenConfigError(f"token for {principal} is too short (16+ characters)")
    teams = frozenset(str(t) for t in (raw.get("teams") or ["*"]))
    return Grant(principal, roles, teams)


class TokenRegistry:
    """Looks tokens up by digest in constant time per comparison."""

    def __init__(self, grants: dict[str, Grant]) -> None:
        self._by_digest = {self._digest(t): g for t, g in grants.items()}

    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def resolve(self, token: str) -> Grant | None:
        digest = self._digest(token)
        for known, grant in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return grant
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
    body = {token: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f, indent=2)
    return path, token


def admin_token_in(path: Path) -> str | None:
    """The first admin token of a tokens file, to print for the operator."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    for token, grant in data.items():
        if "admin" in (grant.get("roles") or []):
            return str(token)
    return None
