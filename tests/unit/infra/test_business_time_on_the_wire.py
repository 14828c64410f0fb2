"""Business time on the wire: the CloudEvent ``time`` is when an event happened, the
extension ``recordedtime`` when it was recorded (if that is another moment), and
everything stored, published or exported before business time existed still
verifies, byte for byte.

The events "from before" are literal: the stored states, CloudEvents and audit
records the previous build wrote for a team formed at 09:00 and a member who joined
at 09:05 (recorded then; no ``occurred_at`` anywhere).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest

from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService
from infra.audit.restore import restore
from infra.audit.verify import verify_cloudevents, verify_store
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

TEAM = "00000000-0000-4000-8000-00000000000a"
STORED_BEFORE = [
    ("domain.teams.aggregate:Team.TeamFormed",
     '{"timestamp":{"_type_":"datetime_iso","_data_":"2025-03-03T09:00:00+00:00"},'
     '"originator_topic":"domain.teams.aggregate:Team","meta":{"actor":"user:alice",'
     '"correlation_id":"corr-1","causation_id":"cause-1"},"name":"SRE",'
     '"mission":"Keep it up"}'),
    ("domain.teams.aggregate:Team.MemberJoined",
     '{"timestamp":{"_type_":"datetime_iso","_data_":"2025-03-03T09:05:00+00:00"},'
     '"meta":{"actor":"user:alice","correlation_id":"corr-2","causation_id":"cause-2"},'
     '"member_id":"00000000-0000-4000-8000-000000000001","name":"Ada",'
     '"email":"ada@x.test","role":"engineer","responsibilities":[],"principal":null}'),
]
PUBLISHED_BEFORE: list[dict[str, Any]] = [json.loads(line) for line in (
    '{"actor": "user:alice", "causationid": "cause-1", "correlationid": "corr-1", "data": '
    '{"mission": "Keep it up", "name": "SRE"}, "datacontenttype": "application/json", '
    '"hash": "646c5b7af5349a85c4ae9e7720267b7401b6a87a722d76344944c48fc30ed83c", '
    '"id": "302fc6f2-19c2-5df5-a3e7-9d6b8356f823", "position": 1, "prevhash": '
    '"0000000000000000000000000000000000000000000000000000000000000000", '
    '"source": "urn:opsledger:teams", "specversion": "1.0", "streamversion": 1, '
    '"subject": "00000000-0000-4000-8000-00000000000a", '
    '"time": "2025-03-03T09:00:00.000000Z", "type": "opsledger.teams.TeamFormed.v1"}',
    '{"actor": "user:alice", "causationid": "cause-2", "correlationid": "corr-2", "data": '
    '{"email": "ada@x.test", "member_id": "00000000-0000-4000-8000-000000000001", '
    '"name": "Ada", "principal": null, "responsibilities": [], "role": "engineer"}, '
    '"datacontenttype": "application/json", '
    '"hash": "5db1018aac682b592f33349f2f8660910cf97e24a93f9fc23ad9933b584c0ab0", '
    '"id": "fb135825-4917-5dda-964f-81af6ce52df5", "position": 3, '
    '"prevhash": "646c5b7af5349a85c4ae9e7720267b7401b6a87a722d76344944c48fc30ed83c", '
    '"source": "urn:opsledger:teams", "specversion": "1.0", "streamversion": 2, '
    '"subject": "00000000-0000-4000-8000-00000000000a", '
    '"time": "2025-03-03T09:05:00.000000Z", "type": "opsledger.teams.MemberJoined.v1"}',
)]
EXPORTED_BEFORE = (  # a line of `opsledger audit export --format jsonl`, as it was
    '{"id":"fb135825-4917-5dda-964f-81af6ce52df5","position":3,'
    '"time":"2025-03-03T09:05:00.000000Z","actor":"user:alice",'
    '"type":"opsledger.teams.MemberJoined.v1","name":"MemberJoined","context":"teams",'
    '"entity_id":"00000000-0000-4000-8000-00000000000a","team_id":'
    '"00000000-0000-4000-8000-00000000000a","entity_version":2,"reason":null,'
    '"data":{"member_id":"00000000-0000-4000-8000-000000000001","name":"Ada",'
    '"email":"ada@x.test","role":"engineer","responsibilities":[],"principal":null},'
    '"correlation_id":"corr-2","causation_id":"cause-2",'
    '"prev_hash":"646c5b7af5349a85c4ae9e7720267b7401b6a87a722d76344944c48fc30ed83c",'
    '"hash":"5db1018aac682b592f33349f2f8660910cf97e24a93f9fc23ad9933b584c0ab0"}'
)


def stored_states(path: Path) -> list[tuple[str, bytes]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT topic, state FROM stored_events ORDER BY rowid").fetchall()
    return [(topic, bytes(state)) for topic, state in rows]


def backdated_history(ledger: Ledger) -> None:
    """A team formed at 09:00 and a member who joined at 09:05, both entered at 10:00,
    and a second member who joined when recorded (10:01, no occurred_at)."""
    teams = TeamService(ledger)
    entered = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
    team = teams.form(tc.FormTeam("SRE", team_id=UUID(TEAM)), CommandContext(CommandMeta(
        "user:alice", now=entered, occurred_at=datetime(2025, 3, 3, 9, 0, tzinfo=UTC))))
    teams.add_member(tc.AddMember(team.id, "Ada", "ada@x.test", "engineer"), CommandContext(
        CommandMeta("user:alice", now=entered,
                    occurred_at=datetime(2025, 3, 3, 9, 5, tzinfo=UTC))))
    teams.add_member(tc.AddMember(team.id, "Bob", "bob@x.test", "engineer"), CommandContext(
        CommandMeta("user:alice", now=datetime(2025, 3, 3, 10, 1, tzinfo=UTC))))


# -- what was written before business time still verifies -------------------------------


def test_kafka_records_published_before_still_verify_and_read_as_recorded_then() -> None:
    result = verify_cloudevents(PUBLISHED_BEFORE)

    assert result.ok, result.describe()
    joined = from_cloudevent(PUBLISHED_BEFORE[1])
    assert joined.occurred_at == joined.recorded_at == "2025-03-03T09:05:00.000000Z"
    assert to_cloudevent(joined) == PUBLISHED_BEFORE[1]  # the same bytes, the same hash


def test_a_store_written_before_still_verifies_with_its_old_chain(tmp_path: Path) -> None:
    """Restored from the old records, the store holds exactly the old stored states,
    with the old chain links, and verifies: the chain covers what it covered before."""
    settings = Settings(data_dir=tmp_path)
    ledger = open_ledger(settings)

    restore(PUBLISHED_BEFORE, ledger, str(settings.event_store_path))

    assert [(topic, state) for topic, state in stored_states(settings.event_store_path)] == [
        (topic, state.encode()) for topic, state in STORED_BEFORE]
    result = verify_store(ledger)
    assert result.ok, result.describe()
    assert result.head_hash == PUBLISHED_BEFORE[-1]["hash"]
    envelopes = list(iter_envelopes(ledger))
    assert [to_cloudevent(e) for e in envelopes] == PUBLISHED_BEFORE


def test_an_export_written_before_still_matches_its_hash() -> None:
    record = orjson.loads(EXPORTED_BEFORE)

    ce = cloudevent_of_audit_record(record)

    assert ce == PUBLISHED_BEFORE[1]
    assert link(record["prev_hash"], canonical_bytes(ce)) == record["hash"]


# -- new events carry both times, and the chain covers both ------------------------------


def test_the_cloudevent_time_is_when_it_happened_and_recordedtime_when_it_was_recorded(
) -> None:
    ledger = memory_ledger()
    backdated_history(ledger)

    formed, ada, bob = (to_cloudevent(e) for e in iter_envelopes(ledger))

    assert (formed["time"], formed["recordedtime"]) == (
        "2025-03-03T09:00:00.000000Z", "2025-03-03T10:00:00.000000Z")
    assert (ada["time"], ada["recordedtime"]) == (
        "2025-03-03T09:05:00.000000Z", "2025-03-03T10:00:00.000000Z")
    assert bob["time"] == "2025-03-03T10:01:00.000000Z" and "recordedtime" not in bob
    assert verify_cloudevents([formed, ada, bob]).ok
    for ce in (formed, ada, bob):
        assert to_cloudevent(from_cloudevent(ce)) == ce


@pytest.mark.parametrize("attribute", ["time", "recordedtime"])
def test_the_hash_chain_covers_both_times(attribute: str) -> None:
    ledger = memory_ledger()
    backdated_history(ledger)
    published = [to_cloudevent(e) for e in iter_envelopes(ledger)]

    published[1][attribute] = "2025-03-03T09:04:00.000000Z"

    result = verify_cloudevents(published)
    assert (result.ok, result.kind, result.broken_at) == (False, "altered",
                                                          published[1]["position"])


def test_a_store_with_business_times_is_restored_byte_for_byte(tmp_path: Path) -> None:
    lost = Settings(data_dir=tmp_path / "lost")
    original = open_ledger(lost)
    backdated_history(original)
    published = [to_cloudevent(e) for e in iter_envelopes(original)]
    target = Settings(data_dir=tmp_path / "restored")
    ledger = open_ledger(target)

    restore(published, ledger, str(target.event_store_path))

    public = [row for row in stored_states(lost.event_store_path) if ":Team." in row[0]]
    assert stored_states(target.event_store_path) == public
    assert verify_store(ledger).ok


def test_an_audit_record_of_a_backdated_event_rebuilds_its_cloudevent() -> None:
    ledger = memory_ledger()
    backdated_history(ledger)
    envelope = list(iter_envelopes(ledger))[1]

    record = AUDIT.evolve(None, envelope, lambda collection, doc_id: None)

    assert (record["time"], record["recorded_at"]) == (
        "2025-03-03T09:05:00.000000Z", "2025-03-03T10:00:00.000000Z")
    ce = cloudevent_of_audit_record(orjson.loads(orjson.dumps(record)))
    assert ce == to_cloudevent(envelope)
    assert link(record["prev_hash"], canonical_bytes(ce)) == record["hash"]


def test_kafka_carries_recordedtime_as_a_header_and_the_fast_path_agrees() -> None:
    ledger = memory_ledger()
    backdated_history(ledger)
    envelopes = list(iter_envelopes(ledger))

    _, _, headers = codec.encode(envelopes[1])

    assert (dict(headers)["ce_time"], dict(headers)["ce_recordedtime"]) == (
        b"2025-03-03T09:05:00.000000Z", b"2025-03-03T10:00:00.000000Z")
    assert "ce_recordedtime" not in dict(codec.encode(envelopes[2])[2])
    encoder = FastEncoder(ledger, Topics(), no_hashes)
    links = {row[0]: row for row in ledger.recorder.hashes(1, 100)}  # type: ignore[attr-defined]
    for n in ledger.recorder.select_notifications(1, 100):
        cls = encoder._event_class(n.topic)
        if cls.public:
            assert encoder._encode(n, cls, links[n.id]) == encoder._reference(n.id)


def test_the_published_schemas_accept_recordedtime_and_describe_both_times() -> None:
    schema = all_event_schemas()["opsledger.teams.MemberJoined.v1"]

    assert schema["properties"]["recordedtime"]["format"] == "date-time"
    assert "recordedtime" not in schema["required"]  # absent: recorded when it happened
    assert "happened" in schema["properties"]["time"]["description"]
