"""Verify over CloudEvents (Kafka) names a record that cannot be decoded as altered, at
the position it still names, in order with every other break; it never crashes."""

from __future__ import annotations

from typing import Any

import orjson
from kafka.consumer.fetcher import ConsumerRecord

from infra.audit.verify import UndecodableRecord, verify_cloudevents
from infra.event_store.hash_chain import GENESIS, canonical_bytes, link
from infra.kafka.codec import UndecodableRecordError, decode_cloudevent
from infra.kafka.reading import position_hint, undecodable_record

UNDECODABLE = "altered (the stored event cannot be decoded)"


def chain(n: int) -> list[dict[str, Any]]:
    events, prev = [], GENESIS
    for p in range(1, n + 1):
        ce = {"specversion": "1.0", "id": f"e{p}", "type": "opsledger.teams.TeamFormed.v1",
              "source": "opsledger", "subject": f"s{p}", "position": p, "data": {"n": p}}
        ce["prevhash"], ce["hash"] = prev, link(prev, canonical_bytes(ce))
        prev = ce["hash"]
        events.append(ce)
    return events


def record(value: bytes, headers: list[tuple[str, bytes]] | None = None,
           offset: int = 7) -> ConsumerRecord:
    return ConsumerRecord("t.teams.events", 1, -1, offset, 0, 0, b"k", value, headers or [],
                          None, 1, len(value), -1)


def garbled(ce: dict[str, Any]) -> bytes:
    raw = bytearray(orjson.dumps(ce))
    raw[0] ^= 0x01  # '{' -> 'z': no longer JSON
    return bytes(raw)


def test_a_record_that_no_longer_decodes_is_altered_at_the_position_it_names() -> None:
    # Given a chain of 6 whose record at position 4 has one byte flipped
    events = chain(6)
    value = garbled(events[3])
    try:
        decode_cloudevent(value)
        raise AssertionError("the garbled value decoded")
    except UndecodableRecordError as e:
        bad = undecodable_record(record(value), e)
    # When the chain is verified
    result = verify_cloudevents(events[:3] + events[4:], undecodable=[bad])
    # Then position 4 is named, as altered because it cannot be decoded
    assert (result.ok, result.broken_at, result.kind) == (False, 4, "altered")
    assert result.describe() == f"BROKEN at position 4: {UNDECODABLE}"
    assert result.count == 3 and "UndecodableRecordError" in result.cause


def test_the_position_comes_from_the_ce_position_header_first() -> None:
    value = b"\x00 not json at all"
    assert position_hint(record(value, [("ce_position", b"42")])) == 42
    assert position_hint(record(value)) is None
    assert position_hint(record(b'z"position":9,"id":"x"}')) == 9


def test_a_record_naming_no_position_is_reported_where_it_lies() -> None:
    bad = UndecodableRecord(None, "topic t.teams.events, partition 1, offset 7", "boom")
    result = verify_cloudevents(chain(3), undecodable=[bad])
    assert not result.ok
    assert result.describe() == (
        "BROKEN at an unknown position (topic t.teams.events, partition 1, offset 7): "
        f"{UNDECODABLE}")


def test_an_earlier_break_comes_first_and_start_skips_what_is_before_it() -> None:
    events = chain(6)
    bad = UndecodableRecord(5, "here", "boom")
    without_2 = [e for e in events if e["position"] not in (2, 5)]
    assert (verify_cloudevents(without_2, undecodable=[bad]).broken_at,
            verify_cloudevents(without_2, undecodable=[bad]).kind) == (3, "missing")
    assert verify_cloudevents([e for e in events if e["position"] != 5], start=6,
                              undecodable=[bad]).ok


def test_malformed_positions_and_hashes_are_breaks_not_crashes() -> None:
    events = chain(3)
    no_position = {k: v for k, v in events[1].items() if k != "position"}
    assert not verify_cloudevents([events[0], no_position, events[2]]).ok
    not_hex = {**events[2], "prevhash": "zz" * 32}
    result = verify_cloudevents([not_hex], start=3)
    assert (result.ok, result.broken_at, result.kind) == (False, 3, "altered")
