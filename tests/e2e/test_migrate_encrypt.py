"""``opsledger migrate encrypt``: given an old store whose personal data was stored in
plaintext before sealing existed (and, later, sealed, with one member erased), when it
is migrated, then the new store holds the same events sealed under new keys, with no
plaintext in any byte of the new folder, while the API shows the plaintext; the erased
member's old plaintext is gone too; verify says OK; the signed statement checks against
both stores and fails when tampered with; and the old folder is not changed.

One old store is made and migrated once for the module (the command line runs in
subprocesses); each test checks one edge of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from domain.aggregate import EVENT_CLASSES
from domain.feedback import commands as fc
from domain.feedback.aggregate import Customer
from domain.feedback.service import FeedbackService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.personal import ERASED, personal_fields
from domain.teams import commands as tc
from domain.teams.service import TeamService
from infra.audit.statement import STATEMENT_FILE
from infra.audit.verify import verify_store
from infra.auth import ensure_admin_token
from infra.event_store import chained, ledger_env, read_only_ledger
from infra.event_store.log import iter_envelopes
from infra.personal.keys import KeyStore
from infra.settings import Settings
from services.api.app import create_app
from tests.e2e.conftest import TOKENS, Api
from tests.e2e.test_auditor_tools import cli

BUSINESS_TIME = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@dataclass(frozen=True)
class Migrated:
    old: Settings
    new: Settings
    marker: str
    ids: dict[str, str]
    old_bytes: dict[str, str]
    """sha256 of every file of the old folder before the migration."""
    old_files_after: dict[str, str]
    checkpoint: Path
    """A checkpoint of the old store, signed before the migration."""
    output: str


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _plaintext_history(settings: Settings, marker: str) -> dict[str, str]:
    """As before sealing: a ledger whose mapper has no key store."""
    ledger = chained(Ledger(env=ledger_env(settings)))
    ctx = CommandContext(CommandMeta("user:admin", occurred_at=BUSINESS_TIME))
    teams, feedback = TeamService(ledger), FeedbackService(ledger)
    team = teams.form(tc.FormTeam("SRE"), ctx).id
    ann = teams.add_member(tc.AddMember(team, f"Ann {marker}", f"ann.{marker}@example.org",
                                        "SRE"), ctx).id
    bob = teams.add_member(tc.AddMember(team, f"Bob {marker}", f"bob.{marker}@example.org",
                                        "SRE"), ctx).id
    feedback.give(fc.GiveFeedback("peer", team, f"calm {marker}", subject_member_id=ann),
                  ctx)
    customer = Customer(name=f"Cy {marker}", email=f"cy.{marker}@example.net")
    said = feedback.give(fc.GiveFeedback("customer", team, f"slow {marker}",
                                         customer=customer), ctx).id
    eve = Customer(name=f"Eve {marker}", email=f"eve.{marker}@example.net")
    eve_said = feedback.give(fc.GiveFeedback("customer", team, f"rude {marker}",
                                             customer=eve), ctx).id
    ledger.close()
    assert f"Ann {marker}".encode() in settings.event_store_path.read_bytes()
    return {"team": str(team), "ann": str(ann), "bob": str(bob), "cy_feedback": str(said),
            "eve_feedback": str(eve_said)}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migrated]:
    folder = tmp_path_factory.mktemp("migrate")
    old = Settings(data_dir=folder / "old", tokens=json.dumps(TOKENS), min_position_timeout=5)
    new = Settings(data_dir=folder / "new", tokens=json.dumps(TOKENS), min_position_timeout=5)
    marker = uuid4().hex
    ids = _plaintext_history(old, marker)
    with TestClient(create_app(old)) as client:  # then sealing came, and an erasure
        api = Api(client)
        ids["dee"] = api.post(f"/v1/teams/{ids['team']}/members", {
            "name": f"Dee {marker}", "email": f"dee.{marker}@example.org", "role": "SRE"},
            expect=201).json()["id"]
        api.post("/v1/feedback", {"kind": "customer", "team_id": ids["team"],
                                  "text": f"fast {marker}", "customer": {
                                      "name": f"Cy {marker}",
                                      "email": f"cy.{marker}@example.net"}}, expect=201)
        api.post(f"/v1/members/{ids['bob']}/erase", {"reason": "asked"}, expect=201)
        # Eve gave feedback before and after sealing: erasing her reached only the latter.
        eve = {"name": f"Eve {marker}", "email": f"eve.{marker}@example.net"}
        api.post("/v1/feedback", {"kind": "customer", "team_id": ids["team"],
                                  "text": f"late {marker}", "customer": eve}, expect=201)
        api.post("/v1/customers/erase", {"email": eve["email"], "reason": "retention"},
                 expect=201)
        assert api.get(f"/v1/feedback/{ids['eve_feedback']}",
                       min_position=api.head())["customer"] == eve
    ensure_admin_token(old.data_dir)
    checkpoint = folder / "old-checkpoint.json"
    cli("checkpoint", "sign", "--out", str(checkpoint), data_dir=old.data_dir)
    before = _digests(old.data_dir)
    run = cli("migrate", "encrypt", "--into", str(new.data_dir), data_dir=old.data_dir)
    yield Migrated(old, new, marker, ids, before, _digests(old.data_dir), checkpoint,
                   run.stdout)


def test_no_byte_of_the_new_folder_holds_the_old_plaintext(migrated: Migrated) -> None:
    files = [p for p in migrated.new.data_dir.rglob("*") if p.is_file()]
    assert {"events.sqlite", "keys.sqlite", "readmodels.sqlite", STATEMENT_FILE} <= {
        p.name for p in files}
    assert [str(p) for p in files if migrated.marker.encode() in p.read_bytes()] == []
    stored = migrated.new.event_store_path.read_bytes()
    assert f"pii:v1:member:{migrated.ids['ann']}:".encode() in stored
    assert b"pii:v1:customer:" in stored
    assert migrated.marker.encode() in migrated.old.event_store_path.read_bytes()


def test_the_old_folder_is_not_changed(migrated: Migrated) -> None:
    after = migrated.old_files_after
    assert {name: after[name] for name in migrated.old_bytes} == migrated.old_bytes
    assert set(after) - set(migrated.old_bytes) <= {"events.sqlite-wal", "events.sqlite-shm"}


def test_the_api_on_the_new_folder_shows_the_plaintext_and_the_erased(
    migrated: Migrated,
) -> None:
    m, ids = migrated.marker, migrated.ids
    with TestClient(create_app(migrated.new)) as client:
        api = Api(client)
        ann = api.get(f"/v1/members/{ids['ann']}", min_position=api.head())
        assert (ann["name"], ann["email"]) == (f"Ann {m}", f"ann.{m}@example.org")
        assert api.get(f"/v1/members/{ids['dee']}")["name"] == f"Dee {m}"
        bob = api.get(f"/v1/members/{ids['bob']}")
        assert (bob["name"], bob["email"], bob["role"]) == (ERASED, ERASED, "SRE")
        said = api.get(f"/v1/feedback/{ids['cy_feedback']}")
        assert said["customer"] == {"name": f"Cy {m}", "email": f"cy.{m}@example.net"}
        assert said["text"] == f"slow {m}"
        eve = api.get(f"/v1/feedback/{ids['eve_feedback']}")
        assert eve["customer"] == {"name": ERASED, "email": ERASED}
        assert eve["text"] == ERASED


def _envelopes(settings: Settings) -> list[dict[str, Any]]:
    ledger = read_only_ledger(settings)
    try:
        return [e.as_dict() for e in iter_envelopes(ledger)]
    finally:
        ledger.close()


def test_the_same_events_in_the_same_order_with_a_new_chain(migrated: Migrated) -> None:
    old, new = _envelopes(migrated.old), _envelopes(migrated.new)

    def shape(e: dict[str, Any]) -> dict[str, Any]:
        data = {k: v for k, v in e["data"].items() if k not in _personal(e)}
        return {**{k: v for k, v in e.items() if k not in {"data", "prev_hash", "hash"}},
                "data": data}

    assert [shape(e) for e in new] == [shape(e) for e in old]
    assert BUSINESS_TIME.isoformat()[:19] in {e["occurred_at"][:19] for e in new}
    # Equal links up to the first sealed field (the same bytes), a new chain from there.
    first = next(i for i, e in enumerate(new) if _personal(e))
    assert first > 0
    assert [e["hash"] for e in new[:first]] == [e["hash"] for e in old[:first]]
    assert all(a["hash"] != b["hash"] for a, b in zip(old[first:], new[first:], strict=True))
    for e in new:
        for field in _personal(e):
            value = e["data"][field]
            values = value.values() if isinstance(value, dict) else [value]
            # A personal field left empty (a member with no principal) has nothing to seal.
            assert all(v is None or v == ERASED or v.startswith("pii:v1:") for v in values), e


def _personal(envelope: dict[str, Any]) -> set[str]:
    """The data fields ``envelope``'s event class declares personal (their heads)."""
    declared = personal_fields(EVENT_CLASSES[f"{envelope['context']}.{envelope['name']}"])
    return {path.split(".")[0] for path in declared}


