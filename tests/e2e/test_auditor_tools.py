"""Auditors' tools on the embedded default: verify, signed checkpoints, replay as-of,
evidence export, all through the ``opsledger`` command line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.envelope import iso_time
from domain.incidents import commands as ic
from domain.ledger import CommandContext
from domain.meta import CommandMeta, utcnow
from domain.teams import commands as tc
from infra.event_store import key_store
from infra.event_store.log import iter_envelopes
from infra.personal.reveal import revealing
from infra.projecting.replay import replay
from infra.read_store.sqlite import SQLiteReadStore
from infra.settings import Settings
from projections.catalog import INDEXED_FIELDS
from services.api.bootstrap import Runtime

TOKENS = ('{"auditor-tools-token-0": {"principal": "user:admin", "roles": ["admin"], '
          '"teams": ["*"]}}')


def cli(*args: str, data_dir: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"OPSLEDGER_TOKENS": TOKENS, "PATH": "/usr/bin:/bin"},
    )
    if check:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def snapshot(store: SQLiteReadStore) -> dict[str, list[dict[str, Any]]]:
    return {c: sorted((d for d in store.iter_find(c, {})), key=lambda d: d["_id"])
            for c in INDEXED_FIELDS}


def some_history(runtime: Runtime, n: int, tag: str) -> None:
    ctx = CommandContext(CommandMeta("user:lead"))
    team = runtime.teams.form(tc.FormTeam(f"Team {tag}"), ctx)
    for i in range(n):
        runtime.teams.add_member(
            tc.AddMember(team.id, f"{tag} {i}", f"{tag.lower()}{i}@example.com", "SRE"), ctx)
        incident = runtime.incidents.open(
            ic.OpenIncident(team.id, "SEV3", "api", f"{tag} slow {i}"), ctx)
        runtime.incidents.acknowledge(ic.Acknowledge(incident.id), ctx)


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    rt = Runtime.open(Settings(data_dir=tmp_path / "data", tokens=TOKENS))
    yield rt
    rt.close()


def test_replay_as_of_equals_the_live_read_models_at_that_time(
    runtime: Runtime, tmp_path: Path
) -> None:
    some_history(runtime, 5, "Before")
    assert runtime.wait_for(runtime.ledger.head_position(), 10)
    live_then = snapshot(runtime.store)  # type: ignore[arg-type]
    as_of = iso_time(utcnow())
    time.sleep(0.01)
    some_history(runtime, 5, "After")
    assert runtime.wait_for(runtime.ledger.head_position(), 10)

    replayed = SQLiteReadStore(tmp_path / "asof.sqlite")
    stats = replay(iter_envelopes(runtime.ledger), replayed, as_of=as_of, batch=7)
    # Read as the live models are: personal data opened with the same keys.
    target = revealing(replayed, key_store(runtime.ledger))
    assert stats.events == 16
    assert snapshot(target) == live_then  # type: ignore[arg-type]
    assert snapshot(target) != snapshot(runtime.store)  # type: ignore[arg-type]


def test_replay_into_the_live_store_is_refused(runtime: Runtime) -> None:
    some_history(runtime, 1, "X")
    data = runtime.settings.data_dir
    proc = cli("replay", "--as-of", "2030-01-01T00:00:00", "--into", str(data),
               data_dir=data, check=False)
    assert proc.returncode == 2
    assert "refusing" in proc.stderr


def test_a_replay_whose_store_writer_fails_says_why_and_publishes_nothing(
    runtime: Runtime, tmp_path: Path,
) -> None:
    """The read store is written by a child process: its failure reaches the auditor
    as one sentence, not a traceback."""
    some_history(runtime, 1, "X")
    into = tmp_path / "asof"
    (into / "readmodels.sqlite.partial").mkdir(parents=True)  # the writer cannot clear it

    proc = cli("replay", "--as-of", "2030-01-01T00:00:00", "--into", str(into),
               data_dir=runtime.settings.data_dir, check=False)

    assert proc.returncode == 1
    assert "replay failed: writing the read store failed: " in proc.stderr
    assert "nothing was published" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (into / "readmodels.sqlite").exists()


def test_the_cli_verifies_signs_and_proves_a_checkpoint(runtime: Runtime,
                                                       tmp_path: Path) -> None:
    some_history(runtime, 3, "Cp")
    data = runtime.settings.data_dir
    ok = cli("verify", data_dir=data)
    assert ok.stdout.startswith("OK: 10 events verified")
    cli("checkpoint", "sign", "--out", str(tmp_path / "cp.json"), data_dir=data)
    key = cli("checkpoint", "public-key", data_dir=data).stdout
    (tmp_path / "auditor.pem").write_text(key)
    proved = cli("verify", "--checkpoint", str(tmp_path / "cp.json"), "--public-key",
                 str(tmp_path / "auditor.pem"), data_dir=data)
    assert "checkpoint OK" in proved.stdout

    forged = json.loads((tmp_path / "cp.json").read_text())
    forged["position"] = 1
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    bad = cli("verify", "--checkpoint", str(tmp_path / "forged.json"), data_dir=data,
              check=False)
    assert bad.returncode == 1 and "CHECKPOINT INVALID" in bad.stdout

    with sqlite3.connect(runtime.settings.event_store_path) as db:  # rewrite history
        db.execute("DELETE FROM stored_events WHERE rowid = 3")  # 2: a directory record
    broken = cli("verify", data_dir=data, check=False)
    assert broken.returncode == 1
    assert broken.stdout.startswith("BROKEN at position 3: missing")


def test_the_cli_exports_filtered_evidence(runtime: Runtime, tmp_path: Path) -> None:
    some_history(runtime, 3, "Ex")
    assert runtime.wait_for(runtime.ledger.head_position(), 10)
    data = runtime.settings.data_dir
    out = tmp_path / "audit.jsonl"
    cli("audit", "export", "--format", "jsonl", "--out", str(out),
        "--type", "opsledger.incidents.IncidentAcknowledged.v1", data_dir=data)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3
    assert all(len(r["hash"]) == 64 for r in records)
    csv_out = cli("audit", "export", "--format", "csv", data_dir=data).stdout.splitlines()
    assert csv_out[0].startswith("position,time,actor,type")
    assert len(csv_out) == 11


def test_the_cli_export_filters_on_when_it_happened_and_when_it_was_recorded(
    runtime: Runtime, tmp_path: Path,
) -> None:
    """A team formed a week ago and entered now, and one formed now: ``--since``/
    ``--until`` select by when it happened, ``--recorded-since``/``--recorded-until``
    by when it was recorded."""
    now = utcnow()
    week_ago = now - timedelta(days=7)
    runtime.teams.form(tc.FormTeam("Moved over"), CommandContext(CommandMeta(
        "user:lead", now=now, occurred_at=week_ago)))
    runtime.teams.form(tc.FormTeam("New"), CommandContext(CommandMeta("user:lead", now=now)))
    assert runtime.wait_for(runtime.ledger.head_position(), 10)
    data = runtime.settings.data_dir

    def exported(*filters: str) -> list[tuple[str, str, str]]:
        out = cli("audit", "export", "--format", "jsonl", *filters, data_dir=data).stdout
        records = [json.loads(line) for line in out.splitlines()]
        return [(r["data"]["name"], r["time"], r["recorded_at"]) for r in records]

    day_ago = iso_time(now - timedelta(days=1))
    assert exported("--until", day_ago) == [("Moved over", iso_time(week_ago), iso_time(now))]
    assert [name for name, _, _ in exported("--since", day_ago)] == ["New"]
    assert [name for name, _, _ in exported("--recorded-since", day_ago)] == [
        "Moved over", "New"]
    assert exported("--recorded-until", day_ago) == []


def test_the_cli_replays_as_things_stood_at_a_business_time_as_known_at_a_recording_time(
    runtime: Runtime, tmp_path: Path,
) -> None:
    """An incident opened 30 minutes ago (entered then) and acknowledged 25 minutes ago
    (entered 5 minutes ago): at 20 minutes ago, as known 10 minutes ago, it was open;
    as known now, acknowledged; ``--effective-at`` alone, or neither flag."""
    now = utcnow()

    def at(minutes: float) -> CommandContext:
        return CommandContext(CommandMeta("user:lead", now=now - timedelta(minutes=minutes)))

    team = runtime.teams.form(tc.FormTeam("Replayed"), at(60))
    incident = runtime.incidents.open(ic.OpenIncident(team.id, "SEV2", "api", "slow"), at(30))
    late = CommandContext(CommandMeta("user:lead", now=now - timedelta(minutes=5),
                                      occurred_at=now - timedelta(minutes=25)))
    runtime.incidents.acknowledge(ic.Acknowledge(incident.id), late)
    assert runtime.wait_for(runtime.ledger.head_position(), 10)
    data = runtime.settings.data_dir
    twenty_ago = iso_time(now - timedelta(minutes=20))

    def status(folder: str, *flags: str) -> str:
        cli("replay", *flags, "--into", str(tmp_path / folder), data_dir=data)
        store = SQLiteReadStore(tmp_path / folder / "readmodels.sqlite")
        found = store.get("incidents", str(incident.id))
        store.close()
        return str(found["status"]) if found else "unknown"

    assert status("then", "--effective-at", twenty_ago,
                  "--as-of", iso_time(now - timedelta(minutes=10))) == "open"
    assert status("now", "--effective-at", twenty_ago) == "acknowledged"
    assert status("earlier", "--effective-at", iso_time(now - timedelta(minutes=40))) == "unknown"
    neither = cli("replay", "--into", str(tmp_path / "x"), data_dir=data, check=False)
    assert neither.returncode == 2 and "--effective-at" in neither.stderr
