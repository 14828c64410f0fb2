"""The relay under faults, against a real broker: kill -9 mid-batch (repeatedly, while
events keep arriving) and an unreachable broker. Afterwards Kafka must hold every
stored public event exactly once, with no gap: the event store is the oracle
(see ``tests.integration.test_relay.assert_exactly_once``).

The shared broker cannot be stopped here, so "Kafka down" is a relay pointed at a
port where nothing listens, then at the real broker.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient
from kafka.structs import TopicPartition

from domain.incidents import commands as ic
from domain.incidents.service import IncidentService
from domain.ledger import Ledger
from domain.teams import commands as tc
from domain.teams.service import TeamService
from infra.event_store import open_ledger
from infra.kafka.admin import create_topics
from infra.kafka.relay import Relay, read_checkpoint
from infra.kafka.topics import Topics
from infra.settings import Settings
from tests.integration.test_relay import (
    append_history,
    assert_exactly_once,
    consume_all,
    ctx,
    delete_topics,
)
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


class RelayProcess:
    """``python -m services.relay`` as a real process, its output in a log file."""

    def __init__(self, data_dir: Path, bootstrap: str, prefix: str, log_path: Path,
                 batch: int = 25, fast: bool = True) -> None:
        self.args = [sys.executable, "-m", "services.relay", "--data-dir", str(data_dir)]
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OPSLEDGER_")},
            "OPSLEDGER_KAFKA_BOOTSTRAP": bootstrap,
            "OPSLEDGER_KAFKA_TOPIC_PREFIX": prefix,
            "OPSLEDGER_RELAY_BATCH": str(batch),
            "OPSLEDGER_RELAY_FAST_PATH": str(fast).lower(),
            "PYTHONPATH": str(ROOT),
        }
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RelayProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL

    def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def ensure_stopped(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Writer(threading.Thread):
    """Appends incidents one command at a time (every third with an idempotency key)
    until stopped, as the API would while the relay runs."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(daemon=True)
        self.ledger = ledger
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            teams, incidents = TeamService(self.ledger), IncidentService(self.ledger)
            team = teams.form(tc.FormTeam(f"Ops {uuid4().hex[:6]}"), ctx()).id
            n = 0
            while not self.stop.is_set() and n < 20_000:
                key = f"w-{uuid4().hex}" if n % 3 == 0 else None
                incident = incidents.open(
                    ic.OpenIncident(team, "SEV2", "api", f"errors {n}"), ctx(key=key)).id
                incidents.acknowledge(ic.Acknowledge(incident), ctx())
                n += 1
                time.sleep(0.002)
        except BaseException as e:
            self.error = e

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=30)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error


def checkpoint(bootstrap: str, topics: Topics) -> int:
    return read_checkpoint(bootstrap, topics.relay_checkpoint, timeout=10)


def closed_port() -> int:
    """A local port where nothing listens (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path, servers: Any, topic_prefix: str) -> Any:
    settings = Settings(data_dir=tmp_path / "data", kafka_bootstrap=servers.kafka_bootstrap,
                        kafka_topic_prefix=topic_prefix)
    topics = Topics(topic_prefix)
    create_topics(servers.kafka_bootstrap, topics, partitions=3)
    ledger = open_ledger(settings)
    try:
        yield settings, ledger, topics
    finally:
        ledger.close()
        delete_topics(servers.kafka_bootstrap, topics)


class TransactionWatch:
    """Whether the checkpoint partition holds records of a transaction that is still
    open: its high watermark (read_uncommitted) is past its last stable offset.

    The checkpoint record goes out with the last of a batch, so an open transaction
    seen there means the batch has been sent and not yet committed: mid-batch.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.tp = TopicPartition(topic, 0)
        self.consumers = {
            level: KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                 isolation_level=level, enable_auto_commit=False)
            for level in ("read_uncommitted", "read_committed")
        }

    def open(self) -> bool:
        ends = {level: c.end_offsets([self.tp], timeout_ms=5000)[self.tp]
                for level, c in self.consumers.items()}
        return ends["read_uncommitted"] > ends["read_committed"]

    def close(self) -> None:
        for consumer in self.consumers.values():
            consumer.close()