def test_verify_says_ok_and_the_statement_links_both_stores(migrated: Migrated) -> None:
    assert "signed statement (0600)" in migrated.output
    path = migrated.new.data_dir / STATEMENT_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    statement = json.loads(path.read_text())
    old_ledger = read_only_ledger(migrated.old)
    try:
        old_head = old_ledger.recorder.head_hash()  # type: ignore[attr-defined]
    finally:
        old_ledger.close()
    assert (statement["old"]["head_position"], statement["old"]["head_hash"]) == old_head
    assert statement["events"] == len(_envelopes(migrated.old))
    # Bob's name and email, and Eve's three fields in each of her two feedbacks.
    assert statement["fields_erased"] == 2 + 3 + 3
    assert statement["subjects"] == 3  # Ann, Dee and Cy (one subject for both feedbacks)
    assert cli("verify", data_dir=migrated.new.data_dir).stdout.startswith("OK")
    checked = cli("migrate", "verify-statement", "--into", str(migrated.new.data_dir),
                  data_dir=migrated.old.data_dir).stdout
    assert "STATEMENT OK" in checked and "old store: chain OK" in checked, checked
    # The checkpoint key came along: the old checkpoint's key signed the statement.
    assert (migrated.new.data_dir / "keys" / "checkpoint-ed25519.pem").read_bytes() == (
        migrated.old.data_dir / "keys" / "checkpoint-ed25519.pem").read_bytes()
    assert (migrated.new.data_dir / "tokens.json").read_bytes() == (
        migrated.old.data_dir / "tokens.json").read_bytes()
    assert cli("verify", "--checkpoint", str(migrated.checkpoint),
               data_dir=migrated.old.data_dir).returncode == 0


