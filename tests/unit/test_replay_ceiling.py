"""The replay ceiling's target writes nothing, yet answers what a replay may read back
(the documents it rewrites, each entity's latest history record), as they were
folded (benchmarks.replay_ceiling)."""

from __future__ import annotations

from benchmarks.replay_ceiling import DiscardingStore
from infra.projecting.replay import replay
from projections.compliance_history import COLLECTION, record_id
from tests.unit.infra.test_replay_writer import INCIDENT, TEAM, folded_at_once, story


def test_a_replay_into_nothing_folds_every_event_and_can_give_back_what_it_may_read() -> None:
    target = DiscardingStore()

    stats = replay(story(), target, batch=1)

    assert stats.events == len(story())
    expected = folded_at_once()
    assert target.get("teams", TEAM) == expected[("teams", TEAM)]
    assert target.get(COLLECTION, record_id(INCIDENT, 4)) == expected[
        (COLLECTION, record_id(INCIDENT, 4))]


def test_only_an_entitys_latest_history_record_is_kept() -> None:
    target = DiscardingStore()

    replay(story(), target, batch=1)

    assert target.get(COLLECTION, record_id(INCIDENT, 3)) is None
    assert target.get("audit_trail", "anything") is None
    assert not target.empty()
