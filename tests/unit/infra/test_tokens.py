"""Configured tokens: grants fail closed, errors name the principal and never the secret,
and issued tokens are asked only after every configured one."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from infra.auth import Grant, TokenConfigError, TokenRegistry, admin_token_in, ensure_admin_token

SECRET = "very-secret-token-0123456789"


def registry(grant: Any, token: str = SECRET) -> TokenRegistry:
    return TokenRegistry.from_json(json.dumps({token: grant}))


def lead(**grant: Any) -> dict[str, Any]:
    return {"principal": "user:lena", "roles": ["lead"], **grant}


@pytest.mark.parametrize("teams", [
    "missing", None, [], "", "abc", {"a": 1}, [1, 2], [""], ["  "], [None], 7,
])
def test_a_token_without_a_list_of_teams_is_a_configuration_error(teams: Any) -> None:
    grant = lead() if teams == "missing" else lead(teams=teams)

    with pytest.raises(TokenConfigError) as refused:
        registry(grant)

    message = str(refused.value)
    assert "user:lena" in message and "teams" in message
    assert SECRET not in message


def test_the_star_grants_every_team_and_named_teams_grant_only_those() -> None:
    every = registry(lead(teams=["*"])).resolve(SECRET)
    some = registry(lead(teams=["team-a"])).resolve(SECRET)

    assert every is not None and every.may_see_team("any-team")
    assert some is not None and some.may_see_team("team-a")
    assert not some.may_see_team("team-b")


@pytest.mark.parametrize("grant", [
    {"principal": "user:lena", "roles": "admin", "teams": ["*"]},
    {"principal": "user:lena", "roles": {"admin": True}, "teams": ["*"]},
    {"principal": "user:lena", "roles": 5, "teams": ["*"]},
    {"principal": "user:lena", "roles": ["root"], "teams": ["*"]},
    {"principal": "user:lena", "roles": [], "teams": ["*"]},
])
def test_roles_must_be_a_list_of_known_roles(grant: dict[str, Any]) -> None:
    with pytest.raises(TokenConfigError, match="user:lena: roles") as refused:
        registry(grant)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize("text", ["{not json", "[]", "{}", json.dumps({SECRET: "admin"}),
                                  json.dumps({SECRET: {"principal": "lena", "roles": ["lead"],
                                                       "teams": ["*"]}})])
def test_malformed_tokens_never_echo_the_secret(text: str) -> None:
    with pytest.raises(TokenConfigError) as refused:
        TokenRegistry.from_json(text)
    assert SECRET not in str(refused.value)


def test_a_short_token_is_refused_naming_its_principal() -> None:
    with pytest.raises(TokenConfigError, match="user:lena is too short"):
        registry(lead(teams=["*"]), token="short")


def test_a_configured_token_resolves_to_its_grant_and_a_key_that_is_not_the_secret() -> None:
    grant = registry(lead(teams=["*"])).resolve(SECRET)

    assert grant == Grant("user:lena", frozenset({"lead"}), frozenset({"*"}))
    assert grant.token_key.startswith("configured:")
    assert SECRET not in grant.token_key
    assert registry(lead(teams=["*"])).resolve(SECRET + "x") is None


def test_issued_tokens_are_asked_only_when_no_configured_token_matches() -> None:
    asked: list[str] = []
    issued = Grant("user:ada", frozenset({"member"}), frozenset({"team-a"}), "token-1")

    def managed(secret: str) -> Grant | None:
        asked.append(secret)
        return issued if secret == "olt_issued" else None

    tokens = registry(lead(teams=["*"])).with_managed(managed)

    assert tokens.resolve(SECRET) is not None and tokens.resolve(SECRET).principal == "user:lena"  # type: ignore[union-attr]
    assert asked == []
    assert tokens.resolve("olt_issued") is issued
    assert tokens.resolve("olt_other") is None
    assert asked == ["olt_issued", "olt_other"]


def test_the_default_admin_token_is_created_once_in_a_private_file(tmp_path: Path) -> None:
    path, created = ensure_admin_token(tmp_path)
    again, second = ensure_admin_token(tmp_path)

    assert created is not None and created.startswith("olt_")
    assert (again, second) == (path, None)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    grant = TokenRegistry.from_json(path.read_text()).resolve(created)
    assert grant is not None and grant.teams == frozenset({"*"}) and "admin" in grant.roles
    assert admin_token_in(path) == created
