"""A history record's state is taken from the entity view's document when the run has
proved it the same state, so an event's handler runs once, and evolved from the
previous record whenever the view's document holds anything else."""

from __future__ import annotations

from collections import Counter

import pytest

from domain.envelope import EventEnvelope
from projections.compliance_history import record_id
from projections.fold import Document
from projections.views import incidents
from projections.views.view import Handler
from tests.unit.projections.builders import INCIDENT, Store, project
from tests.unit.projections.test_compliance_history import incident_events


def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the incident view's handler calls, by event name."""
    calls: Counter[str] = Counter()
    handlers = dict(incidents.INCIDENTS.handlers)

    def counting(name: str, handler: Handler) -> Handler:
        def handle(doc: Document | None, event: EventEnvelope) -> Document:
            calls[name] += 1
            return handler(doc, event)
        return handle

    for name, handler in handlers.items():
        monkeypatch.setitem(incidents.INCIDENTS.handlers, name,  # type: ignore[arg-type]
                            counting(name, handler))
    return calls


def states(store: Store) -> list[Document]:
    return [store.docs[("compliance_history", record_id(INCIDENT, v))]["state"]
            for v in (1, 2, 3)]


def test_after_an_entitys_first_event_in_a_run_each_handler_runs_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = states(project(*incident_events()))
    calls = counted(monkeypatch)
    # when an incident's three events are folded in one run
    store = project(*incident_events())
    # then the first is evolved for the view and for its record, the later ones once
    assert calls == {"IncidentOpened": 2, "IncidentAcknowledged": 1, "IncidentEscalated": 1}
    # and every record holds the state it held when each was evolved for it
    assert states(store) == expected
    view = {k: v for k, v in store.docs[("incidents", INCIDENT)].items() if k[:1] != "_"}
    assert states(store)[-1] == view


def test_a_record_is_evolved_from_the_previous_record_when_the_view_holds_something_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened, *later = incident_events()
    # given a stored view document that differs from the stored history record
    store = project(opened)
    store.docs[("incidents", INCIDENT)]["service"] = "changed behind history's back"
    calls = counted(monkeypatch)
    # when the next events are folded
    store.apply(later)
    # then the records follow their own previous state, each handler running twice
    assert [s["service"] for s in states(store)] == ["payments-api"] * 3
    assert store.docs[("incidents", INCIDENT)]["service"] == "changed behind history's back"
    assert calls == {"IncidentAcknowledged": 2, "IncidentEscalated": 2}
