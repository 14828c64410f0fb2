"""Every event name a read model reacts to is a real event of its context.

Folds dispatch on event names (strings), and their specifications build events by
hand, so a renamed or misspelt event would leave every fold test green while
production silently skipped it. These tests tie each name to a class in
:data:`domain.aggregate.EVENT_CLASSES` (``<context>.<EventName>``).
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest

import domain.catalog  # noqa: F401  (registers every event class in EVENT_CLASSES)
from domain.aggregate import EVENT_CLASSES
from projections import compliance_controls, people_timeline, performance_timeline, risk_timeline
from projections.registry import ALL_FOLDS
from projections.views import View

VIEWS: list[View] = [
    view for fold in ALL_FOLDS
    if isinstance(view := getattr(fold.evolve, "__self__", None), View)
]
"""Every view the engine runs (a view's fold evolves with the view's own method)."""


def unknown(context: str, names: set[str]) -> list[str]:
    return sorted(n for n in names if f"{context}.{n}" not in EVENT_CLASSES)


def test_every_view_is_found() -> None:
    assert {view.collection for view in VIEWS} == {
        "teams", "members", "goals", "incidents", "feedback", "tokens", "control_policies",
        "finding_decisions", "risks", "contingency_plans", "trainings", "policies",
        "legal_holds"}


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.collection)
def test_every_view_handler_names_an_event_of_its_context(view: View) -> None:
    assert unknown(view.context, set(view.handlers)) == []
    assert view.creating <= set(view.handlers)


@pytest.mark.parametrize("tellers", [performance_timeline.TELLERS, risk_timeline.TELLERS,
                                     people_timeline.TELLERS],
                         ids=["performance_timeline", "risk_timeline", "people_timeline"])
def test_every_timeline_teller_names_an_event_of_its_context(tellers: dict[Any, Any]) -> None:
    assert tellers
    assert sorted(f"{c}.{n}" for c, n in tellers if f"{c}.{n}" not in EVENT_CLASSES) == []


def moment_types() -> set[str]:
    """The timeline entry types (event names) the compliance controls look for:
    every string passed to ``_moments(incident, ...)``."""
    tree = ast.parse(inspect.getsource(compliance_controls))
    return {
        arg.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_moments"
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    }


def test_every_event_the_compliance_controls_look_for_is_an_incident_event() -> None:
    types = moment_types()
    assert types >= {"IncidentOpened", "IncidentAcknowledged", "PostmortemPublished"}
    assert unknown("incidents", types) == []


def test_the_risks_context_names_each_event_after_its_aggregate() -> None:
    """The two views of the context tell their events apart by name (``Risk...``,
    ``Plan...``), so a new event named otherwise would reach neither."""
    from domain.risks.aggregate import Risk
    from domain.risks.events import EVENTS
    from domain.risks.plan import ContingencyPlan

    risk_events = {e.__name__ for e in EVENTS if e.__qualname__.startswith("Risk.")}
    plan_events = {e.__name__ for e in EVENTS
                   if e.__qualname__.startswith("ContingencyPlan.")}
    assert risk_events | plan_events == {e.__name__ for e in EVENTS}
    assert all(n.startswith("Risk") for n in risk_events) and Risk.CONTEXT == "risks"
    assert all(n.startswith("Plan") for n in plan_events) and ContingencyPlan.CONTEXT == "risks"


def test_the_people_context_names_each_event_after_its_aggregate() -> None:
    """The two views of the context tell their events apart by name (``Training...``,
    ``Policy...``), so a new event named otherwise would reach neither."""
    from domain.people.events import EVENTS
    from domain.people.policy import Policy
    from domain.people.training import Training

    trainings = {e.__name__ for e in EVENTS if e.__qualname__.startswith("Training.")}
    policies = {e.__name__ for e in EVENTS if e.__qualname__.startswith("Policy.")}
    assert trainings | policies == {e.__name__ for e in EVENTS}
    assert all(n.startswith("Training") for n in trainings) and Training.CONTEXT == "people"
    assert all(n.startswith("Policy") for n in policies) and Policy.CONTEXT == "people"
