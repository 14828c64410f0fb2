"""A replay folds its next batch while the last one is written, and loses nothing."""

from __future__ import annotations

import time
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

import pytest

from benchmarks.projector_bench import MemoryStore
from infra.projecting.replay import REPLAY_CHECKPOINT, replay
from infra.read_store.sqlite import SQLiteReadStore
from projections.engine import DocKey
from projections.fold import Document
from tests.unit.projections.builders import INCIDENT, TEAM, Store, a_team, ev


def story() -> list:
    """A team, then an incident whose every version has a history record evolved from
    the one before: a batch boundary anywhere splits a record from its source."""
    return [
        *a_team(),
        ev("incidents", "IncidentOpened", INCIDENT, 1, 4, "2026-11-23T14:00:00Z",
           team_id=TEAM, severity="SEV2", service="payments-api", summary="5xx"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 5, "2026-11-23T14:03:00Z"),
        ev("incidents", "IncidentEscalated", INCIDENT, 3, 6, "2026-11-23T14:10:00Z",
           from_severity="SEV2", to_severity="SEV1", reason="all regions"),
        ev("incidents", "IncidentResolved", INCIDENT, 4, 7, "2026-11-23T15:00:00Z",
           summary="rolled back", root_cause="bad deploy"),
    ]


class SlowStore(MemoryStore):
    """A store whose writes take a while to land, as a disk's do."""

    def commit(self, changes: Mapping[DocKey, dict[str, Any]], checkpoint: tuple[str, int],
               *, owned: Any = frozenset()) -> frozenset[Any]:
        time.sleep(0.05)
        return super().commit(changes, checkpoint, owned=owned)


class FailingStore(MemoryStore):
    def commit(self, changes: Mapping[DocKey, dict[str, Any]], checkpoint: tuple[str, int],
               *, owned: Set[Any] = frozenset()) -> frozenset[Any]:
        raise OSError("disk full")


def folded_at_once() -> dict[DocKey, Document]:
    store = Store()
    store.apply(story())
    return store.docs


def test_a_batch_folded_while_the_one_before_is_still_being_written_reads_its_documents(
) -> None:
    target = SlowStore()

    stats = replay(story(), target, batch=2)  # type: ignore[arg-type]

    assert target.docs == folded_at_once()
    assert stats.events == 7 and target.checkpoint(REPLAY_CHECKPOINT) == 7


def test_a_replay_into_sqlite_holds_what_one_fold_of_everything_makes(tmp_path: Path) -> None:
    target = SQLiteReadStore(tmp_path / "readmodels.sqlite")

    replay(story(), target, batch=3)

    expected = folded_at_once()
    assert {key: target.get(*key) for key in expected} == expected
    assert target.checkpoint(REPLAY_CHECKPOINT) == 7
    target.close()


def test_a_write_that_fails_stops_the_replay_with_its_error() -> None:
    with pytest.raises(OSError, match="disk full"):
        replay(story(), FailingStore(), batch=2)  # type: ignore[arg-type]


def test_a_replay_into_sqlite_leaves_every_index_a_fresh_store_has(tmp_path: Path) -> None:
    def indexes(store: SQLiteReadStore) -> list[str]:
        rows = store._writer.execute(
            "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        return sorted(f"{table}: {sql.split(' ON ', 1)[1]}" for table, sql in rows)

    fresh = SQLiteReadStore(tmp_path / "fresh.sqlite")
    target = SQLiteReadStore(tmp_path / "readmodels.sqlite")

    replay(story(), target, batch=3)

    assert indexes(target) == indexes(fresh) and indexes(fresh)
    fresh.close()
    target.close()
