"""The feed of committed runs, as specifications: the follower is given a run only when
it follows on from its position without a gap, whole runs at a time; anything it
cannot be sure of (a gap, a hole inside a group, an overflow) sends it to the store."""

from __future__ import annotations

from domain.envelope import EventEnvelope
from infra.event_store.committed import CommittedFeed


def envelope(position: int) -> EventEnvelope:
    return EventEnvelope(
        id=f"e{position}", type="opsledger.teams.TeamFormed.v1", context="teams",
        name="TeamFormed", subject="s", stream_version=1, position=position,
        occurred_at="t", recorded_at="t", actor="user:a", correlation_id="",
        causation_id="", schema_version=1)


def positions(taken: tuple[list[EventEnvelope], int] | None) -> tuple[list[int], int] | None:
    return None if taken is None else ([e.position for e in taken[0]], taken[1])


def test_runs_that_follow_on_from_the_position_are_taken_together_in_order() -> None:
    feed = CommittedFeed()
    feed.publish([1, 2, 3], [envelope(1), envelope(3)])  # 2: a private record
    feed.publish([4, 5], [envelope(5), envelope(4)])

    assert positions(feed.take(0, 100)) == ([1, 3, 4, 5], 5)
    assert feed.take(5, 100) is None  # taken: nothing is given twice


def test_a_gap_before_the_first_run_sends_the_follower_to_the_store() -> None:
    feed = CommittedFeed()
    feed.publish([4, 5], [envelope(4), envelope(5)])  # 1..3: another process wrote them

    assert feed.take(0, 100) is None
    assert positions(feed.take(3, 100)) == ([4, 5], 5)  # once the store gave it 1..3


def test_taking_stops_at_a_gap_between_runs() -> None:
    feed = CommittedFeed()
    feed.publish([1], [envelope(1)])
    feed.publish([3], [envelope(3)])

    assert positions(feed.take(0, 100)) == ([1], 1)
    assert feed.take(1, 100) is None


def test_runs_already_applied_are_dropped_and_a_run_begun_is_taken_from_the_position() -> None:
    feed = CommittedFeed()
    feed.publish([1, 2], [envelope(1), envelope(2)])
    feed.publish([3, 4, 5], [envelope(3), envelope(4), envelope(5)])

    assert positions(feed.take(3, 100)) == ([4, 5], 5)  # the store gave it 1..3


def test_whole_runs_are_taken_up_to_about_the_limit() -> None:
    feed = CommittedFeed()
    feed.publish([1, 2], [envelope(1), envelope(2)])
    feed.publish([3, 4], [envelope(3), envelope(4)])
    feed.publish([5], [envelope(5)])

    assert positions(feed.take(0, 3)) == ([1, 2, 3, 4], 4)
    assert positions(feed.take(4, 3)) == ([5], 5)


def test_a_group_with_a_hole_empties_the_feed() -> None:
    feed = CommittedFeed()
    feed.publish([1], [envelope(1)])
    feed.publish([2, 4], [envelope(2), envelope(4)])

    assert feed.take(0, 100) is None


def test_the_oldest_runs_go_beyond_the_bound() -> None:
    feed = CommittedFeed(max_envelopes=4)
    feed.publish([1], [envelope(1)])
    feed.publish([2], [envelope(2)])
    feed.publish([3], [envelope(3)])  # each run counts its envelopes and itself

    assert feed.take(0, 100) is None
    assert positions(feed.take(1, 100)) == ([2, 3], 3)
