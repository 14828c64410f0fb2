"""Copying a key store backup into a restored folder: only a real key store is taken,
never over an existing one, and the copy is private."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from infra.personal.key_restore import KeyStoreBackupError, copy_key_store
from infra.personal.keys import KeyStore


def test_a_key_store_is_copied_with_its_keys_and_private(tmp_path: Path) -> None:
    backup = tmp_path / "backup.sqlite"
    keys = KeyStore(backup)
    keys.key_for_new_data("member:1")
    keys.key_for_new_data("member:2")
    keys.close()
    target = tmp_path / "restored" / "keys.sqlite"

    assert copy_key_store(backup, target) == 2

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copied = KeyStore(target)
    assert copied.key("member:1") is not None
    copied.close()


@pytest.mark.parametrize("content", [None, b"not a database at all" * 100, "other"])
def test_anything_but_a_key_store_is_refused(tmp_path: Path, content: bytes | str | None) -> None:
    backup = tmp_path / "backup.sqlite"
    if isinstance(content, bytes):
        backup.write_bytes(content)
    elif content == "other":
        with sqlite3.connect(backup) as db:
            db.execute("CREATE TABLE events (id TEXT)")
    target = tmp_path / "restored" / "keys.sqlite"

    with pytest.raises(KeyStoreBackupError):
        copy_key_store(backup, target)
    assert not target.exists()


def test_an_existing_key_store_is_never_overwritten(tmp_path: Path) -> None:
    backup, target = tmp_path / "backup.sqlite", tmp_path / "keys.sqlite"
    KeyStore(backup).close()
    KeyStore(target).close()
    before = target.read_bytes()

    with pytest.raises(KeyStoreBackupError, match="exists"):
        copy_key_store(backup, target)
    assert target.read_bytes() == before
