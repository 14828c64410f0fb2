"""How fast the Kafka projector folds events into MongoDB (FerretDB), against a naive loop.

    OPSLEDGER_KAFKA_BOOTSTRAP=127.0.0.1:9092 OPSLEDGER_MONGO_URI=mongodb://127.0.0.1:27017 \\
        python -m benchmarks.projector_bench --events 100000

1. builds a realistic history with the real domain (teams, goals, incidents, feedback
   through the command services over an in-memory eventsourcing ledger; positions are
   the ledger's notification ids), and produces it to fresh topics;
2. runs :class:`infra.kafka.projector.Projector` into a fresh database until its
   consumer group's lag is 0, and reports events/s;
3. measures the server's ceiling: the documents a sample of events folds into,
   bulk-inserted with nothing else going on (a projector must also read, fold and
   replace, so this bounds it from above);
4. runs the naive baseline on a sample (one ``find`` and one update per event and per
   read-model document it touches, no batching), and extrapolates;
5. drops the databases (topics stay: the broker refuses nothing, but they are small).

Prints a table; asserts nothing. :func:`realistic_history` is also what the projector
tests build their events from.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from benchmarks.history import History, realistic_history
from domain.envelope import EventEnvelope

__all__ = ["History", "MemoryStore", "realistic_history"]

# -- the benchmark -----------------------------------------------------------------------
# Kafka, pymongo and the projector are imported inside the functions below, so the
# tests that only want realistic_history() stay free of them.


class MemoryStore:
    """The read-store port over a dict: the projector's ceiling without a database."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.collections: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.checkpoints: dict[str, int] = {}

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        return self.docs.get((collection, doc_id))

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {i: d for i in doc_ids if (d := self.docs.get((collection, i))) is not None}

    def iter_find(self, collection: str, filters: Mapping[str, Any],
                  **_: Any) -> Iterator[dict[str, Any]]:
        for _id, doc in sorted(self.collections[collection].items()):
            if all(doc.get(k) == v for k, v in filters.items()):
                yield doc

    def commit(self, changes: Mapping[tuple[str, str], dict[str, Any]],
               checkpoint: tuple[str, int], *, owned: Any = frozenset()) -> frozenset[Any]:
        self.docs.update(changes)
        for (collection, doc_id), doc in changes.items():
            self.collections[collection][doc_id] = doc
        name, position = checkpoint
        self.checkpoints[name] = max(position, self.checkpoints.get(name, 0))
        return frozenset()

    def checkpoint(self, name: str) -> int:
        return self.checkpoints.get(name, 0)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


