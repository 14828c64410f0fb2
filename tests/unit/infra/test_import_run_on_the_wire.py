"""The import run an event was recorded in, on the wire: the CloudEvent extension
``importrun`` (only then: other events keep their bytes), covered by the hash chain,
restored into the event's meta, carried in Kafka headers and by the fast path, and
rebuilt from an audit record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from domain.imports.service import ImportService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService
from infra.audit.restore import restore
from infra.audit.verify import verify_store
from infra.contract.cloudevents import cloudevent_of_audit_record, from_cloudevent, to_cloudevent
from infra.contract.schemas import all_event_schemas
from infra.event_store import open_ledger
from infra.event_store.hash_chain import canonical_bytes, link
from infra.event_store.log import iter_envelopes
from infra.event_store.memory import memory_ledger
from infra.kafka import codec
from infra.kafka.relay import no_hashes
from infra.kafka.relay.fast_path import FastEncoder
from infra.kafka.topics import Topics
from infra.settings import Settings
from projections.audit_trail import FOLD as AUDIT
from tests.unit.infra.test_business_time_on_the_wire import stored_states

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def imported_history(ledger: Ledger) -> str:
    """A run opened, a team formed in it long before, another formed outside it."""
    admin = CommandContext(CommandMeta(actor="user:admin", now=NOW))
    run = str(ImportService(ledger).open("csv", "history", admin).id)
    TeamService(ledger).form(tc.FormTeam("SRE"), CommandContext(CommandMeta(
        actor="user:lena", now=NOW, occurred_at=datetime(2024, 1, 2, tzinfo=UTC),
        import_run_id=run)))
    TeamService(ledger).form(tc.FormTeam("DBA"), admin)
    return run


def test_only_an_event_in_a_run_names_it_and_the_chain_covers_it() -> None:
    ledger = memory_ledger()
    run = imported_history(ledger)
    opened, imported, outside = (to_cloudevent(e) for e in iter_envelopes(ledger))

    assert imported["importrun"] == run
    assert "importrun" not in opened and "importrun" not in outside
    assert from_cloudevent(imported).import_run_id == run
    unnamed = {k: v for k, v in imported.items() if k not in {"importrun", "hash", "prevhash"}}
    assert link(imported["prevhash"], canonical_bytes(unnamed)) != imported["hash"]
    assert link(imported["prevhash"], canonical_bytes(
        {k: v for k, v in imported.items() if k not in {"hash", "prevhash"}})) == imported["hash"]


def test_a_store_with_import_runs_is_restored_byte_for_byte(tmp_path: Path) -> None:
    lost = Settings(data_dir=tmp_path / "lost")
    original = open_ledger(lost)
    imported_history(original)
    published = [to_cloudevent(e) for e in iter_envelopes(original)]
    target = Settings(data_dir=tmp_path / "restored")
    ledger = open_ledger(target)

    restore(published, ledger, str(target.event_store_path))

    public = [row for row in stored_states(lost.event_store_path)
              if ":Team." in row[0] or ":ImportRun." in row[0]]
    assert stored_states(target.event_store_path) == public
    assert verify_store(ledger).ok


def test_an_audit_record_of_an_imported_event_rebuilds_its_cloudevent() -> None:
    ledger = memory_ledger()
    imported_history(ledger)
    envelope = list(iter_envelopes(ledger))[1]

    record = AUDIT.evolve(None, envelope, lambda collection, doc_id: None)

    ce = cloudevent_of_audit_record(orjson.loads(orjson.dumps(record)))
    assert ce == to_cloudevent(envelope)
    assert link(record["prev_hash"], canonical_bytes(ce)) == record["hash"]


def test_kafka_carries_importrun_as_a_header_and_the_fast_path_agrees() -> None:
    ledger = memory_ledger()
    run = imported_history(ledger)
    envelopes = list(iter_envelopes(ledger))

    assert dict(codec.encode(envelopes[1])[2])["ce_importrun"] == run.encode()
    assert "ce_importrun" not in dict(codec.encode(envelopes[2])[2])
    encoder = FastEncoder(ledger, Topics(), no_hashes)
    links = {row[0]: row for row in ledger.recorder.hashes(1, 100)}  # type: ignore[attr-defined]
    for n in ledger.recorder.select_notifications(1, 100):
        cls = encoder._event_class(n.topic)
        if cls.public:
            assert encoder._encode(n, cls, links[n.id]) == encoder._reference(n.id)


def test_the_published_schemas_accept_importrun_as_optional() -> None:
    schema = all_event_schemas()["opsledger.teams.TeamFormed.v1"]
    assert schema["properties"]["importrun"]["format"] == "uuid"
    assert "importrun" not in schema["required"]
    assert "opsledger.imports.ImportRunOpened.v1" in all_event_schemas()
