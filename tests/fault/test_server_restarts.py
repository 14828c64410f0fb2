"""Real server restarts: the broker under the relay, MongoDB (FerretDB) under the
projector, each stopped (SIGTERM) while it is being written to, kept down a few
seconds and started again with its data.

The shared servers of the session cannot be stopped, so this module starts its own
pair with infra/local/up.sh (own state dir, free ports; see ``private_infra.py``) and
stops it with down.sh at the end, also on failure.

Oracles as in the other fault tests: the event store for the relay (every public
event on Kafka exactly once, in per-aggregate order, nothing missing), the events
folded once in memory for the projector (every read-model document equal).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from benchmarks.projector_bench import realistic_history
from infra.event_store import open_ledger
from infra.kafka.admin import create_topics
from infra.kafka.projector.lag import group_lag
from infra.kafka.relay import read_checkpoint
from infra.kafka.topics import Topics
from infra.settings import Settings
from tests.fault.private_infra import InfraError, PrivateInfra, start_private_infra
from tests.fault.test_projector_faults import ProjectorProcess, committed_offsets
from tests.fault.test_relay_faults import RelayProcess, TransactionWatch, Writer
from tests.integration.test_projector import (
    assert_matches_oracle,
    produce,
)
from tests.integration.test_projector import (
    create_topics as create_projector_topics,
)
from tests.integration.test_relay import append_history, assert_exactly_once
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BROKER_DOWN_FOR = 3.0
"""Seconds each broker outage lasts (after the broker has stopped)."""


@pytest.fixture(scope="module")
def private_infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateInfra]:
    """A Kafka + FerretDB of this module only, which its tests may stop and restart."""
    started = time.monotonic()
    try:
        infra = start_private_infra(tmp_path_factory.mktemp("private-infra") / "state")
    except InfraError as e:
        pytest.skip(str(e))
    print(f"\n[private infra] up in {time.monotonic() - started:.1f}s: "
          f"{infra.kafka_bootstrap}, {infra.mongo_uri}, state {infra.state}")
    try:
        yield infra
    finally:
        started = time.monotonic()
        infra.down()
        print(f"[private infra] down in {time.monotonic() - started:.1f}s")


@pytest.fixture
def infra(private_infra: PrivateInfra) -> PrivateInfra:
    """The private pair, both servers running (a failed test may have left one down)."""
    if not private_infra.kafka.running():
        private_infra.start_kafka()
    if not private_infra.ferretdb.running():
        private_infra.start_ferretdb()
    return private_infra


def _or_none(read: Callable[[], int]) -> int | None:
    try:
        return read()
    except Exception:  # the broker (or its coordinators) not back yet
        return None


def lag_of(bootstrap: str, topics: Topics, group: str) -> int | None:
    """The group's lag, or None while the broker cannot tell (on a fresh broker the
    first group request creates ``__consumer_offsets``: no coordinator until then)."""
    return _or_none(lambda: group_lag(bootstrap, topics, group))


def wait_lag_zero(bootstrap: str, topics: Topics, group: str, timeout: float,
                  alive: Callable[[], bool]) -> None:
    def caught_up() -> bool:
        assert alive(), "the projector died while catching up"
        return lag_of(bootstrap, topics, group) == 0

    wait_until(caught_up, timeout, f"group {group} to reach lag 0")


def hold(seconds: float, *alive: Callable[[], bool]) -> None:
    """Let an outage last ``seconds``, checking every 0.2 s that the processes under
    test are still alive."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for check in alive:
            assert check(), "a process under test died during the outage"
        time.sleep(0.2)


# -- the relay under a broker restart ----------------------------------------------------


