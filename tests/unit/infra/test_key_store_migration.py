"""The key store in a migration (``opsledger migrate encrypt``): the old one is read
without a byte changed, and the new one takes over its subjects but none of its keys."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from infra.personal.keys import KeyStore

ADA = "member:00000000-0000-4000-8000-000000000001"
BOB = "member:00000000-0000-4000-8000-000000000002"


def _old_store(path: Path) -> tuple[bytes, str, str]:
    """Ada has a key, Bob was erased, Cy is a customer, Eve an erased customer."""
    keys = KeyStore(path)
    ada = keys.key_for_new_data(ADA)
    keys.key_for_new_data(BOB)
    keys.erase(BOB)
    cy = keys.customer_subject("cy@example.net")
    keys.key_for_new_data(cy)
    eve = keys.customer_subject("eve@example.net")
    keys.key_for_new_data(eve)
    keys.erase(eve)
    keys.close()
    assert ada is not None
    return ada, cy, eve


def test_a_key_store_opened_read_only_answers_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    ada, cy, _ = _old_store(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    old = KeyStore(path, read_only=True)
    assert old.key(ADA) == ada
    assert old.find_customer(" CY@example.net ") == cy
    with pytest.raises(sqlite3.OperationalError):
        old.key_for_new_data("member:00000000-0000-4000-8000-000000000003")
    old.close()

    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.sqlite"]


def test_a_new_key_store_takes_over_the_subjects_and_none_of_the_keys(
    tmp_path: Path,
) -> None:
    ada_key, cy, eve = _old_store(tmp_path / "old.sqlite")
    old = KeyStore(tmp_path / "old.sqlite", read_only=True)
    new = KeyStore(tmp_path / "new.sqlite")

    new.adopt_subjects_of(old)

    assert new.key(ADA) is None  # no key came along: one is made on first use
    assert new.key_for_new_data(ADA) not in (None, ada_key)
    assert new.find_customer("cy@example.net") == cy  # the same subject id
    assert new.is_erased(BOB) and new.key_for_new_data(BOB) is None  # erased stays erased
    assert new.erased_customer("eve@example.net") == eve
    assert new.find_customer("eve@example.net") is None
    new.close()
    old.close()
    assert ada_key not in (tmp_path / "new.sqlite").read_bytes()


def test_only_an_empty_key_store_takes_over_subjects(tmp_path: Path) -> None:
    _old_store(tmp_path / "old.sqlite")
    old = KeyStore(tmp_path / "old.sqlite", read_only=True)
    busy = KeyStore(tmp_path / "busy.sqlite")
    busy.key_for_new_data(ADA)
    with pytest.raises(ValueError, match="already holds subjects"):
        busy.adopt_subjects_of(old)
    busy.close()
    old.close()
