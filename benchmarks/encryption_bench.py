"""The cost of encrypting personal data: the same work with sealing off and on, in one run.

    python -m benchmarks.encryption_bench --events 2000
    OPSLEDGER_KAFKA_BOOTSTRAP=127.0.0.1:9092 OPSLEDGER_MONGO_URI=mongodb://127.0.0.1:27017 \\
        python -m benchmarks.encryption_bench        # adds the projector into MongoDB

1. **Command path.** Two embedded SQLite event stores in a temporary folder: one as
   before sealing (the ledger's mapper has no key store), one as OpsLedger runs now
   (``open_ledger``: sealed under a key per subject in ``keys.sqlite``). The same
   commands go to both through the domain services: half ``MemberJoined`` (a new member,
   so a new key each), half customer feedback naming a customer (one in three a new
   customer, the others returning). The two stores take turns in slices of
   :data:`SLICE` commands, so the machine's noise falls on both alike. Reported:
   commands/s and the median and p99 latency of one command.
2. **Projector.** The events each store now holds (plaintext in one, ciphertext in the
   other: nearly every one carries personal data, the worst case) folded by every read
   model: in memory (the folds alone), into the embedded read store (the follower's and
   the replay's path), and, with Kafka and MongoDB set, produced to fresh topics and
   folded by the real :class:`~infra.kafka.projector.Projector` into a fresh MongoDB
   database (as ``benchmarks/projector_bench.py`` drives it). The projector does not
   decrypt (``docs/ARCHITECTURE.md``): ciphertext only makes the values longer.
3. **Read edge.** Pages of member and feedback documents read from those read stores:
   as they are, and through the revealer that opens every sealed value
   (``infra/personal/reveal.py``), as the API does.

Prints one table: each figure with sealing off, on, and their ratio (on / off). Asserts
nothing. The figures are noisy on a shared machine: compare columns of the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import domain.catalog  # noqa: F401  (registers every event class)
from benchmarks.projector_bench import MemoryStore, _produce, _project
from domain.envelope import EventEnvelope
from domain.feedback import commands as fc
from domain.feedback.aggregate import Customer
from domain.feedback.service import FeedbackService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService
from infra.event_store import chained, close_ledger, key_store, ledger_env, open_ledger
from infra.event_store.log import iter_envelopes
from infra.kafka.projector.batch import BatchReader, fold_batch
from infra.personal.keys import KeyStore
from infra.personal.reveal import revealing
from infra.projecting.replay import replay
from infra.read_store.sqlite import SQLiteReadStore
from infra.settings import Settings
from projections.registry import ALL_FOLDS

SLICE = 50
"""Commands a store takes before the other's turn."""
MEMBERS_PER_TEAM = 25
"""A team is loaded by every command on it: more members, a longer history to load."""
COLUMNS = ("off", "on")


@dataclass
class Figure:
    name: str
    off: float
    on: float
    unit: str

    @property
    def ratio(self) -> float:
        return self.on / self.off if self.off else float("nan")


class Workload:
    """One store and the commands it is given, timed one by one."""

    def __init__(self, ledger: Ledger, rng: random.Random) -> None:
        self.ledger = ledger
        self.rng = rng
        self.teams, self.feedback = TeamService(ledger), FeedbackService(ledger)
        self.team: UUID | None = None
        self.members = 0
        self.customers: list[Customer] = []
        self.latencies: list[float] = []
        self.new_subject: list[bool] = []
        """Whether each command named a data subject with no data yet (a key is made)."""

    def ctx(self) -> CommandContext:
        return CommandContext(CommandMeta("user:bench"))

    def run(self, n: int) -> None:
        for i in range(n):
            if self.team is None or self.members >= MEMBERS_PER_TEAM:
                self.team = self.teams.form(tc.FormTeam("SRE"), self.ctx()).id  # untimed
                self.members = 0
            command = self._member if i % 2 == 0 else self._customer_feedback
            started = time.perf_counter()
            self.new_subject.append(command(self.team))
            self.latencies.append(time.perf_counter() - started)

    def _member(self, team: UUID) -> bool:
        tag = uuid4().hex[:8]
        self.teams.add_member(tc.AddMember(team, f"Ada {tag}", f"ada.{tag}@example.org",
                                           "SRE"), self.ctx())
        self.members += 1
        return True

    def _customer_feedback(self, team: UUID) -> bool:
        new = not self.customers or self.rng.random() < 1 / 3
        if new:
            tag = uuid4().hex[:8]
            self.customers.append(Customer(name=f"Cy {tag}", email=f"cy.{tag}@example.net"))
            customer = self.customers[-1]
        else:
            customer = self.rng.choice(self.customers)
        self.feedback.give(fc.GiveFeedback("customer", team, "checkout was slow today",
                                           channel="email", score=4, customer=customer),
                           self.ctx())
        return new


