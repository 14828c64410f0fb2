"""``opsledger migrate encrypt``: a new event store from an old one, with every declared
personal field sealed.

Events stored before sealing existed hold personal data in plaintext, and no erasure
reaches it: the key it would delete never existed. The migration reads the old store
read-only (its bytes are never changed), checks its chain, and writes every stored
record into a new, empty data folder at the same position, with the same aggregate
id, version, metadata and times, and so the same event ids. Records that hold no
personal data keep their stored bytes; for the others, each declared personal field
is opened (plaintext as it is, or a value sealed under the old key store's key) and
sealed again under a new key per subject in the new folder's ``keys.sqlite``.

The new key store takes over the old one's subjects but none of its keys
(:meth:`KeyStore.adopt_subjects_of`): customers keep their subject ids (which
``PersonalDataErased`` events name), and a subject erased in the old folder stays
erased, so its old plaintext is stored as ``"[erased]"``; that is where the migration
completes an erasure made before. A plaintext customer address that was erased is
erased here too, even if the customer gave feedback again later under a new subject.

The new store gets its own hash chain (it covers the new ciphertext), checked once
written. What links it to the old one is the signed statement
(:mod:`infra.audit.statement`).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.ledger import Ledger
from domain.personal import ERASED, Personal, personal_fields, put_at, value_at
from infra.audit.signing import key_path
from infra.audit.verify import verify_store
from infra.event_store import (
    close_ledger,
    key_store,
    ledger_recorder,
    open_ledger,
    read_only_ledger,
)
from infra.event_store.hash_chain import GENESIS, StoredEventHasher, link
from infra.event_store.sqlite import HASHES_TABLE
from infra.personal.keys import KeyStore
from infra.personal.mapper import PersonalDataMapper, sealed_reader
from infra.personal.reveal import Revealer
from infra.personal.sealing import UnreadableSealError, is_sealed, parse
from infra.private_files import private_dir, private_file
from infra.settings import Settings

Progress = Callable[[str, int, int], None]
"""``(phase, done, total)``: a phase is one pass over the store."""

CARRIED_OVER = ("tokens.json", str(key_path(Path())))
"""Files of the old folder the new one needs and that hold no personal data: the
bearer tokens (so clients keep working) and the checkpoint signing key (so the
statement and later checkpoints are signed by the key auditors already trust)."""


class MigrationError(ValueError):
    """The migration cannot be done (nothing was left in the new folder)."""


@dataclass
class Migration:
    """What a migration did: the figures its statement signs."""

    old_head: tuple[int, str] = (0, GENESIS)
    new_head: tuple[int, str] = (0, GENESIS)
    events: int = 0
    """Public events (the chained ones)."""
    records: int = 0
    """Every stored record, internal ones (idempotency keys) included."""
    fields_sealed: int = 0
    fields_erased: int = 0
    """Personal fields stored as "[erased]": their subject was erased before."""
    subjects: set[str] = field(default_factory=set)
    carried_over: list[str] = field(default_factory=list)


def check_folders(old: Settings, new: Settings) -> None:
    """Refuse an old folder with no event store, and a new folder that is not empty
    or is inside the old one."""
    if not old.event_store_path.is_file():
        raise MigrationError(f"no event store at {old.event_store_path}")
    check_target(old.data_dir, new.data_dir)


def check_target(old: Path, new: Path) -> None:
    if new.resolve().is_relative_to(old.resolve()):
        raise MigrationError(f"{new} is inside the old data folder {old}: the old folder "
                             "is never changed; choose a folder outside it")
    if new.exists() and (not new.is_dir() or any(new.iterdir())):
        raise MigrationError(f"{new} is not an empty folder: the migration writes a new "
                             "store into a new, empty folder")


def migrate_encrypt(old: Settings, new: Settings, *, batch: int = 500,
                    progress: Progress | None = None,
                    finish: Callable[[Migration], None] | None = None) -> Migration:
    """Write the old store's records, sealed, into the new folder (see the module).

    ``finish`` is the last step (signing the statement): if it fails, like any step
    before it, the new folder is emptied again."""
    check_folders(old, new)
    report = progress or (lambda _phase, _done, _total: None)
    existed = new.data_dir.exists()
    source = read_only_ledger(old)
    old_keys = (KeyStore(old.key_store_path, read_only=True)
                if old.key_store_path.is_file() else None)
    target: Ledger | None = None
    try:
        result = Migration()
        head = _check_old(source, old_keys, result, report)
        target = open_ledger(new)
        new_keys = key_store(target)
        if old_keys is not None and new_keys is not None:
            new_keys.adopt_subjects_of(old_keys)
        _copy(source, target, old_keys, new, result, batch, head, report)
        checked = verify_store(target, progress=lambda p: report(
            "checking the new chain", p, head))
        if not checked.ok:  # pragma: no cover - what was just written is chained
            raise MigrationError(f"the new store does not verify: {checked.describe()}")
        result.new_head = ledger_recorder(target).head_hash()
        result.events = checked.count
        if result.new_head[0] != result.old_head[0]:
            raise MigrationError("the old store changed while it was read: stop OpsLedger "
                                 "on it, then migrate again")
        result.carried_over = _carry_over(old.data_dir, new.data_dir)
        if finish is not None:
            finish(result)
        return result
    except BaseException:
        if target is not None:
            close_ledger(target)
            target = None
        _clear(new.data_dir, remove=not existed)
        raise
    finally:
        source.close()
        if old_keys is not None:
            old_keys.close()
        if target is not None:
            close_ledger(target)


def _check_old(source: Ledger, old_keys: KeyStore | None, result: Migration,
               report: Progress) -> int:
    """Check the old store's chain; the head position migrated (what is stored after
    this check is not: the statement names the head it checked)."""
    if old_keys is not None and old_keys.pending_erasures():
        raise MigrationError(
            f"the old key store has an erasure in progress ({old_keys.pending_erasures()[0]}"
            "): start OpsLedger once on the old folder to finish it, then migrate")
    result.old_head = ledger_recorder(source).head_hash()
    head = max(source.head_position(), result.old_head[0])
    checked = verify_store(source, progress=lambda p: report("checking the old chain",
                                                             p, head))
    if not checked.ok:
        raise MigrationError(f"the old store's chain does not verify ({checked.describe()}"
                             "): a history that is not intact cannot be migrated")
    return head


def _copy(source: Ledger, target: Ledger, old_keys: KeyStore | None, new: Settings,
          result: Migration, batch: int, head: int, report: Progress) -> None:
    mapper = target.mapper
    if not isinstance(mapper, PersonalDataMapper):  # pragma: no cover - open_ledger's
        raise TypeError("the new store does not seal personal data")
    reseal = Resealer(mapper, old_keys, result)
    hasher = StoredEventHasher(sealed_reader(mapper))
    prev, position = GENESIS, 0
    with sqlite3.connect(new.event_store_path) as db:
        while position < head:
            rows = source.recorder.select_notifications(position + 1, batch, stop=head)
            if not rows:
                break
            for n in rows:
                stored = reseal(n, n.id)
                db.execute(
                    "INSERT INTO stored_events (rowid, originator_id, originator_version,"
                    " topic, state) VALUES (?, ?, ?, ?, ?)",
                    (n.id, UUID(str(stored.originator_id)).hex, stored.originator_version,
                     stored.topic, stored.state))
                hashed = hasher(stored, n.id)
                if hashed is not None:
                    current = link(prev, hashed[1])
                    db.execute(f"INSERT INTO {HASHES_TABLE} VALUES (?, ?, ?, ?)",  # noqa: S608
                               (n.id, hashed[0], prev, current))
                    prev = current
                position = n.id
                result.records += 1
            db.commit()
            report("sealing into the new store", position, head)


class Resealer:
    """One stored record as the new store keeps it: personal fields opened with the old
    keys and sealed with the new ones; a record with none keeps its bytes."""

    def __init__(self, mapper: PersonalDataMapper, old_keys: KeyStore | None,
                 result: Migration) -> None:
        self.mapper = mapper
        self.old_keys = old_keys
        self.opener = Revealer(old_keys) if old_keys is not None else None
        self.result = result

    def __call__(self, stored: StoredEvent, position: int) -> StoredEvent:
        event = self.mapper.to_sealed_event(stored)
        personal = personal_fields(type(event))
        if not personal:
            return stored
        plain = vars(event)  # opened in place: the decoded copy, never the old bytes
        for path in personal:
            value = value_at(plain, path)
            if is_sealed(value):
                put_at(plain, path, self._open(value, position))
        self._erase_erased_customers(plain, personal)
        resealed = self.mapper.to_stored_event(event)
        self._count(vars(self.mapper.to_sealed_event(resealed)), plain, personal, position)
        return resealed

    def _open(self, value: str, position: int) -> str:
        if self.opener is None:
            raise MigrationError(f"position {position} holds a sealed value, but the old "
                                 "folder has no keys.sqlite to open it with")
        try:
            return self.opener.reveal(value)
        except UnreadableSealError as e:
            raise MigrationError(f"position {position}: {e}: the old store's personal data "
                                 "was altered or is not this deployment's") from None

    def _erase_erased_customers(self, plain: dict[str, Any], personal: Personal) -> None:
        if self.old_keys is None:
            return
        for subject in {s for s in personal.values() if s.kind == "customer"}:
            email = value_at(plain, subject.field)
            if _names_someone(email) and self.old_keys.erased_customer(email) is not None:
                for path, whose in personal.items():
                    if whose == subject and isinstance(value_at(plain, path), str):
                        put_at(plain, path, ERASED)

    def _count(self, sealed: dict[str, Any], plain: dict[str, Any], personal: Personal,
               position: int) -> None:
        for path, subject in personal.items():
            value = value_at(sealed, path)
            if is_sealed(value):
                self.result.fields_sealed += 1
                self.result.subjects.add(parse(value).subject)
            elif value == ERASED:
                self.result.fields_erased += 1
            elif isinstance(value, str) and _names_someone(value_at(plain, subject.field)):
                raise MigrationError(f"position {position}: {path} would be stored in "
                                     "plaintext")  # pragma: no cover - the mapper seals it


def _names_someone(ref: object) -> bool:
    return isinstance(ref, str) and bool(ref.strip()) and ref != ERASED


def _carry_over(old: Path, new: Path) -> list[str]:
    carried = []
    for name in CARRIED_OVER:
        source = old / name
        if source.is_file():
            private_dir((new / name).parent)
            private_file(new / name).write_bytes(source.read_bytes())
            carried.append(name)
    return carried


def _clear(folder: Path, *, remove: bool) -> None:
    """Empty ``folder`` (it was empty, or did not exist, before the migration)."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if remove:
        folder.rmdir()
