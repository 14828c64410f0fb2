"""The key store: one random AES-256 key per data subject, in its own SQLite file beside
the event store (0600), so erasing a subject is deleting one row.

Subjects are ``member:<member id>`` and ``customer:<random id>``. A customer is known
by the email address they gave, but the store never holds the address: it finds a
customer's subjects by an HMAC of the normalised address under a secret of its own
(``customer_index``); erasing a customer moves its row to ``erased_customers``.

Durable before it is used: the store is in WAL mode with ``synchronous=FULL``, so each
commit is one append to the WAL and one fsync (a rollback journal's commit fsyncs the
journal, the file and the folder: several times the cost, paid by every command that
names a new data subject), and a key is committed before the event sealed under it is
stored. A new customer's subject and key are made in one transaction.

Gone means gone: ``PRAGMA secure_delete=ON`` overwrites deleted rows with zeros. The
WAL holds the pages a commit wrote, old key bytes among them, until a checkpoint copies
them into the file; so an erasure, once committed, checkpoints with ``TRUNCATE`` (every
page copied, then the WAL cut to nothing), runs ``VACUUM`` and truncates the WAL again,
and fails loudly if a checkpoint cannot finish. Opening the store checkpoints the same
way, for an erasure whose process stopped in between. An erased subject stays as a
tombstone (``erased``) that holds no key: personal data stored later for it is stored
as ``"[erased]"``, never under a new key.

An erasure is two writes in two files: the ``PersonalDataErased`` event in the event
store, then the key deleted here. So it starts here: :meth:`KeyStore.begin_erasure`
marks the subject (``erasing``), and from then on its key no longer opens anything
(:meth:`KeyStore.key` answers None), whatever happens next. The key's bytes are deleted
once the event is stored (:meth:`KeyStore.erase`); after a crash in between, start-up
finishes the erasure, or abandons it if the event was never stored
(``domain/privacy/service.py``). An erased customer's lookup (the HMAC of their address,
never the address) moves to ``erased_customers``, so a second request is told it was
already erased rather than that the address is unknown.

Keys found are kept in memory for :data:`CACHE_SECONDS` at most, so another process that
shares the file (the API processes of the distributed mode) stops showing an erased
subject's data within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from domain.envelope import iso_time
from domain.meta import utcnow
from infra.personal.sealing import new_key
from infra.private_files import private_sqlite

CACHE_SECONDS = 1.0
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, key BLOB NOT NULL,"
    " created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS erased (subject TEXT PRIMARY KEY, erased_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS customer_index (lookup TEXT PRIMARY KEY,"
    " subject TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS erasing (subject TEXT PRIMARY KEY, since TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS erased_customers (lookup TEXT PRIMARY KEY,"
    " subject TEXT NOT NULL)",
)
_LIVE_KEY = ("SELECT key FROM subject_keys WHERE subject = ?1"
             " AND NOT EXISTS (SELECT 1 FROM erasing WHERE subject = ?1)")


def normalised_email(email: str) -> str:
    return email.strip().lower()


class KeyStore:
    """The data subjects' keys. Thread-safe; one connection per store."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        """``read_only``: open an existing key store without changing a byte of it (the
        old folder of ``opsledger migrate encrypt``); its writes then fail."""
        self.path = Path(path)
        self._lock = threading.RLock()
        self._cache: dict[str, tuple[float, bytes]] = {}
        if read_only:
            self._db = sqlite3.connect(self._read_only_uri(), uri=True,
                                       check_same_thread=False, isolation_level=None)
            row = self._db.execute(
                "SELECT value FROM secrets WHERE name = 'customer_index'").fetchone()
            self._index_secret = bytes(row[0]) if row else b""
            return
        private_sqlite(self.path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   timeout=30)
        with self._lock:
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a key is durable once committed
            self._truncate_wal()  # anything an erasure interrupted may have left there
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.execute("INSERT OR IGNORE INTO secrets VALUES ('customer_index', ?)",
                             (secrets.token_bytes(32),))
            row = self._db.execute(
                "SELECT value FROM secrets WHERE name = 'customer_index'").fetchone()
            self._index_secret = bytes(row[0])

    def _read_only_uri(self) -> str:
        """Read-only, leaving no file behind: with nothing in a WAL (a store closed
        cleanly, or of the rollback-journal days) the file alone is the store and is
        opened immutable (no ``-shm``/``-wal`` made); a WAL that holds commits must be
        read, which takes SQLite's shared-memory file beside it."""
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return f"file:{self.path}?mode=ro"
        return f"file:{self.path}?mode=ro&immutable=1"

    # -- keys -----------------------------------------------------------------------

    def key(self, subject: str) -> bytes | None:
        """The subject's key; None when it has none (erased, being erased, or never had
        data)."""
        cached = self._cache.get(subject)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        with self._lock:
            row = self._db.execute(_LIVE_KEY, (subject,)).fetchone()
        if row is None:
            self._cache.pop(subject, None)
            return None
        self._cache[subject] = (time.monotonic(), row[0])
        return bytes(row[0])

    def key_for_new_data(self, subject: str) -> bytes | None:
        """The key to seal new personal data of ``subject`` under, made on first use;
        None when the subject was erased (the data is then stored as erased)."""
        key = self.key(subject)
        if key is not None:
            return key
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self._is_erased(subject):
                    self._db.execute("COMMIT")
                    return None
                self._db.execute(
                    "INSERT OR IGNORE INTO subject_keys VALUES (?, ?, ?)",
                    (subject, new_key(), iso_time(utcnow())))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self.key(subject)

    def is_erased(self, subject: str) -> bool:
        with self._lock:
            return self._is_erased(subject)

    def _is_erased(self, subject: str) -> bool:
        return self._db.execute("SELECT 1 FROM erased WHERE subject = ?",
                                (subject,)).fetchone() is not None

    # -- customers --------------------------------------------------------------------

    def _lookup(self, email: str) -> str:
        return hmac.new(self._index_secret, normalised_email(email).encode(),
                        hashlib.sha256).hexdigest()

    def customer_subject(self, email: str) -> str:
        """The subject of the customer known by ``email``, made on first use together
        with its key (one commit: a customer is named only to seal their data). A
        customer erased earlier who gives feedback again is a new subject with a new
        key."""
        lookup = self._lookup(email)
        with self._lock:
            row = self._db.execute("SELECT subject FROM customer_index WHERE lookup = ?",
                                   (lookup,)).fetchone()
            if row is not None:
                return str(row[0])
            self._db.execute("BEGIN IMMEDIATE")
            try:  # (another process may have named them since the look above)
                row = self._db.execute("SELECT subject FROM customer_index WHERE lookup = ?",
                                       (lookup,)).fetchone()
                subject = str(row[0]) if row else f"customer:{uuid.uuid4()}"
                if row is None:
                    self._db.execute("INSERT INTO customer_index VALUES (?, ?)",
                                     (lookup, subject))
                    self._db.execute("INSERT OR IGNORE INTO subject_keys VALUES (?, ?, ?)",
                                     (subject, new_key(), iso_time(utcnow())))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return subject

    def find_customer(self, email: str) -> str | None:
        """The subject of the customer known by ``email``; None: no data of theirs."""
        with self._lock:
            row = self._db.execute("SELECT subject FROM customer_index WHERE lookup = ?",
                                   (self._lookup(email),)).fetchone()
        return None if row is None else str(row[0])

    def erased_customer(self, email: str) -> str | None:
        """The subject of the customer known by ``email`` whose data was erased (None:
        none was)."""
        with self._lock:
            row = self._db.execute("SELECT subject FROM erased_customers WHERE lookup = ?",
                                   (self._lookup(email),)).fetchone()
        return None if row is None else str(row[0])

    # -- erasure ----------------------------------------------------------------------

    def begin_erasure(self, subject: str) -> None:
        """Mark ``subject`` as being erased: its key opens nothing from now on."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO erasing VALUES (?, ?)",
                             (subject, iso_time(utcnow())))
            self._cache.pop(subject, None)

    def abandon_erasure(self, subject: str) -> None:
        """An erasure that was refused, or never recorded: the key opens again."""
        with self._lock:
            self._db.execute("DELETE FROM erasing WHERE subject = ?", (subject,))

    def pending_erasures(self) -> list[str]:
        """Subjects marked by :meth:`begin_erasure` and not erased yet (a crash came
        between the two), oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT subject FROM erasing ORDER BY since, subject")
            return [str(r[0]) for r in rows.fetchall()]

    def erase(self, subject: str) -> bool:
        """Delete ``subject``'s key for good (a customer's lookup moves to
        ``erased_customers``); True if it had a key. The deleted bytes are overwritten
        before this returns."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                had = self._db.execute("DELETE FROM subject_keys WHERE subject = ?",
                                       (subject,)).rowcount > 0
                self._db.execute(
                    "INSERT OR REPLACE INTO erased_customers SELECT lookup, subject"
                    " FROM customer_index WHERE subject = ?", (subject,))
                self._db.execute("DELETE FROM customer_index WHERE subject = ?", (subject,))
                self._db.execute("INSERT OR IGNORE INTO erased VALUES (?, ?)",
                                 (subject, iso_time(utcnow())))
                self._db.execute("DELETE FROM erasing WHERE subject = ?", (subject,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._cache.pop(subject, None)
            self._truncate_wal()
            self._db.execute("VACUUM")  # (written through the WAL, so truncated again)
            self._truncate_wal()
        return had

    def _truncate_wal(self) -> None:
        """Copy every page of the WAL into the file and cut the WAL to nothing (SQLite
        waits, up to the busy timeout, for readers of an older snapshot)."""
        busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise sqlite3.OperationalError(
                f"{self.path}: the key store's WAL could not be checkpointed (a reader "
                "held it); it is checkpointed again when the store is next opened")

    # -- migration ----------------------------------------------------------------------

    def adopt_subjects_of(self, old: KeyStore) -> None:
        """Take over ``old``'s subjects but none of its keys: its customer lookups (with
        the secret they are computed under, so an address finds the subject it had) and
        its erased subjects, so what was erased there stays erased here. For the new,
        empty key store of ``opsledger migrate encrypt``; keys are made anew on use."""
        with old._lock:
            index = old._db.execute("SELECT lookup, subject FROM customer_index").fetchall()
            erased = old._db.execute("SELECT subject, erased_at FROM erased").fetchall()
            gone = old._db.execute("SELECT lookup, subject FROM erased_customers").fetchall()
        with self._lock:
            if self._db.execute("SELECT 1 FROM subject_keys UNION ALL SELECT 1 FROM"
                                " customer_index LIMIT 1").fetchone() is not None:
                raise ValueError(f"{self.path} already holds subjects")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if old._index_secret:  # (an old store without one has no customers)
                    self._db.execute("UPDATE secrets SET value = ? WHERE name ="
                                     " 'customer_index'", (old._index_secret,))
                self._db.executemany("INSERT INTO customer_index VALUES (?, ?)", index)
                self._db.executemany("INSERT OR IGNORE INTO erased VALUES (?, ?)", erased)
                self._db.executemany("INSERT OR IGNORE INTO erased_customers VALUES (?, ?)",
                                     gone)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._index_secret = old._index_secret or self._index_secret

    def close(self) -> None:
        with self._lock:
            self._db.close()
