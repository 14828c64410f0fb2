"""Point-in-time replay: rebuild every read model as it was at an instant, into a
separate store, from the event store (or any ordered source of events).

The live read models are never touched: the target must be another store, which
the replay alone writes. That is what makes a replay fast (:mod:`.replay_writer`):
what it last wrote is what the target holds, so it reads little back; write-once
documents are computed without a read (``blind_writes``); a batch is written while
the next is folded. Events stream through in batches, so memory stays flat however
long the log.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from domain.envelope import EventEnvelope
from infra.projecting.replay_writer import ReplayWriter, SoleWriterStore
from infra.read_store.bulk_load_process import BulkLoadProcess
from infra.read_store.port import ReadStore
from projections.engine import fold_events
from projections.registry import ALL_FOLDS
from projections.times import parse_time

REPLAY_CHECKPOINT = "replay"
BATCH = 2000
"""Events folded and written per transaction (two batches are in memory at once)."""


@dataclass(frozen=True)
class ReplayStats:
    events: int
    last_position: int
    seconds: float
    read_seconds: float = 0.0
    """Reading the events (the caller's iterable)."""
    fold_seconds: float = 0.0
    write_seconds: float = 0.0
    """Writing batches, on the writer's thread, beside the fold."""
    wait_seconds: float = 0.0
    """Waiting for the writer: the part of the writing the fold did not hide."""
    finish_seconds: float = 0.0
    """After the last batch: the indexes made at the end, a new file made durable."""
    fold_cpu_seconds: float = 0.0
    write_cpu_seconds: float = 0.0
    """CPU time of the two sides (on a busy machine, what each costs)."""
    writer_process_cpu_seconds: float = 0.0
    writer_process_rss_mb: float = 0.0
    """The child process that wrote the target, if one did (:class:`BulkLoadProcess`)."""

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")

    def describe(self) -> str:
        return (f"{self.events} events up to position {self.last_position} in "
                f"{self.seconds:.2f}s ({self.events_per_second:,.0f} events/s)")

    def split(self) -> str:
        """Where the time went: which side bounds the replay."""
        return (f"read {self.read_seconds:.1f}s, fold {self.fold_seconds:.1f}s "
                f"({self.fold_cpu_seconds:.1f} CPU-s with the reads), "
                f"write {self.write_seconds:.1f}s on its own thread "
                f"({self.write_cpu_seconds:.1f} CPU-s; the fold waited for it "
                f"{self.wait_seconds:.1f}s), finish {self.finish_seconds:.1f}s"
                + (f"; the read store written by a child process "
                   f"({self.writer_process_cpu_seconds:.1f} CPU-s, peak "
                   f"{self.writer_process_rss_mb:.0f} MB)"
                   if self.writer_process_rss_mb else ""))


def _batches(events: Iterable[EventEnvelope], size: int) -> Iterator[list[EventEnvelope]]:
    batch: list[EventEnvelope] = []
    for e in events:
        batch.append(e)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def replay(
    events: Iterable[EventEnvelope], target: ReadStore | SoleWriterStore, *,
    as_of: str | None = None, effective_at: str | None = None, batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> ReplayStats:
    """Fold ``events`` (in position order) that the ledger had recorded at ``as_of``
    (a fixed-width ISO time, see ``domain.envelope.iso_time``) into ``target``: the
    read models as they stood then, whenever the changes happened. With
    ``effective_at``, only the events that had happened by then: the read models as
    things stood at ``effective_at``, as known at ``as_of`` (or now).

    The ledger keeps each aggregate's events in business order, so what had happened
    by ``effective_at`` is a prefix of every stream: no fold sees a gap."""
    started = time.monotonic()
    happened_by = parse_time(effective_at) if effective_at is not None else None
    selected = (
        e for e in events
        if (as_of is None or e.recorded_at <= as_of)
        and (happened_by is None or parse_time(e.occurred_at) <= happened_by)
    )
    # No reference cycles are made here (events, documents: trees), and the cyclic
    # collector, run between folds, walked every remembered document at each full
    # collection: a third of the main thread's time on 60,000 events.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _replay(selected, target, batch, progress, started)
    finally:
        if collecting:
            gc.enable()


def _replay(selected: Iterable[EventEnvelope], target: ReadStore | SoleWriterStore,
            batch: int, progress: Callable[[int], None] | None,
            started: float) -> ReplayStats:
    count = 0
    last = 0
    writer = ReplayWriter(target)
    clock = time.perf_counter
    reading = folding = 0.0
    cpu = time.thread_time()
    with writer.loading():
        try:
            batches = _batches(selected, batch)
            while True:
                t0 = clock()
                chunk = next(batches, None)
                t1 = clock()
                reading += t1 - t0
                if chunk is None:
                    break
                changes = fold_events(chunk, ALL_FOLDS, writer.read, blind_writes=True)
                folding += clock() - t1
                last = chunk[-1].position
                writer.write(changes, (REPLAY_CHECKPOINT, last))
                count += len(chunk)
                if progress is not None:
                    progress(last)
        finally:
            writer.close()
        loaded = clock()
        # The main thread's CPU time, less the waits (which take none).
        main_cpu = time.thread_time() - cpu
    finish = clock() - loaded
    child = target if isinstance(target, BulkLoadProcess) else None
    return ReplayStats(count, last, time.monotonic() - started, reading, folding,
                       writer.write_seconds, writer.wait_seconds, finish,
                       fold_cpu_seconds=main_cpu, write_cpu_seconds=writer.write_cpu_seconds,
                       writer_process_cpu_seconds=child.cpu_seconds if child else 0.0,
                       writer_process_rss_mb=child.rss_mb if child else 0.0)