def kill_mid_batch(relay: RelayProcess, watch: TransactionWatch, within: float = 15) -> bool:
    """kill -9 the relay while a transaction of it is open, if that happens ``within``
    seconds (else kill it anyway); whether the kill left the transaction open.

    Seeing the transaction open, the test freezes the relay (SIGSTOP) and looks again:
    still open, the kill is mid-batch; already committed, it lets the relay go on.
    """
    assert relay.proc is not None
    # First the restarted relay aborts what its killed predecessor left open.
    wait_until(lambda: not watch.open(), 60, "the zombie's transaction to be aborted")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not watch.open():
            continue
        relay.proc.send_signal(signal.SIGSTOP)
        time.sleep(0.05)  # a commit already on its way lands meanwhile
        if watch.open():
            break
        relay.proc.send_signal(signal.SIGCONT)
    relay.kill()
    return watch.open()


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "reference-path"])
def test_kill_9_mid_batch_repeatedly_while_events_arrive(store: Any, servers: Any,
                                                         topic_prefix: str,
                                                         tmp_path: Path, fast: bool) -> None:
    """kill -9 the relay process while a batch is written but not committed (aimed by
    watching the checkpoint partition), restart it, again and again while a writer
    keeps appending; then let it catch up. Every event exactly once, no gap."""
    settings, ledger, topics = store
    bootstrap = servers.kafka_bootstrap
    append_history(ledger, rounds=40)  # a backlog, so the relay is busy when killed
    relay = RelayProcess(settings.data_dir, bootstrap, topic_prefix, tmp_path / "relay.log",
                         fast=fast)
    watch = TransactionWatch(bootstrap, topics.relay_checkpoint)
    writer = Writer(ledger)
    writer.start()
    kills = mid_batch = 0
    try:
        while kills < 4 or (mid_batch < 3 and kills < 10):
            relay.start()
            mid_batch += kill_mid_batch(relay, watch)
            kills += 1
        writer.finish()
        logging.getLogger(__name__).info("%d kills, %d mid-batch", kills, mid_batch)
        assert mid_batch >= 3, f"only {mid_batch} of {kills} kills landed mid-batch"

        head = ledger.head_position()
        assert checkpoint(bootstrap, topics) < head
        relay.start()
        wait_until(lambda: checkpoint(bootstrap, topics) == head, 120,
                   "the relay to catch up after the last kill")
        assert relay.terminate() == 0, relay.log()[-3000:]
        assert not watch.open()  # the zombies' transactions were aborted
    finally:
        writer.stop.set()
        relay.ensure_stopped()
        watch.close()

    assert_exactly_once(ledger, topics, bootstrap)
    committed = consume_all(bootstrap, list(topics.event_topics))
    everything = consume_all(bootstrap, list(topics.event_topics),
                             isolation_level="read_uncommitted")
    assert len(everything) > len(committed)  # the aborted batches are in the log, unseen
    assert "Traceback" not in relay.log()
    assert "leaving the fast path" not in relay.log()


def test_an_unreachable_broker_is_waited_out_without_advancing(
        store: Any, servers: Any, caplog: pytest.LogCaptureFixture) -> None:
    """In process: the relay backs off while nothing listens, keeps its position, and
    publishes exactly once as soon as its bootstrap points at a broker."""
    _, ledger, topics = store
    append_history(ledger, rounds=3)
    relay = Relay(ledger, f"127.0.0.1:{closed_port()}", topics,
                  transactional_id=f"{topics.prefix}-relay", batch_size=10, max_backoff=0.4)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    with caplog.at_level(logging.WARNING, logger="infra.kafka.relay"):
        thread.start()
        try:
            wait_until(lambda: len(_retries(caplog)) >= 5, 20, "five retries")
            assert thread.is_alive()
            assert not relay.connected and relay.position == 0 and relay.published == 0
            delays = _retries(caplog)
            assert delays == sorted(delays) and max(delays) <= 0.4  # bounded exponential

            relay.bootstrap = servers.kafka_bootstrap  # the broker is back
            wait_until(lambda: relay.position == ledger.head_position(), 60,
                       "the relay to catch up once the broker answers")
            append_history(ledger, rounds=1, tag="after")
            wait_until(lambda: relay.position == ledger.head_position(), 60,
                       "the relay to follow new events")
        finally:
            stop.set()
            thread.join(30)
    assert not thread.is_alive()
    assert_exactly_once(ledger, topics, servers.kafka_bootstrap)


