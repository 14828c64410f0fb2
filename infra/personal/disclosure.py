"""Opening sealed personal values for a service that read them elsewhere (the Kafka
topics carry personal data sealed): ``POST /v1/personal-data/reveal``.

What a token may open follows its team scope: a member's values for a token of every
team or of the member's current team (the write-side directory says which); a
customer's values only for a token of every team, since one customer's feedback spans
teams (as for their erasure). A value the token may not open answers ``None`` whether
or not its subject was erased, so a refusal says nothing about anyone; a value whose
key is gone answers ``"[erased]"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domain.personal import ERASED
from infra.auth import ALL_TEAMS, Grant
from infra.personal.keys import KeyStore
from infra.personal.sealing import parse, unseal

MAX_VALUES = 500
"""The most values one request may ask to open: bounded work per request (a
subscriber batches its messages' values, and waits between batches when answered 429)."""


@dataclass(frozen=True)
class Disclosed:
    values: list[str | None]
    """In the order asked: the plaintext, ``"[erased]"``, or None (not this token's)."""
    opened: int
    erased: int
    refused: int


class UnopenableValueError(ValueError):
    """A well-formed sealed value its own subject's key does not open (altered, or not
    this deployment's)."""

    def __init__(self, index: int) -> None:
        super().__init__(f"values[{index}] does not open with its subject's key: altered "
                         "or sealed by another deployment")
        self.index = index


def disclose(grant: Grant, values: Sequence[str], keys: KeyStore,
             team_of_member: Callable[[str], str | None]) -> Disclosed:
    """Open ``values`` (each a whole sealed value) as far as ``grant`` may."""
    answers: list[str | None] = []
    opened = erased = refused = 0
    for index, value in enumerate(values):
        try:
            sealed = parse(value)
        except ValueError:
            raise UnopenableValueError(index) from None
        if not _may_open(grant, sealed.subject, team_of_member):
            answers.append(None)
            refused += 1
            continue
        key = keys.key(sealed.subject)
        if key is None:
            answers.append(ERASED)
            erased += 1
            continue
        try:
            answers.append(unseal(sealed, key))
        except ValueError:  # UnreadableSealError, or a payload too short for a nonce
            raise UnopenableValueError(index) from None
        opened += 1
    return Disclosed(answers, opened, erased, refused)


def _may_open(grant: Grant, subject: str, team_of_member: Callable[[str], str | None]) -> bool:
    if ALL_TEAMS in grant.teams:
        return True
    kind, _, subject_id = subject.partition(":")
    if kind != "member":
        return False  # a customer's feedback spans teams: every team's token only
    team = team_of_member(subject_id)
    return team is not None and grant.may_see_team(team)
