"""Access tokens, as specifications: given these events, when this command, then these
events (or this error). Only a digest of a secret is ever recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.access import commands as c
from domain.access.aggregate import AccessToken, secret_digest, token_id_of
from domain.access.service import AccessService
from domain.envelope import envelope_of
from domain.errors import DomainError, ValidationError
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from tests.unit.domain.test_ledger import RetryingLedger

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TOKEN_ID = UUID("00000000-0000-4000-8000-0000000000aa")
TEAM_A = "00000000-0000-4000-8000-00000000000a"
TEAM_B = "00000000-0000-4000-8000-00000000000b"
SECRET = f"olt_{TOKEN_ID.hex}_{'s' * 43}"


def meta(minutes: int = 0, actor: str = "user:admin") -> CommandMeta:
    return CommandMeta(actor=actor, now=NOW + timedelta(minutes=minutes))


def then(token: AccessToken) -> list[tuple[str, dict[str, Any]]]:
    return [(type(e).__name__, envelope_of(e, 0).data) for e in token.collect_events()]


def issue(**overrides: Any) -> AccessToken:
    args: dict[str, Any] = {
        "principal": "user:ada", "roles": ["lead"], "teams": [TEAM_A], "expires_at": None,
        "reason": "new lead", "secret_sha256": secret_digest(SECRET), "meta": meta(),
    }
    args.update(overrides)
    return AccessToken.issue(TOKEN_ID, **args)


def given_token(**overrides: Any) -> AccessToken:
    token = issue(**overrides)
    token.collect_events()
    return token


# -- issuing -----------------------------------------------------------------------------


def test_issuing_records_whom_the_token_speaks_for_and_only_the_digest_of_its_secret() -> None:
    token = issue(roles=["lead", "auditor", "lead"], teams=[TEAM_B, TEAM_A.upper()])

    assert then(token) == [("TokenIssued", {
        "principal": "user:ada", "roles": ["auditor", "lead"], "teams": [TEAM_A, TEAM_B],
        "expires_at": None, "reason": "new lead", "secret_sha256": secret_digest(SECRET),
    })]
    assert SECRET not in repr(token.__dict__)


def test_the_star_grants_every_team_and_absorbs_named_teams() -> None:
    assert issue(teams=[TEAM_A, "*"]).teams == ["*"]


@pytest.mark.parametrize("teams", [[], ["payments"], [""]])
def test_a_token_needs_team_ids_or_the_star(teams: list[str]) -> None:
    with pytest.raises(ValidationError, match="team"):
        issue(teams=teams)


@pytest.mark.parametrize("roles", [[], ["root"], ["lead", "owner"]])
def test_a_token_needs_known_roles(roles: list[str]) -> None:
    with pytest.raises(ValidationError, match="roles"):
        issue(roles=roles)


@pytest.mark.parametrize("principal", ["ada", "user:", "group:ops", "user:a b", "user:ada\n"])
def test_a_token_speaks_for_a_user_or_a_service(principal: str) -> None:
    with pytest.raises(ValidationError, match="principal"):
        issue(principal=principal)


def test_a_service_principal_may_hold_a_token() -> None:
    assert issue(principal="service:billing", roles=["service"]).principal == "service:billing"


def test_an_expiry_is_recorded_in_utc() -> None:
    token = issue(expires_at="2025-03-04T10:00:00+01:00")

    assert token.expires_at == "2025-03-04T09:00:00.000000Z"


@pytest.mark.parametrize("expires_at", ["2025-03-03T08:59:59Z", "2025-03-03T09:00:00Z"])
def test_an_expiry_must_be_in_the_future(expires_at: str) -> None:
    with pytest.raises(DomainError, match="future"):
        issue(expires_at=expires_at)


@pytest.mark.parametrize("expires_at", [
    "2030-01-01T00:00:00",  # no offset
    "tomorrow",
    "2030-01-01T00:00:00\x00Z",  # fromisoformat alone would take it
    "2030-01-01 00:00:00Z",
    "2030-01-01T00:00:00Z\n",
    "2030-02-30T00:00:00Z",
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-12:00",  # after year 9999 in UTC
])
def test_an_expiry_must_be_a_time_with_an_offset_in_range(expires_at: str) -> None:
    with pytest.raises(ValidationError, match="expires_at"):
        issue(expires_at=expires_at)


# -- revoking ----------------------------------------------------------------------------


def test_revoking_records_the_reason_and_whom_the_token_spoke_for() -> None:
    token = given_token()

    token.revoke("  left the company ", meta(5))

    assert then(token) == [("TokenRevoked", {
        "principal": "user:ada", "roles": ["lead"], "teams": [TEAM_A],
        "reason": "left the company",
    })]
    assert token.is_active(NOW) is False


def test_a_token_is_revoked_once() -> None:
    token = given_token()
    token.revoke("lost laptop", meta())
    token.collect_events()

    with pytest.raises(DomainError, match="already revoked"):
        token.revoke("again", meta())


def test_revoking_needs_a_reason() -> None:
    with pytest.raises(DomainError, match="reason"):
        given_token().revoke("  ", meta())


# -- whether a token works -----------------------------------------------------------------


def test_a_token_works_until_it_expires() -> None:
    token = given_token(expires_at="2025-03-03T10:00:00Z")

    assert token.is_active(NOW + timedelta(minutes=59))
    assert not token.is_active(NOW + timedelta(minutes=60))


def test_only_its_own_secret_matches_a_token() -> None:
    token = given_token()

    assert token.matches(SECRET)
    assert not token.matches(SECRET[:-1] + "t")


@pytest.mark.parametrize("secret", [
    "olt_" + "0" * 32,  # no random part
    "olt_" + "g" * 32 + "_" + "s" * 43,  # not hex
    "admin-token-0123456789",
    "olt_" + TOKEN_ID.hex + "_short",
])
def test_a_secret_not_of_the_issued_form_names_no_token(secret: str) -> None:
    assert token_id_of(secret) is None


# -- the service -------------------------------------------------------------------------


def context(key: str | None = None) -> CommandContext:
    return CommandContext(meta(), idempotency_key=key, fingerprint="fp")


def test_issuing_answers_the_secret_once_and_the_ledger_keeps_only_its_digest(
    ledger: Ledger,
) -> None:
    access = AccessService(ledger)

    issued = access.issue(c.IssueToken("user:ada", ["lead"], [TEAM_A]), context())

    assert issued.secret is not None and issued.token is not None
    assert token_id_of(issued.secret) == issued.result.id == issued.token.id
    stored = ledger.recorder.select_notifications(start=1, limit=10)
    assert len(stored) == 1
    assert issued.secret.encode() not in stored[0].state
    assert secret_digest(issued.secret).encode() in stored[0].state


def test_a_secret_resolves_to_its_active_token(ledger: Ledger) -> None:
    access = AccessService(ledger)
    issued = access.issue(c.IssueToken("user:ada", ["lead"], [TEAM_A]), context())
    assert issued.secret is not None

    found = access.resolve(issued.secret, NOW)

    assert found is not None and found.principal == "user:ada"
    wrong = issued.secret[:-2] + ("aa" if not issued.secret.endswith("aa") else "bb")
    assert access.resolve(wrong, NOW) is None
    assert access.resolve(f"olt_{'0' * 32}_{'s' * 43}", NOW) is None


def test_a_revoked_token_resolves_to_nothing(ledger: Ledger) -> None:
    access = AccessService(ledger)
    issued = access.issue(c.IssueToken("user:ada", ["lead"], [TEAM_A]), context())
    assert issued.secret is not None

    access.revoke(c.RevokeToken(issued.result.id, "rotated"), context())

    assert access.resolve(issued.secret, NOW) is None


def test_an_expired_token_resolves_to_nothing(ledger: Ledger) -> None:
    access = AccessService(ledger)
    issued = access.issue(
        c.IssueToken("user:ada", ["lead"], [TEAM_A], expires_at="2025-03-03T09:30:00Z"),
        context(),
    )
    assert issued.secret is not None

    assert access.resolve(issued.secret, NOW + timedelta(minutes=29)) is not None
    assert access.resolve(issued.secret, NOW + timedelta(minutes=30)) is None


def test_an_idempotent_repeat_issues_nothing_and_cannot_answer_the_secret_again() -> None:
    ledger = RetryingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    access = AccessService(ledger)
    first = access.issue(c.IssueToken("user:ada", ["lead"], [TEAM_A]), context("k-1"))
    head = ledger.head_position()

    again = access.issue(c.IssueToken("user:ada", ["lead"], [TEAM_A]), context("k-1"))

    assert again.result == first.result
    assert (again.secret, again.token) == (None, None)
    assert ledger.head_position() == head
