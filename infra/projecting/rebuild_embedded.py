"""Blue/green rebuild of the live embedded read models, with no downtime.

The new generation of tables is built beside the old one from the event store
while the old one keeps serving (and the follower keeps updating it); then, in one
write transaction, whatever was stored meanwhile is folded in, the new tables are
renamed into place and the follower's checkpoint moves on. Readers never see a
half-built model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from domain.envelope import EventEnvelope
from domain.ledger import Ledger
from infra.event_store.log import iter_envelopes, read_envelopes
from infra.projecting.follower import EmbeddedFollower
from infra.projecting.replay import BATCH, ReplayStats
from infra.projecting.replay import replay as fold_into
from infra.read_store.bulk_load_process import BulkLoadProcess
from infra.read_store.sqlite import BUILD_PREFIX, SQLiteReadStore
from infra.read_store.sqlite_bulk import SQLiteBulkStore
from projections.engine import fold_events
from projections.fold import Document
from projections.registry import ALL_FOLDS

CATCH_UP_LIMIT = 1_000_000


def rebuild_embedded(
    ledger: Ledger, live: SQLiteReadStore, *, batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
    events: Iterable[EventEnvelope] | None = None,
) -> tuple[ReplayStats, int]:
    """Rebuild and switch; returns the build's stats and the position switched at.
    ``events``: the ledger's log as ``iter_envelopes`` reads it (by default, that),
    e.g. read ahead by another process (:mod:`infra.event_store.read_ahead`)."""
    stale = SQLiteBulkStore(live.path, prefix=BUILD_PREFIX)
    try:
        stale.drop_generation()  # what an unfinished rebuild left
    finally:
        stale.close()
    # Written by a process of its own while this one folds (see bulk_load_process).
    loader = BulkLoadProcess(live.path, prefix=BUILD_PREFIX)
    try:
        log = iter_envelopes(ledger) if events is None else events
        stats = fold_into(log, loader, batch=batch, progress=progress)
    finally:
        loader.close()
    built_to = max(stats.last_position, 0)
    build = SQLiteReadStore(live.path, prefix=BUILD_PREFIX)
    try:
        def catch_up(b: SQLiteReadStore) -> tuple[Mapping[tuple[str, str], Document], int]:
            envelopes, last = read_envelopes(ledger, built_to, CATCH_UP_LIMIT)
            return fold_events(envelopes, ALL_FOLDS, b.get), last

        switched = live.switch_to(build, catch_up, (EmbeddedFollower.NAME,))
        return stats, switched
    finally:
        build.close()
