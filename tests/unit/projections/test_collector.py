"""The cyclic collector around folds: a large fold's survivors are frozen out of the young
passes, a small fold changes nothing, and a cycle frozen meanwhile is still collected, at
the paused collector's cadence of full collections."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from domain.envelope import EventEnvelope
from projections import collector
from projections.engine import fold_events
from projections.registry import ALL_FOLDS
from tests.unit.projections.builders import TEAM, ev


@pytest.fixture(autouse=True)
def _own_collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts from a collector of its own: nothing frozen, nothing counted."""
    thresholds = gc.get_threshold()
    gc.collect()
    monkeypatch.setattr(collector, "_since_full", {"folds": 0, "frozen": 0, "alive": 0})
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        gc.collect()


def team_events(count: int) -> list[EventEnvelope]:
    events = [ev("teams", "TeamCreated", TEAM, 1, 1, "2026-03-02T09:00:00Z", name="SRE")]
    events += [ev("teams", "TeamRenamed", TEAM, v, v, "2026-03-02T09:00:00Z", name=f"SRE {v}")
               for v in range(2, count + 1)]
    return events


def in_young_generations(objects: list[object]) -> list[bool]:
    young = {id(o) for o in gc.get_objects()}  # the frozen are in none of them
    return [id(o) in young for o in objects]


def test_a_large_fold_freezes_the_documents_it_leaves_so_young_passes_skip_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(collector, "LARGE", 50)
    # given a fold that leaves more containers alive than LARGE
    changes = fold_events(team_events(40), ALL_FOLDS, lambda c, i: None)
    docs = list(changes.values())
    assert len(docs) > 40
    # then none of its documents is left for the collector's passes, all still tracked
    assert in_young_generations(docs) == [False] * len(docs)
    assert all(gc.is_tracked(d) for d in docs)


def test_a_small_fold_leaves_the_collector_as_it_was() -> None:
    frozen = gc.get_freeze_count()
    changes = fold_events(team_events(2), ALL_FOLDS, lambda c, i: None)
    assert gc.get_freeze_count() == frozen
    assert in_young_generations(list(changes.values())) == [True] * len(changes)
    assert gc.isenabled()


class Node:
    """An object in a reference cycle, which only the cyclic collector frees."""

    def __init__(self) -> None:
        self.me = self


def test_a_cycle_frozen_by_a_large_fold_is_collected_at_the_next_full_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(collector, "LARGE", 50)
    gc.set_threshold(700, 2, 2)  # a full collection due every 2 * 2 large folds
    # given a cycle alive while a large fold ends, then dropped
    cycle = Node()
    gone = weakref.ref(cycle)
    fold_events(team_events(40), ALL_FOLDS, lambda c, i: None)
    del cycle
    # then the young passes do not free it (it was frozen with the fold's documents)
    gc.collect(1)
    assert gone() is not None
    # but the large folds that make the next full collection due do
    for _ in range(2):
        fold_events(team_events(40), ALL_FOLDS, lambda c, i: None)
    assert gone() is not None
    fold_events(team_events(40), ALL_FOLDS, lambda c, i: None)
    assert gone() is None
    assert gc.isenabled()
