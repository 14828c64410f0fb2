"""Revealing sealed values, as specifications: a value opened once is answered again
without decrypting it, and never once its subject's key is gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.personal import ERASED
from infra.personal import reveal
from infra.personal.keys import KeyStore
from infra.personal.reveal import Revealer
from infra.personal.sealing import Sealed, UnreadableSealError, seal

ADA = "member:00000000-0000-4000-8000-000000000001"


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys.sqlite")


@pytest.fixture
def decrypted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The subjects of the values actually decrypted, in order."""
    seen: list[str] = []
    real = reveal.unseal

    def counting(sealed: Sealed, key: bytes) -> str:
        seen.append(sealed.subject)
        return real(sealed, key)

    monkeypatch.setattr(reveal, "unseal", counting)
    return seen


def sealed_name(keys: KeyStore, plaintext: str = "Ada Lovelace") -> str:
    key = keys.key_for_new_data(ADA)
    assert key is not None
    return seal(ADA, key, plaintext)


def test_a_value_opened_once_is_answered_again_without_decrypting(
    keys: KeyStore, decrypted: list[str],
) -> None:
    revealer = Revealer(keys)
    name = sealed_name(keys)

    assert [revealer.reveal(name) for _ in range(3)] == ["Ada Lovelace"] * 3

    assert decrypted == [ADA]


def test_a_remembered_value_is_erased_as_soon_as_its_key_is(keys: KeyStore) -> None:
    revealer = Revealer(keys)
    name = sealed_name(keys)
    assert revealer.reveal(name) == "Ada Lovelace"

    keys.begin_erasure(ADA)

    assert revealer.reveal(name) == ERASED
    keys.abandon_erasure(ADA)
    keys.erase(ADA)
    assert revealer.reveal(name) == ERASED


def test_a_remembered_value_is_opened_again_after_its_time(
    keys: KeyStore, decrypted: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    revealer = Revealer(keys)
    name = sealed_name(keys)
    revealer.reveal(name)

    monkeypatch.setattr(reveal, "OPENED_SECONDS", 0.0)

    assert revealer.reveal(name) == "Ada Lovelace"
    assert decrypted == [ADA, ADA]


def test_an_altered_value_is_refused_even_beside_a_remembered_one(keys: KeyStore) -> None:
    revealer = Revealer(keys)
    name = sealed_name(keys)
    revealer.reveal(name)

    with pytest.raises(UnreadableSealError):
        revealer.reveal(name[:-4] + ("AAAA" if not name.endswith("AAAA") else "BBBB"))
    with pytest.raises(UnreadableSealError):
        revealer.reveal("pii:v1:member:not-a-subject")
