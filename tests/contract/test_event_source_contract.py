"""The event-source contract: one body of tests, run against every source of events.

A fold, a replay or a restore may read the history from either source, so both must
yield the same envelopes (ids, types, subjects, positions, data, hash-chain links):

- ``notification_log``: the event store's notification log read back as envelopes
  (:func:`infra.event_store.log.iter_envelopes`), which is what the embedded follower
  and the relay read;
- ``kafka``: what the relay published, read back from the event topics
  (:func:`infra.kafka.reading.read_all_cloudevents`, then
  :func:`infra.contract.cloudevents.from_cloudevent`), ordered by ``position`` as a
  replay from Kafka orders it. It needs a real broker: an integration test.

The oracle is the store's records themselves, read without the code under test: every
stored record decoded, the public events wrapped, each one's chain link looked up by
its position. The history spans all four contexts and holds private records (the
idempotency keys, a retried key that appended nothing, the member directory), which
neither source may yield.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from domain.aggregate import LedgerAggregate
from domain.envelope import EventEnvelope, envelope_of
from domain.ledger import Ledger
from infra.contract.cloudevents import from_cloudevent
from infra.event_store import ledger_recorder, open_ledger
from infra.event_store.hash_chain import GENESIS, envelope_bytes, link
from infra.event_store.log import iter_envelopes
from infra.kafka.reading import read_all_cloudevents
from infra.personal.mapper import sealed_reader
from infra.settings import Settings
from tests.integration.test_relay import Env, append_history, drain, env  # noqa: F401

SOURCES = ["notification_log", pytest.param("kafka", marks=pytest.mark.integration)]
CONTEXTS = {"teams", "goals", "incidents", "feedback"}


@dataclass
class Source:
    ledger: Ledger
    catch_up: Callable[[], None]
    """Whatever the source needs to hold the events stored so far (the relay's run)."""
    read: Callable[[], list[EventEnvelope]]
    """Every event the source holds, in position order."""


def notification_log(ledger: Ledger) -> Source:
    # A small batch, so that pages end on private records as well as on public ones.
    return Source(ledger, lambda: None, lambda: list(iter_envelopes(ledger, batch=7)))


def kafka(env: Env) -> Source:  # noqa: F811
    def publish() -> None:
        with env.relay() as relay:  # a relay per run: each resumes from the checkpoint
            drain(relay)

    def read() -> list[EventEnvelope]:
        publish()
        return sorted((from_cloudevent(ce) for ce in read_all_cloudevents(env.settings)),
                      key=lambda e: e.position)

    return Source(env.ledger, publish, read)


@pytest.fixture(params=SOURCES)
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    """A source over a history stored in two sessions, the source caught up between."""
    if request.param == "kafka":
        made = kafka(request.getfixturevalue("env"))
        ledger = made.ledger  # the env fixture closes it
    else:
        ledger = open_ledger(Settings(data_dir=tmp_path / "data"))
        made = notification_log(ledger)
    try:
        append_history(ledger, rounds=1, tag="a")
        made.catch_up()
        append_history(ledger, rounds=2, tag="b")
        yield made
    finally:
        if request.param != "kafka":
            ledger.close()


def stored_public_events(ledger: Ledger) -> list[EventEnvelope]:
    """The oracle: one read of every stored record, no paging, each public event with
    the chain link stored for its position."""
    recorder = ledger_recorder(ledger)
    expected = []
    for n in ledger.recorder.select_notifications(1, 1_000_000):
        event = sealed_reader(ledger.mapper)(n)  # as stored
        if isinstance(event, LedgerAggregate.Event):
            chained = recorder.hash_at(n.id)
            assert chained is not None, f"public event at {n.id} has no chain link"
            expected.append(replace(envelope_of(event, n.id),
                                    prev_hash=chained[0], hash=chained[1]))
    return expected


def private_records(ledger: Ledger) -> dict[str, list[tuple[int, str]]]:
    """The stored records that are no public event, by kind: (position, aggregate id)."""
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for n in ledger.recorder.select_notifications(1, 1_000_000):
        event = sealed_reader(ledger.mapper)(n)  # as stored
        if not isinstance(event, LedgerAggregate.Event):
            found[type(event).__qualname__.split(".")[0]].append(
                (n.id, str(n.originator_id)))
    return found


def test_the_source_yields_every_public_event_once_in_position_order(source: Source) -> None:
    expected = stored_public_events(source.ledger)
    private = private_records(source.ledger)
    # Given a history of all four contexts, with private records among the events
    assert {e.context for e in expected} == CONTEXTS
    assert {"IdempotencyRecord", "MemberRecord"} <= set(private), set(private)

    got = source.read()

    positions = [e.position for e in got]
    assert positions == sorted(set(positions)), "not in position order, or repeated"
    assert [e.id for e in got] == [e.id for e in expected]
    assert [(e.position, e.type, e.subject, e.stream_version) for e in got] == [
        (e.position, e.type, e.subject, e.stream_version) for e in expected]
    assert [e.data for e in got] == [e.data for e in expected]
    assert [(e.prev_hash, e.hash) for e in got] == [(e.prev_hash, e.hash) for e in expected]
    assert got == expected  # and every other field (time, actor, correlation, ...)

    skipped = {p for records in private.values() for p, _ in records}
    private_ids = {i for records in private.values() for _, i in records}
    assert not skipped & set(positions)
    assert not private_ids & {e.subject for e in got}


def test_the_chain_runs_from_genesis_to_the_head(source: Source) -> None:
    got = source.read()

    prev = GENESIS
    for e in got:
        assert e.prev_hash == prev, f"the chain breaks before position {e.position}"
        assert e.hash == link(prev, envelope_bytes(replace(e, prev_hash=None, hash=None)))
        prev = e.hash
    assert (got[-1].position, prev) == ledger_recorder(source.ledger).head_hash()


def test_stream_versions_count_up_from_one_per_subject(source: Source) -> None:
    got = source.read()

    versions: dict[str, list[int]] = defaultdict(list)
    for e in got:
        versions[e.subject].append(e.stream_version)
    assert {s: v for s, v in versions.items() if v != list(range(1, len(v) + 1))} == {}
    assert sum(len(v) > 1 for v in versions.values()) > 1  # streams, not only singletons


@pytest.mark.integration
def test_the_log_and_the_topics_yield_the_same_envelopes(env: Env) -> None:  # noqa: F811
    append_history(env.ledger, rounds=2)

    from_topics = kafka(env).read()
    from_log = notification_log(env.ledger).read()

    assert from_topics == from_log