def _retries(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [float(m.group(1)) for r in caplog.records
            if (m := re.search(r"retrying in ([\d.]+)s", r.getMessage()))]


def test_the_service_survives_a_missing_broker_then_relays_everything(
        store: Any, servers: Any, topic_prefix: str, tmp_path: Path) -> None:
    """As a process: started without a reachable broker it neither crashes nor exits;
    SIGTERM stops it cleanly; restarted against the broker, it publishes everything."""
    settings, ledger, topics = store
    append_history(ledger, rounds=3)
    log_path = tmp_path / "relay.log"
    down = RelayProcess(settings.data_dir, f"127.0.0.1:{closed_port()}", topic_prefix,
                        log_path).start()
    try:
        wait_until(lambda: down.log().count("retrying in") >= 2, 30,
                   "the relay to retry")
        assert down.alive()
        assert checkpoint(servers.kafka_bootstrap, topics) == 0
        assert down.terminate(timeout=30) == 0
    finally:
        down.ensure_stopped()

    up = RelayProcess(settings.data_dir, servers.kafka_bootstrap, topic_prefix,
                      log_path).start()
    try:
        head = ledger.head_position()
        wait_until(lambda: checkpoint(servers.kafka_bootstrap, topics) == head, 60,
                   "the relay to publish everything")
        assert up.terminate() == 0
    finally:
        up.ensure_stopped()
    assert_exactly_once(ledger, topics, servers.kafka_bootstrap)
    assert "Traceback" not in up.log()


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "reference-path"])
def test_a_missing_topic_aborts_the_batch_until_it_exists(
        tmp_path: Path, servers: Any, topic_prefix: str, fast: bool,
        caplog: pytest.LogCaptureFixture) -> None:
    """A batch that cannot reach one of its topics is aborted (the events already
    sent to the others with it stay invisible) and retried until the topic exists."""
    bootstrap = servers.kafka_bootstrap
    topics = Topics(topic_prefix)
    all_specs = topics.specs(partitions=3)
    missing = topics.events("incidents")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="opsledger-tests")
    try:
        admin.create_topics({t: spec for t, spec in all_specs.items() if t != missing},
                            wait_for_metadata=True)
    finally:
        admin.close()
    ledger = open_ledger(Settings(data_dir=tmp_path / "data"))
    relay = Relay(ledger, bootstrap, topics, transactional_id=f"{topic_prefix}-relay",
                  batch_size=500, fast=fast, operation_timeout=2, max_backoff=0.5)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    try:
        append_history(ledger, rounds=2)
        with caplog.at_level(logging.WARNING, logger="infra.kafka.relay"):
            thread.start()
            wait_until(lambda: len(_retries(caplog)) >= 2, 60, "two failed attempts")
            assert relay.position == 0 and relay.published == 0
            assert read_checkpoint(bootstrap, topics.relay_checkpoint) == 0
            assert create_topics(bootstrap, topics) == [missing]
            wait_until(lambda: relay.position == ledger.head_position(), 60,
                       "the relay to publish once the topic exists")
        stop.set()
        thread.join(30)
        assert not thread.is_alive()
        _exactly_once_once_readable(ledger, topics, bootstrap)
        assert relay.fast is fast
    finally:
        stop.set()
        ledger.close()
        delete_topics(bootstrap, topics)


def _exactly_once_once_readable(ledger: Ledger, topics: Topics, bootstrap: str) -> None:
    """``assert_exactly_once``, given a few seconds for a topic made a moment ago to be
    known to a new reader's metadata (until then it reads that topic as empty, and the
    events on it look never published)."""
    for attempt in range(10):
        try:
            assert_exactly_once(ledger, topics, bootstrap)
            return
        except AssertionError as e:
            if attempt == 9 or "never published" not in str(e):
                raise
            time.sleep(1)
