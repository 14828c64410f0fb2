"""Any change to a stored event is detected, and verify names the position."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.ledger import CommandContext
from domain.meta import CommandMeta
from domain.teams import commands as c
from infra.audit.verify import verify_store
from infra.settings import Settings
from services.api.bootstrap import Runtime

TOKENS = ('{"tamper-test-token-000": {"principal": "user:admin", "roles": ["admin"], '
          '"teams": ["*"]}}')
UNDECODABLE = "altered (the stored event cannot be decoded)"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Runtime, Path]]:
    settings = Settings(data_dir=tmp_path, tokens=TOKENS)
    runtime = Runtime.open(settings, follow=False)
    ctx = CommandContext(CommandMeta("user:admin"))
    team = runtime.teams.form(c.FormTeam("SRE"), ctx)
    for n in range(9):
        runtime.teams.add_member(
            c.AddMember(team.id, f"Member {n}", f"m{n}@example.com", "SRE"), ctx)
    # Public events at odd positions (team 1, member n at 2n + 3); each even position
    # holds the member directory's private record saved with the join after it.
    yield runtime, settings.event_store_path
    runtime.close()


def tamper(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as db:
        for sql in statements:
            db.execute(sql)


def test_an_untouched_store_verifies(store: tuple[Runtime, Path]) -> None:
    runtime, _ = store
    result = verify_store(runtime.ledger)
    assert result.ok, result.describe()
    assert (result.count, result.head_position) == (10, 19)
    assert result.head_hash == runtime.ledger.recorder.head_hash()[1]


def test_a_changed_byte_is_named_as_altered(store: tuple[Runtime, Path]) -> None:
    runtime, path = store
    tamper(path, "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
                 "'\"SRE\"', '\"SRX\"') AS BLOB) WHERE rowid = 11")
    result = verify_store(runtime.ledger)
    assert (result.ok, result.broken_at, result.kind) == (False, 11, "altered")


def test_a_deleted_row_is_named_as_missing(store: tuple[Runtime, Path]) -> None:
    runtime, path = store
    tamper(path, "DELETE FROM stored_events WHERE rowid = 5")
    result = verify_store(runtime.ledger)
    assert (result.ok, result.broken_at, result.kind) == (False, 5, "missing")


def test_a_deleted_row_and_its_link_are_still_missing(store: tuple[Runtime, Path]) -> None:
    runtime, path = store
    tamper(path, "DELETE FROM stored_events WHERE rowid = 5",
           "DELETE FROM event_hashes WHERE position = 5")
    result = verify_store(runtime.ledger)
    assert (result.ok, result.broken_at, result.kind) == (False, 7, "missing")


def test_swapped_rows_are_named_as_reordered(store: tuple[Runtime, Path]) -> None:
    runtime, path = store
    tamper(path,
           "UPDATE stored_events SET rowid = 100 WHERE rowid = 3",
           "UPDATE stored_events SET rowid = 3 WHERE rowid = 7",
           "UPDATE stored_events SET rowid = 7 WHERE rowid = 100")
    result = verify_store(runtime.ledger)
    assert (result.ok, result.broken_at, result.kind) == (False, 3, "reordered")


def test_an_inserted_event_is_named(store: tuple[Runtime, Path]) -> None:
    runtime, path = store
    tamper(path, "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, "
                 "state) SELECT 20, originator_id, 99, topic, state FROM stored_events "
                 "WHERE rowid = 19")
    result = verify_store(runtime.ledger)
    assert (result.ok, result.broken_at, result.kind) == (False, 20, "inserted")


def test_verify_can_start_from_a_position(store: tuple[Runtime, Path]) -> None:
    runtime, path = store
    tamper(path, "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
                 "'\"SRE\"', '\"SRY\"') AS BLOB) WHERE rowid = 5")
    assert verify_store(runtime.ledger).broken_at == 5
    later = verify_store(runtime.ledger, start=7)
    assert later.ok and later.count == 7


def flip_byte(path: Path, position: int, column: str, at: int) -> None:
    """Flip one byte of a stored event's ``column`` (XOR 0x01), as a bad disk or a
    careless hand would."""
    with sqlite3.connect(path) as db:
        (value,) = db.execute(f"SELECT {column} FROM stored_events WHERE rowid = ?",
                              (position,)).fetchone()
        raw = bytearray(value if isinstance(value, bytes) else value.encode())
        raw[at] ^= 0x01
        new: bytes | str = bytes(raw) if isinstance(value, bytes) else raw.decode()
        db.execute(f"UPDATE stored_events SET {column} = ? WHERE rowid = ?", (new, position))


def verify_cli(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "verify", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"OPSLEDGER_TOKENS": TOKENS, "PATH": "/usr/bin:/bin"},
    )


def test_an_event_whose_json_no_longer_decodes_is_named_as_altered(
    store: tuple[Runtime, Path]
) -> None:
    # Given the JSON of the event at position 7 with its opening brace flipped to 'z'
    runtime, path = store
    flip_byte(path, 7, "state", 0)
    # When the chain is verified
    result = verify_store(runtime.ledger)
    # Then position 7 is altered, because it cannot be decoded, and the cause is kept
    assert (result.ok, result.broken_at, result.kind) == (False, 7, "altered")
    assert result.describe() == f"BROKEN at position 7: {UNDECODABLE}"
    assert "MapperDeserialisationError" in result.cause


def test_an_event_whose_topic_no_longer_resolves_is_named_as_altered(
    store: tuple[Runtime, Path]
) -> None:
    # Given one byte flipped in the stored topic of the event at position 3
    runtime, path = store
    flip_byte(path, 3, "topic", 2)
    result = verify_store(runtime.ledger)
    assert result.describe() == f"BROKEN at position 3: {UNDECODABLE}"


def test_an_earlier_break_is_still_reported_first(store: tuple[Runtime, Path]) -> None:
    # Given a deleted event at position 3 and a garbled one at position 9
    runtime, path = store
    tamper(path, "DELETE FROM stored_events WHERE rowid = 3")
    flip_byte(path, 9, "state", 1)
    # Then verify names the first: position 3, missing; from position 5 on, the garbled one
    assert (verify_store(runtime.ledger).broken_at, verify_store(runtime.ledger).kind) == (
        3, "missing")
    assert verify_store(runtime.ledger, start=5).describe() == (
        f"BROKEN at position 9: {UNDECODABLE}")


def test_opsledger_verify_reports_a_garbled_event_and_exits_non_zero_without_a_traceback(
    store: tuple[Runtime, Path]
) -> None:
    # Given a store whose event at position 7 no longer decodes
    runtime, path = store
    flip_byte(path, 7, "state", 0)
    # When an auditor runs `opsledger verify`
    proc = verify_cli(runtime.settings.data_dir)
    # Then it prints the verdict, exits non-zero and shows no traceback
    assert proc.stdout.splitlines()[0] == f"BROKEN at position 7: {UNDECODABLE}", (
        proc.stdout + proc.stderr)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "MapperDeserialisationError" in proc.stderr  # the cause, for the operator
