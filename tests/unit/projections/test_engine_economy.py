"""The engine's economies keep its answers: what it skips, shares and switches off."""

from __future__ import annotations

import gc

import pytest

from domain.envelope import EventEnvelope
from projections.engine import fold_events
from projections.fold import Document, Fold, Lookup, copy_doc
from projections.registry import ALL_FOLDS
from projections.views import entity_state
from tests.unit.projections.builders import GOAL, INCIDENT, TEAM, ev


def incident_opened() -> EventEnvelope:
    return ev("incidents", "IncidentOpened", INCIDENT, 1, 1, "2026-03-02T09:00:00Z",
              team_id=TEAM, severity="SEV2", service="payments-api", summary="5xx")


def test_a_fold_of_one_context_is_not_asked_to_route_another_contexts_events() -> None:
    asked: list[str] = []

    def route(event: object, lookup: Lookup) -> list[str]:
        asked.append(getattr(event, "context", ""))
        return []

    fold = Fold("goals_only", route, lambda doc, e, lookup: doc, contexts=frozenset({"goals"}))
    events = [incident_opened(), ev("goals", "GoalSet", "g1", 1, 2, "2026-03-02T09:00:00Z")]

    fold_events(events, [fold], lambda c, i: None)

    assert asked == ["goals"]


def test_evolving_an_entity_leaves_the_state_it_started_from_as_it_was() -> None:
    # The history record of version n-1 must keep its state when version n is
    # evolved from it, though the copy shares its (never mutated) list of event ids.
    opened = incident_opened()
    before = entity_state(None, opened)
    assert before is not None
    kept = copy_doc(before)
    assigned = ev("incidents", "ResponderAssigned", INCIDENT, 2, 2, "2026-03-02T09:05:00Z",
                  responder_id="member-ada")

    after = entity_state(before, assigned)

    assert before == kept
    assert after is not None and after["responders"] == ["member-ada"]
    assert after["event_ids"] == [*kept["event_ids"], assigned.id]


def test_the_cyclic_collector_is_back_on_after_a_fold_even_one_that_raises() -> None:
    def boom(doc: Document | None, event: object, lookup: Lookup) -> Document:
        raise RuntimeError("a broken fold")

    fold = Fold("broken", lambda e, lookup: ["x"], boom)
    assert gc.isenabled()

    fold_events([incident_opened()], ALL_FOLDS, lambda c, i: None)
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        fold_events([incident_opened()], [fold], lambda c, i: None)
    assert gc.isenabled()


def test_a_fold_leaves_the_collector_off_when_the_caller_had_switched_it_off() -> None:
    gc.disable()
    try:
        fold_events([incident_opened()], ALL_FOLDS, lambda c, i: None)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_timeline_route_asked_again_with_the_same_lookup_reads_it_again() -> None:
    # The projector's prefetch asks routes in rounds with one lookup that learns more
    # each round: a story remembered between the rounds would hide the goal fetched.
    from projections.performance_timeline import FOLDS

    fold = FOLDS[0]
    checked_in = ev("goals", "ProgressCheckedIn", GOAL, 2, 2, "2026-03-02T09:00:00Z",
                    value=5)
    known: dict[tuple[str, str], Document] = {}

    def lookup(collection: str, doc_id: str) -> Document | None:
        return known.get((collection, doc_id))

    assert list(fold.route(checked_in, lookup)) == []
    known[("goals", GOAL)] = {"id": GOAL, "team_id": TEAM, "owner_id": "member-ada",
                              "title": "Faster pages", "unit": "min", "progress_pct": 50}
    assert sorted(fold.route(checked_in, lookup)) == [
        f"member:member-ada:{checked_in.id}", f"team:{TEAM}:{checked_in.id}"]