def _ledgers(folder: Path) -> dict[str, Ledger]:
    plain = Settings(data_dir=folder / "off")
    return {"off": chained(Ledger(env=ledger_env(plain))),  # no key store: as before
            "on": open_ledger(Settings(data_dir=folder / "on"))}


def command_path(ledgers: dict[str, Ledger], commands: int, seed: int) -> list[Figure]:
    work = {c: Workload(ledgers[c], random.Random(seed)) for c in COLUMNS}
    for c in COLUMNS:  # warm-up: imports, first connections, first keys
        work[c].run(SLICE // 5)
        work[c].latencies.clear()
        work[c].new_subject.clear()
    done = 0
    while done < commands:
        n = min(SLICE, commands - done)
        for c in COLUMNS:
            work[c].run(n)
        done += n
    lat = {c: sorted(work[c].latencies) for c in COLUMNS}

    def median_when(c: str, new: bool) -> float:
        picked = [t for t, n in zip(work[c].latencies, work[c].new_subject, strict=True)
                  if n is new]
        return statistics.median(picked) * 1e3 if picked else float("nan")

    return [
        Figure("commands/s", *(len(lat[c]) / sum(lat[c]) for c in COLUMNS), "cmd/s"),
        Figure("median latency", *(statistics.median(lat[c]) * 1e3 for c in COLUMNS), "ms"),
        Figure("p99 latency", *(_p99(lat[c]) * 1e3 for c in COLUMNS), "ms"),
        Figure("  median, a new data subject", *(median_when(c, True) for c in COLUMNS),
               "ms"),
        Figure("  median, a known subject", *(median_when(c, False) for c in COLUMNS), "ms"),
    ]


def _p99(sorted_values: list[float]) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * 0.99))]


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _fold_in_memory(events: list[EventEnvelope], batch: int = 1000) -> None:
    store = MemoryStore()
    for i in range(0, len(events), batch):
        changes, error = fold_batch(events[i : i + batch], ALL_FOLDS,
                                    BatchReader(store))  # type: ignore[arg-type]
        if error is not None:
            raise error
        store.commit(changes, ("bench", events[min(i + batch, len(events)) - 1].position))


def projector(events: dict[str, list[EventEnvelope]], folder: Path) -> list[Figure]:
    n = {c: len(events[c]) for c in COLUMNS}
    memory = {c: n[c] / _timed(lambda c=c: _fold_in_memory(events[c])) for c in COLUMNS}

    def into_sqlite(c: str) -> float:
        store = SQLiteReadStore(folder / f"read-{c}.sqlite")
        try:
            return replay(events[c], store).events_per_second
        finally:
            store.close()

    embedded = {c: into_sqlite(c) for c in COLUMNS}
    figures = [Figure("folds only, in memory", memory["off"], memory["on"], "events/s"),
               Figure("into the embedded read store", embedded["off"], embedded["on"],
                      "events/s")]
    mongo = _into_mongodb(events)
    if mongo is not None:
        figures.append(Figure("Kafka -> projector -> MongoDB", *mongo, "events/s"))
    return figures


