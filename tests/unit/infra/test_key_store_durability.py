"""The key store's commits, as specifications: a key is durable once made (a WAL
fsynced by every commit), a new customer costs one commit, and an erasure leaves its
key in no byte of the store's files, its WAL included, even when the process stopped
before the WAL was cut (the next open cuts it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from infra.personal.keys import KeyStore

ADA = "member:00000000-0000-4000-8000-000000000001"


def on_disk(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())


def in_a_process_that_dies(code: str) -> str:
    """``code`` run with a key store in a child process that ends without closing it
    (``os._exit``: no checkpoint, no clean-up); what it printed."""
    script = textwrap.dedent(code) + "\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout.strip()


def test_a_commit_is_one_fsynced_append_to_a_wal(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.sqlite")
    assert keys._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert keys._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_key_made_by_a_process_that_dies_is_there_for_the_next(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    made = in_a_process_that_dies(f"""
        from infra.personal.keys import KeyStore
        print(KeyStore({str(path)!r}).key_for_new_data({ADA!r}).hex())
    """)

    assert KeyStore(path).key(ADA) == bytes.fromhex(made)


def test_a_new_customer_s_subject_and_key_are_made_in_one_commit(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.sqlite")
    statements: list[str] = []
    keys._db.set_trace_callback(statements.append)

    subject = keys.customer_subject("cy@example.net")
    key = keys.key_for_new_data(subject)

    assert key is not None and keys.key(subject) == key
    assert sum(s.strip().upper() == "COMMIT" for s in statements) == 1
    assert not any(s.upper().startswith("INSERT") for s in statements[
        [s.strip().upper() for s in statements].index("COMMIT"):])


def test_an_erasure_leaves_the_key_in_neither_the_file_nor_its_wal(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.sqlite")
    key = keys.key_for_new_data(ADA)
    other = keys.key_for_new_data("member:00000000-0000-4000-8000-000000000002")
    assert key is not None and key in on_disk(tmp_path)
    assert (tmp_path / "keys.sqlite-wal").exists()  # the store is open: its WAL is there

    keys.erase(ADA)

    assert key not in on_disk(tmp_path)
    assert other is not None and keys.key("member:00000000-0000-4000-8000-000000000002") == other


def test_an_erasure_cut_short_before_its_checkpoint_is_finished_by_the_next_open(
        tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    made = in_a_process_that_dies(f"""
        from infra.personal.keys import KeyStore
        keys = KeyStore({str(path)!r})
        key = keys.key_for_new_data({ADA!r})
        keys._truncate_wal = lambda: None  # the process stops right after the commit
        keys.erase({ADA!r})
        print(key.hex())
    """)
    key = bytes.fromhex(made)
    assert key in on_disk(tmp_path)  # the WAL still holds the page the key was on

    reopened = KeyStore(path)

    assert reopened.key(ADA) is None and reopened.is_erased(ADA)
    assert key not in on_disk(tmp_path)
