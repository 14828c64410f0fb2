"""The bulk paths (a replay into a new file, a rebuild of the live tables) make the
same read models, document for document, as the follower folding command by command."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.history import World, drive
from benchmarks.replay_data import erase_some
from infra.event_store.log import iter_envelopes
from infra.event_store.read_ahead import ReadAhead
from infra.projecting.rebuild_embedded import rebuild_embedded
from infra.projecting.replay import replay
from infra.read_store.sqlite import SQLiteReadStore
from infra.read_store.sqlite_bulk import SQLiteBulkStore
from infra.settings import Settings
from services.api.bootstrap import Runtime
from tests.e2e.test_rebuild import everything

TOKENS = ('{"bulk-equals-follower-00": '
          '{"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}}')
ODD_BATCH = 37
"""Small and odd: batches end mid-flow, so documents span many writes."""


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    opened = Runtime.open(Settings(data_dir=tmp_path / "data", tokens=TOKENS))
    yield opened
    opened.close()


def test_replay_and_rebuild_make_what_the_follower_made(runtime: Runtime, tmp_path: Path,
                                                        ) -> None:
    # Given a mixed history made through the domain (rosters, incidents, goals,
    # feedback naming customers, team changes, erasures), folded by the follower
    world = World(random.Random(15), datetime(2026, 1, 5, 8, 0, tzinfo=UTC), runtime.ledger,
                  step=(5, 120), customers=0.5)
    drive(world, 900, teams=3)
    erase_some(world, runtime.ledger)
    assert runtime.wait_for(runtime.ledger.head_position(), 30)
    live: SQLiteReadStore = runtime.sealed_store  # type: ignore[assignment]
    followed = everything(live)
    assert sum(len(docs) for docs in followed.values()) > 2000

    # When the same history is replayed in bulk into a new file
    replayed_path = tmp_path / "replayed" / "readmodels.sqlite"
    replayed_path.parent.mkdir()
    target = SQLiteBulkStore(replayed_path, new_file=True)
    stats = replay(iter_envelopes(runtime.ledger), target, batch=ODD_BATCH)
    target.close()
    replayed = SQLiteReadStore(replayed_path)

    # and the live tables are rebuilt in bulk, the log read by a child process (as
    # opsledger rebuild reads it)
    rebuilt_stats, _ = rebuild_embedded(runtime.ledger, live, batch=ODD_BATCH,
                                        events=ReadAhead(tmp_path / "data", batch=ODD_BATCH))

    # Then every table holds the same documents, all three ways
    assert stats.events == rebuilt_stats.events > 900
    assert everything(replayed) == followed
    assert everything(live) == followed
    replayed.close()
