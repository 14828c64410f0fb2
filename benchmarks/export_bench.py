"""Evidence export in bounded memory: N synthetic audit records, exported as JSONL and
CSV, with the peak Python heap during each export (tracemalloc) printed.

    python -m benchmarks.export_bench --records 1000000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from infra.audit.export import export_chunks
from infra.read_store.sqlite import SQLiteReadStore


def synthetic_record(n: int) -> dict[str, object]:
    return {
        "_id": f"{n:012d}", "id": f"{n:012d}", "position": n,
        "time": f"2026-11-{1 + n % 28:02d}T10:00:00.000000Z", "actor": f"user:u{n % 50}",
        "type": "opsledger.incidents.TimelineNoteAdded.v1", "name": "TimelineNoteAdded",
        "context": "incidents", "entity_id": f"incident-{n // 10}", "entity_version": n % 10,
        "reason": None, "data": {"text": f"note {n} " + "x" * 80},
        "correlation_id": "c", "causation_id": "c", "prev_hash": "0" * 64, "hash": "f" * 64,
    }


def fill(store: SQLiteReadStore, records: int, chunk: int = 20_000) -> None:
    for start in range(1, records + 1, chunk):
        stop = min(start + chunk, records + 1)
        store.commit({("audit_trail", f"{n:012d}"): synthetic_record(n)
                      for n in range(start, stop)}, ("bench", stop - 1))


def measure_export(store: SQLiteReadStore, fmt: str) -> tuple[int, int, float]:
    tracemalloc.start()
    started = time.perf_counter()
    written = 0
    with open("/dev/null", "wb") as sink:
        for part in export_chunks(store, {}, fmt):
            sink.write(part)
            written += len(part)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return written, peak, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteReadStore(Path(tmp) / "readmodels.sqlite")
        started = time.perf_counter()
        fill(store, args.records)
        print(f"filled {args.records:,} audit records in {time.perf_counter() - started:.1f}s")
        print(f"{'format':<8}{'records':>12}{'bytes':>16}{'peak heap':>14}{'seconds':>10}"
              f"{'records/s':>12}")
        for fmt in ("jsonl", "csv"):
            written, peak, seconds = measure_export(store, fmt)
            print(f"{fmt:<8}{args.records:>12,}{written:>16,}{peak / 2**20:>11.1f} MiB"
                  f"{seconds:>10.1f}{args.records / seconds:>12,.0f}")
        store.close()


if __name__ == "__main__":
    main()
