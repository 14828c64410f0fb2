"""The signed statement of ``opsledger migrate encrypt``: what links a new store, and its
new hash chain, to the old store it was written from.

It names the old head (position, hash) and the new head, with the counts (events,
records, fields sealed, fields stored as erased, subjects) and the time, signed with
the deployment's Ed25519 checkpoint key (:mod:`infra.audit.signing`) over every field.
An auditor who trusts that key and holds a signed checkpoint of the old store can so
follow the history across the migration: the checkpoint still holds in the old chain,
the old chain reaches the statement's old head, and the new chain reaches its new head.

:func:`check_statement` checks the signature with the key the verifier trusts (never
the one the file carries), then each store it is given: its chain verifies, and it
still has the statement's head hash at the statement's head position.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.ledger import Ledger
from infra.audit.signing import CheckpointError, sign_document, verified_body
from infra.audit.verify import verify_store
from infra.event_store import ledger_recorder
from infra.personal.migration import Migration

STATEMENT_FILE = "migration-statement.json"
KIND = "opsledger.migrate.encrypt"
VERSION = 1


class StatementError(ValueError):
    """The statement is malformed, not a migration statement, or its signature fails."""


def statement_body(migration: Migration, old_dir: Path, new_dir: Path) -> dict[str, Any]:
    return {
        "statement": KIND, "version": VERSION,
        "old": {"data_dir": str(old_dir.resolve()), "head_position": migration.old_head[0],
                "head_hash": migration.old_head[1]},
        "new": {"data_dir": str(new_dir.resolve()), "head_position": migration.new_head[0],
                "head_hash": migration.new_head[1]},
        "events": migration.events, "records": migration.records,
        "fields_sealed": migration.fields_sealed, "fields_erased": migration.fields_erased,
        "subjects": len(migration.subjects),
        "migrated_at": datetime.now(UTC).isoformat(),
    }


def sign_statement(new_dir: Path, body: dict[str, Any]) -> dict[str, Any]:
    """The statement signed with the checkpoint key in ``new_dir`` (carried over from
    the old folder, or made there)."""
    return sign_document(new_dir, body)


def write_statement(new_dir: Path, document: dict[str, Any]) -> Path:
    """Write the statement into the new folder, 0600; an existing one is never replaced."""
    path = new_dir / STATEMENT_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(document, indent=2) + "\n")
    return path


def read_statement(path: Path, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The statement's signed fields, once its signature verifies with ``public_key``."""
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StatementError(f"cannot read {path}: {e}") from None
    if not isinstance(document, dict) or document.get("statement") != KIND:
        raise StatementError(f"{path} is not a statement of opsledger migrate encrypt")
    try:
        body = verified_body(document, public_key)
    except CheckpointError as e:
        raise StatementError(str(e)) from None
    for side in ("old", "new"):
        head = body.get(side)
        if not (isinstance(head, dict) and isinstance(head.get("head_position"), int)
                and isinstance(head.get("head_hash"), str)):
            raise StatementError(f"{path}: malformed {side!r} head")
    return body


@dataclass
class StatementCheck:
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def fail(self, line: str) -> None:
        self.ok = False
        self.lines.append(line)


def check_statement(body: dict[str, Any], new: Ledger, old: Ledger | None = None, *,
                    progress: Callable[[str, int, int], None] | None = None,
                    ) -> StatementCheck:
    """Check each given store against the (already verified) statement ``body``."""
    check = StatementCheck()
    stores = [("new", new), *([("old", old)] if old is not None else [])]
    for side, ledger in stores:
        head = body[side]
        position, expected = head["head_position"], head["head_hash"]
        total = ledger.head_position()

        def report(done: int, side: str = side, total: int = total) -> None:
            if progress is not None:
                progress(f"verifying the {side} store", done, total)

        verified = verify_store(ledger, progress=report)
        if not verified.ok:
            check.fail(f"{side} store: its chain does not verify: {verified.describe()}")
            continue
        at = ledger_recorder(ledger).hash_at(position) if position else None
        found = at[1] if at is not None else None
        if position and found != expected:
            check.fail(f"{side} store: no hash {expected} at position {position} (found "
                       f"{found or 'nothing'}): not the store the statement names, or its "
                       "history was rewritten or cut")
            continue
        if side == "new" and verified.count != body.get("events"):
            check.fail(f"new store: {verified.count} events, the statement says "
                       f"{body.get('events')}")
            continue
        check.lines.append(f"{side} store: chain OK ({verified.count} events), head "
                           f"position {position} holds hash {expected}")
        if side == "old" and verified.head_position > position:
            check.lines.append(
                f"WARNING: the old store has events after position {position} (head "
                f"{verified.head_position}): they were stored after the migration and are "
                "not in the new store")
    return check
