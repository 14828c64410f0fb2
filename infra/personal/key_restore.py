"""The key store brought back with a restored event store.

``opsledger restore`` rebuilds a lost event store from the Kafka topics, where personal
data travels sealed: without the lost folder's key store every personal field restored
reads ``"[erased]"``. Given a backup of that ``keys.sqlite``, it is copied into the new
folder (SQLite's online backup, so a backup taken while OpsLedger ran is read whole),
and then every erasure the restored log records is applied to it again: a backup made
before an erasure still holds the erased subject's key, and gone must stay gone.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from domain.ledger import Ledger
from infra.event_store.log import iter_envelopes
from infra.personal.keys import KeyStore
from infra.private_files import private_dir, private_sqlite


class KeyStoreBackupError(ValueError):
    """The file given is not a key store OpsLedger can read."""


def copy_key_store(backup: Path, target: Path) -> int:
    """Copy the key store ``backup`` to ``target`` (a new file, 0600); the number of keys
    it holds. ``KeyStoreBackupError`` if ``backup`` is missing or not a key store."""
    if not backup.is_file():
        raise KeyStoreBackupError(f"{backup} is not a file")
    if target.exists():
        raise KeyStoreBackupError(f"{target} exists; the key store goes into a new folder")
    try:
        source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise KeyStoreBackupError(f"cannot open {backup}: {e}") from None
    try:
        try:
            tables = {r[0] for r in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError:
            raise KeyStoreBackupError(f"{backup} is not an SQLite database") from None
        if not {"subject_keys", "erased", "secrets"} <= tables:
            raise KeyStoreBackupError(f"{backup} is not an OpsLedger key store")
        private_dir(target.parent)
        private_sqlite(target)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
        return int(source.execute("SELECT count(*) FROM subject_keys").fetchone()[0])
    finally:
        source.close()


def erase_recorded(ledger: Ledger, keys: KeyStore) -> list[str]:
    """Delete again the key of every subject whose erasure ``ledger`` records and that
    ``keys`` still holds (it came from a backup older than the erasure); those subjects."""
    erased = []
    for envelope in iter_envelopes(ledger):
        if envelope.context != "privacy" or envelope.name != "PersonalDataErased":
            continue
        subject = f"{envelope.data['subject_kind']}:{envelope.data['subject_id']}"
        if keys.key(subject) is not None:
            keys.begin_erasure(subject)
            keys.erase(subject)
            erased.append(subject)
    return erased
