"""How fast ``opsledger replay`` could go with the store's writing taken away.

    python -m benchmarks.replay_ceiling --data-dir benchmarks/.data/<store>

The replay as the CLI runs it (the log read by its child process, the fold on the main
thread, each batch's documents made JSON on the writer thread, 500 to a part), into a
:class:`DiscardingStore` that drops the JSON instead of sending it to a process that
writes SQLite. What is left is the main process's own work: no change to how the read
store is written can make a replay faster than this on the same machine. Prints the
CLI's two lines (``replayed …``, ``time: …``), for :mod:`benchmarks.replay_bench`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson

from infra.event_store import open_ledger
from infra.event_store.read_ahead import ReadAhead
from infra.projecting.replay import replay
from infra.read_store.bulk_load_process import PART_ROWS
from infra.read_store.sqlite_bulk import row_parts
from infra.settings import Settings
from projections.compliance_history import COLLECTION as HISTORY
from projections.engine import DocKey
from projections.fold import Document
from projections.registry import APPEND_ONLY

AS_OF = "2100-01-01T00:00:00"


class DiscardingStore:
    """A replay's target that writes nothing but answers what a replay reads back: the
    documents it rewrites (kept as JSON, a few MB), and each entity's latest history
    record (the source of its next one). Any other read finds nothing, and the replay
    fails with a history gap rather than measure a replay that lost documents."""

    def __init__(self) -> None:
        self._owned: dict[DocKey, bytes] = {}
        self._latest: dict[str, Document] = {}

    def load(self, changes: Mapping[DocKey, Document], checkpoint: tuple[str, int]) -> None:
        for (collection, _), doc in changes.items():
            if collection == HISTORY:
                self._latest[str(doc["entity_id"])] = doc
        for collection, params in row_parts(changes, PART_ROWS):
            if collection not in APPEND_ONLY:
                for at in range(0, len(params), 2):
                    self._owned[(collection, str(params[at]))] = bytes(params[at + 1])

    def get(self, collection: str, doc_id: str) -> Document | None:
        if collection == HISTORY:
            latest = self._latest.get(doc_id.rsplit(":", 1)[0])
            return latest if latest is not None and latest["id"] == doc_id else None
        stored = self._owned.get((collection, doc_id))
        return None if stored is None else dict(orjson.loads(stored))

    @contextlib.contextmanager
    def bulk_loading(self) -> Iterator[None]:
        yield

    def empty(self) -> bool:
        return not self._owned and not self._latest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replay_ceiling",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if not (args.data_dir / "events.sqlite").exists():
        parser.error(f"no event store in {args.data_dir} (events.sqlite)")
    settings = Settings(data_dir=args.data_dir)
    head = open_ledger(settings).head_position()
    events = ReadAhead(settings.data_dir)
    try:
        stats = replay(events, DiscardingStore(), as_of=AS_OF)
    finally:
        events.close()
    print(f"replayed {stats.describe()} into nothing (head {head})")
    print(f"time: {stats.split()}; {events.cost()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
