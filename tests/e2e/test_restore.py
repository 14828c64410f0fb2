"""A lost event store is rebuilt from its published CloudEvents, byte for byte, and
the hash chain proves it (Kafka itself is exercised in tests/integration)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from domain.incidents import commands as ic
from domain.ledger import CommandContext
from domain.meta import CommandMeta
from domain.teams import commands as tc
from infra.audit.restore import restore
from infra.audit.verify import verify_store
from infra.contract.cloudevents import to_cloudevent
from infra.event_store import open_ledger
from infra.event_store.log import iter_envelopes
from infra.settings import Settings
from services.api.bootstrap import Runtime

TOKENS = ('{"restore-test-token-00": '
          '{"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}}')


def payloads(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        events = db.execute(
            "SELECT e.rowid, originator_id, originator_version, topic, state, h.prev_hash, "
            "h.hash FROM stored_events e JOIN event_hashes h ON h.position = e.rowid "
            "ORDER BY e.rowid").fetchall()
    return events


def test_restore_reproduces_payloads_and_hashes(tmp_path: Path) -> None:
    original = Runtime.open(Settings(data_dir=tmp_path / "lost", tokens=TOKENS), follow=False)
    ctx = CommandContext(CommandMeta("user:lead"))
    team = original.teams.form(tc.FormTeam("SRE", "keep it up"), ctx)
    member = original.teams.add_member(
        tc.AddMember(team.id, "Ada", "ada@example.com", "SRE", responsibilities=["db"]), ctx)
    keyed = CommandContext(ctx.meta, idempotency_key="k", fingerprint="f")  # one clock reading
    incident = original.incidents.open(ic.OpenIncident(team.id, "SEV1", "db", "down"), keyed)
    original.incidents.acknowledge(ic.Acknowledge(incident.id), ctx)
    original.incidents.assign_responder(ic.AssignResponder(incident.id, member.id), ctx)
    original.incidents.resolve(ic.Resolve(incident.id, "fixed", "disk"), ctx)
    published = [to_cloudevent(e) for e in iter_envelopes(original.ledger)]
    lost = original.settings.event_store_path
    original.close()

    target = Settings(data_dir=tmp_path / "restored", tokens=TOKENS)
    ledger = open_ledger(target)
    count = restore(reversed(published), ledger, str(target.event_store_path))

    assert count == 6
    assert payloads(target.event_store_path) == payloads(lost)
    result = verify_store(ledger)
    assert result.ok, result.describe()
    assert result.head_hash == payloads(lost)[-1][-1]
