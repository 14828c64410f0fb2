"""The key store and sealed values, as specifications: one key per data subject, a
sealed value opens only with its subject's key, and an erased key is gone from the file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infra.personal.keys import KeyStore
from infra.personal.sealing import UnreadableSealError, is_sealed, parse, seal, unseal

ADA = "member:00000000-0000-4000-8000-000000000001"
BOB = "member:00000000-0000-4000-8000-000000000002"


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys.sqlite")


def test_a_sealed_value_names_its_subject_and_opens_with_its_key(keys: KeyStore) -> None:
    key = keys.key_for_new_data(ADA)
    assert key is not None
    sealed = seal(ADA, key, "Ada Lovelace")

    assert is_sealed(sealed) and sealed.startswith(f"pii:v1:{ADA}:")
    assert "Ada" not in sealed
    assert unseal(parse(sealed), key) == "Ada Lovelace"
    assert seal(ADA, key, "Ada Lovelace") != sealed  # a fresh nonce each time


def test_a_value_sealed_for_one_subject_does_not_open_as_anothers(keys: KeyStore) -> None:
    ada, bob = keys.key_for_new_data(ADA), keys.key_for_new_data(BOB)
    assert ada is not None and bob is not None
    sealed = seal(ADA, ada, "Ada")
    with pytest.raises(UnreadableSealError):
        unseal(parse(sealed), bob)
    relabelled = sealed.replace(ADA, BOB)
    with pytest.raises(UnreadableSealError):
        unseal(parse(relabelled), ada)  # the subject is bound in as associated data


def test_each_subject_has_one_key_made_on_first_use(keys: KeyStore, tmp_path: Path) -> None:
    assert keys.key(ADA) is None
    first = keys.key_for_new_data(ADA)
    assert first is not None and len(first) == 32
    assert keys.key_for_new_data(ADA) == first
    assert KeyStore(tmp_path / "keys.sqlite").key(ADA) == first  # durable
    assert keys.key_for_new_data(BOB) != first


def test_the_key_store_file_is_private(keys: KeyStore) -> None:
    keys.key_for_new_data(ADA)
    assert stat.S_IMODE(keys.path.stat().st_mode) == 0o600


def test_a_customer_is_one_subject_per_email_address_and_the_address_is_not_kept(
    keys: KeyStore,
) -> None:
    subject = keys.customer_subject("Ana@Example.org")
    assert subject.startswith("customer:")
    assert keys.customer_subject(" ana@example.org ") == subject
    assert keys.find_customer("ANA@example.org") == subject
    assert keys.find_customer("someone@example.org") is None
    assert b"example.org" not in keys.path.read_bytes()


def test_an_erased_key_is_gone_from_the_file_and_the_subject_gets_no_new_one(
    keys: KeyStore,
) -> None:
    def on_disk() -> bytes:  # the store's file and its WAL
        return b"".join(p.read_bytes() for p in keys.path.parent.iterdir())

    key = keys.key_for_new_data(ADA)
    assert key is not None and key in on_disk()

    assert keys.erase(ADA) is True
    assert keys.key(ADA) is None and keys.is_erased(ADA)
    assert keys.key_for_new_data(ADA) is None
    assert key not in on_disk()


def test_an_erased_customer_who_comes_back_is_a_new_subject(keys: KeyStore) -> None:
    first = keys.customer_subject("ana@example.org")
    keys.key_for_new_data(first)
    keys.erase(first)
    assert keys.find_customer("ana@example.org") is None
    again = keys.customer_subject("ana@example.org")
    assert again != first and keys.key_for_new_data(again) is not None


def test_a_subject_being_erased_opens_nothing_until_its_erasure_is_abandoned(
    keys: KeyStore, tmp_path: Path,
) -> None:
    key = keys.key_for_new_data(ADA)
    keys.begin_erasure(ADA)
    other_process = KeyStore(tmp_path / "keys.sqlite")
    assert keys.key(ADA) is None and other_process.key(ADA) is None
    assert keys.key_for_new_data(ADA) is None  # new data of theirs is stored as erased
    assert keys.pending_erasures() == [ADA]

    keys.abandon_erasure(ADA)
    assert keys.key(ADA) == key and keys.pending_erasures() == []


def test_erasing_ends_the_erasure_and_remembers_an_erased_customer_by_lookup_only(
    keys: KeyStore,
) -> None:
    subject = keys.customer_subject("Ana@Example.org")
    keys.key_for_new_data(subject)
    keys.begin_erasure(subject)
    keys.erase(subject)

    assert keys.pending_erasures() == []
    assert keys.find_customer("ana@example.org") is None
    assert keys.erased_customer(" ANA@example.org") == subject
    assert keys.erased_customer("bob@example.org") is None
    assert b"example.org" not in keys.path.read_bytes()