def _tampered(migrated: Migrated, tmp_path: Path, change: dict[str, Any]) -> Path:
    statement = json.loads((migrated.new.data_dir / STATEMENT_FILE).read_text())
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps({**statement, **change}))
    return path


@pytest.mark.parametrize("change", [
    {"fields_sealed": 0},
    {"new": {"head_position": 1, "head_hash": "0" * 64}},
    {"signature": "AAAA"},
])
def test_a_tampered_statement_fails(migrated: Migrated, tmp_path: Path,
                                    change: dict[str, Any]) -> None:
    path = _tampered(migrated, tmp_path, change)
    run = cli("migrate", "verify-statement", "--into", str(migrated.new.data_dir),
              "--statement", str(path), data_dir=migrated.old.data_dir, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "STATEMENT INVALID" in run.stdout
    assert "Traceback" not in run.stderr


def test_a_statement_checked_against_another_store_fails(migrated: Migrated,
                                                          tmp_path: Path) -> None:
    other = Settings(data_dir=tmp_path / "other")
    _plaintext_history(other, "other")
    run = cli("migrate", "verify-statement", "--into", str(migrated.new.data_dir),
              data_dir=other.data_dir, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "old store: no hash" in run.stdout and "STATEMENT BROKEN" in run.stdout


def test_an_erasure_after_the_migration_erases(migrated: Migrated, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(migrated.new.data_dir, copy)
    settings = Settings(data_dir=copy, tokens=json.dumps(TOKENS), min_position_timeout=5)
    ann = migrated.ids["ann"]
    keys = KeyStore(settings.key_store_path)
    key = keys.key(f"member:{ann}")
    keys.close()
    assert key is not None
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        api.post(f"/v1/members/{ann}/erase", {"reason": "asked"}, expect=201)
        member = api.get(f"/v1/members/{ann}", min_position=api.head())
        assert (member["name"], member["email"]) == (ERASED, ERASED)
        assert verify_store(client.app.state.runtime.ledger).ok  # type: ignore[attr-defined]
    assert key not in settings.key_store_path.read_bytes()


def test_a_target_that_is_not_empty_is_refused(migrated: Migrated, tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    run = cli("migrate", "encrypt", "--into", str(target), data_dir=migrated.old.data_dir,
              check=False)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "is not an empty folder" in run.stderr and "Traceback" not in run.stderr
    assert os.listdir(target) == ["notes.txt"]



def test_without_read_models_the_next_start_builds_them(migrated: Migrated,
                                                         tmp_path: Path) -> None:
    target = tmp_path / "bare"
    cli("migrate", "encrypt", "--into", str(target), "--no-read-models",
        data_dir=migrated.old.data_dir)
    assert not (target / "readmodels.sqlite").exists()
    settings = Settings(data_dir=target, tokens=json.dumps(TOKENS), min_position_timeout=5)
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        ann = api.get(f"/v1/members/{migrated.ids['ann']}", min_position=api.head())
        assert ann["name"] == f"Ann {migrated.marker}"


def test_an_old_store_whose_chain_is_broken_is_refused_and_nothing_is_left(
    migrated: Migrated, tmp_path: Path,
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(migrated.old.data_dir, broken)
    with sqlite3.connect(broken / "events.sqlite") as db:
        db.execute("UPDATE stored_events SET state = replace(state, CAST('Ann ' AS BLOB),"
                   " CAST('Anne' AS BLOB))")
    target = tmp_path / "target"
    run = cli("migrate", "encrypt", "--into", str(target), data_dir=broken, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "chain does not verify" in run.stderr and "BROKEN at position" in run.stderr
    assert "Traceback" not in run.stderr
    assert not target.exists()


def test_a_statement_that_cannot_be_signed_leaves_nothing(migrated: Migrated,
                                                          tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(migrated.old.data_dir, old)
    (old / "keys" / "checkpoint-ed25519.pem").write_text("not a key\n")
    target = tmp_path / "target"
    target.mkdir()
    run = cli("migrate", "encrypt", "--into", str(target), data_dir=old, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "nothing was left" in run.stderr and "Traceback" not in run.stderr
    assert list(target.iterdir()) == []