def _into_mongodb(events: dict[str, list[EventEnvelope]]) -> tuple[float, float] | None:
    bootstrap = os.environ.get("OPSLEDGER_KAFKA_BOOTSTRAP")
    uri = os.environ.get("OPSLEDGER_MONGO_URI")
    if not (bootstrap and uri):
        print("MongoDB row skipped: set OPSLEDGER_KAFKA_BOOTSTRAP and OPSLEDGER_MONGO_URI",
              file=sys.stderr, flush=True)
        return None
    import logging

    import pymongo
    from kafka import KafkaAdminClient

    from infra.kafka.topics import Topics
    from infra.read_store.mongo import MongoReadStore

    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # reconnect chatter
    rates = []
    for c in COLUMNS:
        run = f"enc{c}{uuid4().hex[:8]}"
        topics, db_name = Topics(f"bench{run}"), f"bench_{run}"
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="opsledger-bench")
        admin.create_topics(topics.specs(partitions=3), wait_for_metadata=True)
        store = MongoReadStore(uri, db_name)
        try:
            _produce(bootstrap, topics, events[c])
            row = _project(bootstrap, topics, store, f"bench{run}", 2000, 300.0,
                           len(events[c]))
            if row.note != "lag 0":
                print(f"MongoDB, sealing {c}: {row.note}", file=sys.stderr)
            rates.append(row.rate)
        finally:
            store.close()
            with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
                client.drop_database(db_name)
            admin.delete_topics(list(topics.specs()))
            admin.close()
    return rates[0], rates[1]


def read_edge(folder: Path, keys_of: dict[str, KeyStore | None], pages: int) -> list[Figure]:
    seconds: dict[str, list[float]] = {c: [] for c in COLUMNS}
    docs = {c: 0 for c in COLUMNS}
    stores = {c: revealing(SQLiteReadStore(folder / f"read-{c}.sqlite"), keys_of[c])
              for c in COLUMNS}
    try:
        for _ in range(pages // 2):
            for collection in ("members", "feedback"):
                for c in COLUMNS:
                    started = time.perf_counter()
                    page = stores[c].find(collection, {}, limit=100)
                    seconds[c].append(time.perf_counter() - started)
                    docs[c] += len(page.items)
    finally:
        for store in stores.values():
            store.close()
    return [
        Figure("documents/s (pages of 100)", *(docs[c] / sum(seconds[c]) for c in COLUMNS),
               "docs/s"),
        Figure("median page", *(statistics.median(seconds[c]) * 1e3 for c in COLUMNS), "ms"),
    ]


def _table(sections: list[tuple[str, list[Figure]]]) -> Iterator[str]:
    width = max(len(f.name) for _, figures in sections for f in figures) + 2
    yield (f"  {'':<{width}}{'unit':<10}{'sealing off':>14}{'sealing on':>14}"
           f"{'on / off':>10}")
    for title, figures in sections:
        yield title
        for f in figures:
            yield (f"  {f.name:<{width}}{f.unit:<10}{f.off:>14,.2f}{f.on:>14,.2f}"
                   f"{f.ratio:>9.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.encryption_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000,
                        help="personal-data commands per column (the projector folds what "
                             "they stored)")
    parser.add_argument("--pages", type=int, default=400,
                        help="pages of 100 documents read per column")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opsledger-enc-bench-") as tmp:
        folder = Path(tmp)
        ledgers = _ledgers(folder)
        try:
            started = time.perf_counter()
            commands = command_path(ledgers, args.events, args.seed)
            print(f"command path: {args.events} commands per column in "
                  f"{time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
            events = {c: list(iter_envelopes(ledgers[c])) for c in COLUMNS}
            folds = projector(events, folder)
            keys = {c: key_store(ledgers[c]) for c in COLUMNS}
            reads = read_edge(folder, keys, args.pages)
        finally:
            for ledger in ledgers.values():
                close_ledger(ledger)
        sections = [
            (f"command path (embedded SQLite, {args.events} commands: MemberJoined and "
             "customer feedback)", commands),
            (f"projector ({len(events['on'])} events, the commands' own)", folds),
            (f"read edge ({args.pages} pages of members and feedback)", reads),
        ]
        print("\n".join(_table(sections)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