def test_the_relay_survives_a_broker_restart_mid_publication(
    infra: PrivateInfra, tmp_path: Path
) -> None:
    """A writer keeps appending while the broker is stopped (SIGTERM, with a relay
    transaction open when possible) and started again, twice. The relay process rides
    it out and catches up; Kafka then holds every public event exactly once."""
    bootstrap = infra.kafka_bootstrap
    prefix = f"t{uuid4().hex[:10]}"
    topics = Topics(prefix)
    create_topics(bootstrap, topics, partitions=3)
    settings = Settings(data_dir=tmp_path / "data")
    ledger = open_ledger(settings)
    relay = RelayProcess(settings.data_dir, bootstrap, prefix, tmp_path / "relay.log", batch=50)
    writer = Writer(ledger)

    def checkpoint() -> int | None:
        return _or_none(lambda: read_checkpoint(bootstrap, topics.relay_checkpoint, timeout=5))

    try:
        append_history(ledger, rounds=30)  # a backlog: the relay is busy from the start
        relay.start()
        wait_until(lambda: (checkpoint() or 0) > 0, 60, "the relay's first batch")
        writer.start()
        for restart in (1, 2):
            watch = TransactionWatch(bootstrap, topics.relay_checkpoint)
            try:  # aim at an open transaction (the relay always has new events)
                deadline = time.monotonic() + 10
                while not (in_txn := watch.open()) and time.monotonic() < deadline:
                    pass
                before = checkpoint()
            finally:
                watch.close()
            assert before is not None and before < ledger.head_position()
            assert relay.alive(), relay.log()[-3000:]
            stopped = infra.stop_kafka()
            hold(BROKER_DOWN_FOR, relay.alive, writer.is_alive)
            ready = infra.start_kafka()
            resumed = time.monotonic()
            wait_until(lambda b=before: (checkpoint() or 0) > b, 90,
                       "the relay to publish again after the broker restart")
            print(f"\n[relay] restart {restart}: transaction open at stop: {in_txn}, "
                  f"checkpoint {before} of head {ledger.head_position()}; broker stopped "
                  f"in {stopped:.1f}s, down {BROKER_DOWN_FOR:.0f}s, ready {ready:.1f}s "
                  f"after start; relay publishing again {time.monotonic() - resumed:.1f}s "
                  f"later")
        writer.finish()
        head = ledger.head_position()
        caught_up = time.monotonic()
        wait_until(lambda: checkpoint() == head, 120, "the relay to reach the head")
        print(f"[relay] caught up with head {head} in {time.monotonic() - caught_up:.1f}s")
        assert relay.alive(), relay.log()[-3000:]
        assert relay.terminate() == 0, relay.log()[-3000:]

        records = assert_exactly_once(ledger, topics, bootstrap)
        print(f"[relay] {len(records)} events on Kafka, each exactly once, in order")
    finally:
        writer.stop.set()
        relay.ensure_stopped()
        ledger.close()
    log = relay.log()
    # The producer may ride a short outage out by itself, or the relay backs off.
    print(f"[relay] relay-level retries: {log.count('retrying in')}")
    assert "Traceback" not in log, log[-3000:]


# -- the projector under a MongoDB restart ------------------------------------------------


def test_the_projector_survives_a_mongodb_restart_mid_write(
    infra: PrivateInfra, tmp_path: Path
) -> None:
    """FerretDB is stopped (SIGTERM) while the projector process writes batches, kept
    down until the projector has failed the same write twice, and started
    again. The projector backs off without committing offsets, stays alive, catches up,
    and every read model equals the oracle."""
    history = realistic_history(400, seed=31, members=4)
    bootstrap = infra.kafka_bootstrap
    prefix = f"t{uuid4().hex[:10]}"
    topics = create_projector_topics(bootstrap, prefix)
    group, db = f"{prefix}-projector", f"t_{uuid4().hex[:12]}"
    projector = ProjectorProcess(infra, db, prefix, group, tmp_path / "projector.log",
                                 batch=5)
    try:
        # The rosters first (see tests/integration/test_projector.py), then the rest.
        produce(bootstrap, topics, history.roster)
        wait_lag_zero(bootstrap, topics, group, 90, projector.alive)
        # Half the activity first; the other half arrives while MongoDB is down, so
        # the projector has writes to fail however fast it got through the first.
        half = len(history.activity) // 2
        total = len(history.activity)
        produce(bootstrap, topics, history.activity[:half])
        started = time.monotonic()
        wait_until(lambda: (lag_of(bootstrap, topics, group) or half) < half, 60,
                   "the projector to write its first batches of activity")
        into = time.monotonic() - started
        stopped = infra.stop_ferretdb()
        down_at = time.monotonic()
        produce(bootstrap, topics, history.activity[half:])
        lag_at_stop = group_lag(bootstrap, topics, group)
        assert lag_at_stop > 0, "the projector finished before MongoDB was down"
        failures = lambda: projector.log.read_text(errors="replace").count(  # noqa: E731
            "retrying the same batch")
        wait_until(lambda: failures() >= 1 or not projector.alive(), 30,
                   "the projector to fail a write against the stopped MongoDB")
        assert projector.alive(), projector.tail()
        # It is retrying a batch now: every batch before it was written and committed.
        # Keep MongoDB down until it has failed again (it retries, it does not give up).
        offsets = committed_offsets(bootstrap, group)
        wait_until(lambda: failures() >= 2 or not projector.alive(), 30,
                   "the projector to retry the write")
        assert projector.alive(), projector.tail()
        assert committed_offsets(bootstrap, group) == offsets, "offsets of unwritten batches"
        assert group_lag(bootstrap, topics, group) > 0
        seen = failures()
        ready = infra.start_ferretdb()
        down_for = time.monotonic() - down_at

        recovered = time.monotonic()
        wait_lag_zero(bootstrap, topics, group, 120, projector.alive)
        print(f"\n[projector] MongoDB stopped {into:.1f}s into the activity in {stopped:.1f}s "
              f"(lag then {lag_at_stop} of {total}), "
              f"down {down_for:.1f}s, {seen} failed writes, ready {ready:.1f}s after start; "
              f"lag 0 {time.monotonic() - recovered:.1f}s later")
        assert projector.alive(), projector.tail()

        assert_matches_oracle(infra.mongo_uri, db, history.all)
        assert projector.alive(), projector.tail()
        assert projector.stop() == 0, projector.tail()
    finally:
        if projector.alive():
            projector.proc.kill()
            projector.proc.wait(timeout=10)
    assert "Traceback" not in projector.log.read_text(errors="replace"), projector.tail()