class TimedStore:
    """Wraps a store and adds up the seconds spent in each of its methods."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.store, name)
        if not callable(target):
            return target

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return timed


@dataclass
class Row:
    name: str
    events: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def _produce(bootstrap: str, topics: Any, events: list[EventEnvelope]) -> float:
    from kafka import KafkaProducer

    from infra.kafka.codec import encode

    started = time.perf_counter()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20,
                             batch_size=512 * 1024, max_request_size=8 * 1024 * 1024)
    try:
        for event in events:
            key, value, headers = encode(event)
            producer.send(topics.events(event.context), key=key, value=value, headers=headers)
        producer.flush(timeout=300)
    finally:
        producer.close(timeout=30)
    return time.perf_counter() - started


def _project(bootstrap: str, topics: Any, store: Any, group: str, batch: int,
             budget: float, total: int) -> Row:
    """Run one projector until its group's lag is 0 (or the budget is spent).

    The run ends when the projector has settled every record (its own count, read
    in-process every 20 ms) and the group's committed lag then reads 0; asking
    Kafka for the lag only then keeps the measurement from costing the run CPU and
    from ending up to half a second late.
    """
    from kafka import KafkaAdminClient

    from infra.kafka.projector import Projector
    from infra.kafka.projector.lag import group_lag
    from projections.registry import ALL_FOLDS

    projector = Projector(bootstrap, topics, store, ALL_FOLDS, group_id=group,
                          batch_size=batch)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{group}-lag")
    stop = threading.Event()
    thread = threading.Thread(target=projector.run, args=(stop,), daemon=True)
    started = time.perf_counter()
    thread.start()
    lag = total
    elapsed = 0.0
    try:
        while time.perf_counter() - started < budget and thread.is_alive():
            if projector.stats.records < total:
                time.sleep(0.02)
                continue
            elapsed = time.perf_counter() - started  # the lag read below is not the run's
            lag = group_lag(bootstrap, topics, group, admin=admin)
            if lag == 0:
                break
            time.sleep(0.1)  # settled more than once (a redelivery): not all of it yet
    finally:
        if lag != 0:
            elapsed = time.perf_counter() - started
        stop.set()
        thread.join(timeout=120)
        projector.close()
        admin.close()
    note = "lag 0" if lag == 0 else f"budget spent, lag {lag}"
    return Row("", projector.stats.records, elapsed, note)


def _naive(uri: str, db_name: str, events: list[EventEnvelope], budget: float) -> Row:
    """One find and one update per event and per read-model document, no batching."""
    import pymongo

    from projections.engine import fold_events
    from projections.registry import ALL_FOLDS

    client: pymongo.MongoClient = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    db = client[db_name]
    done = 0
    started = time.perf_counter()
    try:
        for event in events:
            changes = fold_events(
                [event], ALL_FOLDS,
                lambda collection, doc_id: db[collection].find_one({"_id": doc_id}),
            )
            for (collection, doc_id), doc in changes.items():
                db[collection].replace_one({"_id": doc_id}, doc, upsert=True)
            done += 1
            if time.perf_counter() - started > budget:
                break
        return Row("", done, time.perf_counter() - started)
    finally:
        client.drop_database(db_name)
        client.close()


def _insert_ceiling(uri: str, db_name: str, events: list[EventEnvelope], batch: int) -> Row:
    """How fast the server takes the very documents these events fold into, by plain
    unordered inserts of 1000 into empty collections, on two connections (as the
    store's two writer threads): what no projector can beat.

    A document several batches rewrite (a team, a member) is inserted once, in its
    last state: a duplicate ``_id`` would send its whole insert down FerretDB's
    one-document-per-transaction path and understate the ceiling.
    """
    from concurrent.futures import ThreadPoolExecutor

    import pymongo

    from infra.kafka.projector.batch import BatchReader, fold_batch
    from projections.registry import ALL_FOLDS

    store = MemoryStore()
    by_collection: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for i in range(0, len(events), batch):
        changes, error = fold_batch(events[i : i + batch], ALL_FOLDS, BatchReader(store))  # type: ignore[arg-type]
        if error is not None:
            raise error
        store.commit(changes, ("ceiling", 0))
        for (collection, doc_id), doc in changes.items():
            by_collection[collection][doc_id] = {**doc, "_id": doc_id}
    inserts = [(collection, docs[i : i + 1000])
               for collection, by_id in by_collection.items()
               for docs in [list(by_id.values())]
               for i in range(0, len(docs), 1000)]
    client: pymongo.MongoClient = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        db = client[db_name]
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            for response in pool.map(
                lambda job: db.command("insert", job[0], documents=job[1], ordered=False),
                inserts,
            ):
                if response.get("writeErrors"):
                    errors = response["writeErrors"]
                    raise RuntimeError(f"the ceiling's inserts failed: {errors[:1]}")
        seconds = time.perf_counter() - started
    finally:
        client.drop_database(db_name)
        client.close()
    documents = sum(len(docs) for docs in by_collection.values())
    return Row("", len(events), seconds,
               f"{documents:,} documents, {documents / seconds:,.0f} documents/s, "
               f"{documents / len(events):.1f} per event")


def _cpu_only(events: list[EventEnvelope], batch: int) -> tuple[Row, Row]:
    from infra.kafka.codec import encode
    from infra.kafka.projector.batch import BatchReader, fold_batch
    from infra.kafka.projector.poison import decode_record
    from projections.registry import ALL_FOLDS

    values = [encode(e)[1] for e in events]
    started = time.perf_counter()
    for value in values:
        decode_record(value)
    decode_row = Row("decode + upcast only (no I/O)", len(values),
                     time.perf_counter() - started)
    store = MemoryStore()
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        changes, error = fold_batch(events[i : i + batch], ALL_FOLDS, BatchReader(store))  # type: ignore[arg-type]
        if error is not None:
            raise error
        store.commit(changes, ("cpu", 0))
    fold_row = Row(f"fold only, batches of {batch} (no I/O)", len(events),
                   time.perf_counter() - started)
    return decode_row, fold_row


def _table(rows: list[Row]) -> str:
    width = max(len(r.name) for r in rows)
    lines = [f"{'run':<{width}}  {'events':>8}  {'seconds':>9}  {'events/s':>10}  note",
             "-" * (width + 45)]
    lines += [f"{r.name:<{width}}  {r.events:>8}  {r.seconds:>9.1f}  {r.rate:>10,.0f}  {r.note}"
              for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.projector_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000,
                        help="projector batch size into FerretDB (OPSLEDGER_PROJECTOR_BATCH)")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget", type=float, default=600.0,
                        help="seconds the FerretDB run may take before it is cut short")
    parser.add_argument("--baseline-sample", type=int, default=5000)
    parser.add_argument("--ceiling-sample", type=int, default=20_000,
                        help="events whose documents are bulk-inserted to measure the server")
    parser.add_argument("--baseline-budget", type=float, default=180.0)
    args = parser.parse_args(argv)

    bootstrap = os.environ.get("OPSLEDGER_KAFKA_BOOTSTRAP")
    uri = os.environ.get("OPSLEDGER_MONGO_URI")
    if not bootstrap or not uri:
        print("needs OPSLEDGER_KAFKA_BOOTSTRAP and OPSLEDGER_MONGO_URI", file=sys.stderr)
        return 2

    import logging

    import pymongo
    from kafka import KafkaAdminClient

    from infra.kafka.topics import Topics
    from infra.read_store.mongo import MongoReadStore

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # reconnect chatter
    run = uuid4().hex[:8]
    topics = Topics(f"bench{run}")
    db_name, naive_db = f"bench_{run}", f"bench_{run}_naive"
    rows: list[Row] = []

    started = time.perf_counter()
    events = realistic_history(args.events, seed=args.seed).all
    rows.append(Row("generate (domain, in-memory ledger)", len(events),
                    time.perf_counter() - started))
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="opsledger-bench")
    admin.create_topics(topics.specs(partitions=args.partitions), wait_for_metadata=True)
    try:
        rows.append(Row("produce to Kafka", len(events),
                        _produce(bootstrap, topics, events)))
        rows.extend(_cpu_only(events[: min(len(events), 20_000)], 2000))

        row = _project(bootstrap, topics, MemoryStore(), f"bench{run}-memory", 2000,
                       args.budget, len(events))
        row.name = "projector -> in-memory store (batch 2000)"
        rows.append(row)

        mongo = MongoReadStore(uri, db_name)
        timed = TimedStore(mongo)
        try:
            row = _project(bootstrap, topics, timed, f"bench{run}-mongo", args.batch,
                           args.budget, len(events))
        finally:
            mongo.close()
        row.name = f"projector -> FerretDB (batch {args.batch})"
        rows.append(row)
        for method in ("get_many", "get", "commit"):
            if timed.calls.get(method):
                rows.append(Row(f"  of which store.{method} ({timed.calls[method]} calls)",
                                row.events, timed.seconds[method],
                                f"{timed.seconds[method] / row.seconds:.0%} of the run"))

        ceiling = _insert_ceiling(uri, f"{db_name}_ceiling", events[: args.ceiling_sample],
                                  args.batch)
        ceiling.name = f"server ceiling: bare inserts of their documents (sample {ceiling.events})"
        rows.append(ceiling)

        sample = events[: args.baseline_sample]
        naive = _naive(uri, naive_db, sample, args.baseline_budget)
        naive.name = f"naive find+update per doc -> FerretDB (sample {len(sample)})"
        naive.note = (f"extrapolated to {len(events)}: {len(events) / naive.rate:,.0f} s"
                      if naive.rate else "")
        rows.append(naive)
    finally:
        try:
            with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
                client.drop_database(db_name)
            admin.delete_topics(list(topics.specs()))
        except Exception as e:  # cleanup only: the figures matter more
            print(f"cleanup failed: {type(e).__name__}: {e}", file=sys.stderr)
        finally:
            admin.close()
        print(_table(rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
