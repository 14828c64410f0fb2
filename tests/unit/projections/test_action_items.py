"""Action items as read models, as specifications: given these incident events, then
the item records on the incident's document and the documents of the list across
incidents."""

from __future__ import annotations

from datetime import date
from typing import Any

import domain.catalog  # noqa: F401  (registers every event class in EVENT_CLASSES)
from domain.aggregate import EVENT_CLASSES
from domain.envelope import EventEnvelope
from domain.incidents.action_items import postmortem_item_id
from projections.fold import Document
from projections.views import action_items
from projections.views.action_items import ITEM_EVENTS, items_of, list_id, status_on
from tests.unit.projections.builders import (
    ADA,
    BOB,
    INCIDENT,
    TEAM,
    Store,
    project,
    reviewed_incident,
)

FIRST = postmortem_item_id(INCIDENT, 1)
SECOND = postmortem_item_id(INCIDENT, 2)
ADDED = "00000000-0000-4000-8000-0000000000c1"
CANARY = {"title": "Add a canary", "owner_id": ADA, "due": "2026-12-01"}
ALERT = {"title": "Alert on 5xx", "owner_id": BOB, "due": "2026-12-15"}


def reviewed(*follow_ups: tuple[str, str, dict[str, Any]]) -> list[EventEnvelope]:
    return reviewed_incident([CANARY, ALERT], *follow_ups)


def incident_items(store: Store) -> list[Document]:
    doc = store.get("incidents", INCIDENT)
    assert doc is not None
    return doc["action_items"]  # type: ignore[no-any-return]


def test_every_item_event_name_is_an_event_of_the_incidents_context() -> None:
    assert sorted(n for n in ITEM_EVENTS if f"incidents.{n}" not in EVENT_CLASSES) == []


def test_published_items_are_open_records_with_their_derived_ids() -> None:
    events = reviewed()

    [canary, alert] = incident_items(project(*events))

    assert canary == {
        "id": FIRST, "title": "Add a canary", "owner_id": ADA, "due": "2026-12-01",
        "status": "open", "added_at": "2026-11-30T10:00:00Z", "completed_at": None,
        "note": None, "link": None, "cancelled_at": None, "cancel_reason": None,
        "due_history": [], "owner_history": [], "event_ids": [events[3].id],
    }
    assert (alert["id"], alert["owner_id"]) == (SECOND, BOB)


def test_follow_ups_change_their_item_and_keep_its_history() -> None:
    events = reviewed(
        ("ActionItemAdded", "2026-12-01T09:00:00Z",
         {"item_id": ADDED, "title": "Shard the queue", "owner_id": BOB, "due": "2026-12-20"}),
        ("ActionItemRescheduled", "2026-12-01T10:00:00Z",
         {"item_id": FIRST, "from_due": "2026-12-01", "due": "2026-12-08",
          "reason": "vendor late"}),
        ("ActionItemReassigned", "2026-12-02T10:00:00Z",
         {"item_id": FIRST, "from_owner_id": ADA, "owner_id": BOB, "reason": "Ada away"}),
        ("ActionItemCompleted", "2026-12-05T10:00:00Z",
         {"item_id": FIRST, "note": "canary live", "link": "https://jira.example/OPS-1"}),
        ("ActionItemCancelled", "2026-12-06T10:00:00Z",
         {"item_id": SECOND, "reason": "superseded"}),
    )

    [canary, alert, added] = incident_items(project(*events))

    assert {k: canary[k] for k in ("status", "owner_id", "due", "completed_at", "note",
                                   "link")} == {
        "status": "done", "owner_id": BOB, "due": "2026-12-08",
        "completed_at": "2026-12-05T10:00:00Z", "note": "canary live",
        "link": "https://jira.example/OPS-1"}
    assert canary["due_history"] == [{
        "from_due": "2026-12-01", "due": "2026-12-08", "reason": "vendor late",
        "at": "2026-12-01T10:00:00Z", "actor": "user:alice", "event_id": events[5].id}]
    assert [(h["from_owner_id"], h["owner_id"]) for h in canary["owner_history"]] == [(ADA, BOB)]
    assert canary["event_ids"] == [events[i].id for i in (3, 5, 6, 7)]
    assert (alert["status"], alert["cancelled_at"], alert["cancel_reason"]) == (
        "cancelled", "2026-12-06T10:00:00Z", "superseded")
    assert (added["id"], added["status"], added["added_at"], added["event_ids"]) == (
        ADDED, "open", "2026-12-01T09:00:00Z", [events[4].id])


def test_every_follow_up_is_on_the_incidents_timeline() -> None:
    events = reviewed(("ActionItemCancelled", "2026-12-06T10:00:00Z",
                       {"item_id": SECOND, "reason": "superseded"}))

    doc = project(*events).get("incidents", INCIDENT)

    assert doc is not None
    assert doc["timeline"][-1] == {
        "at": "2026-12-06T10:00:00Z", "type": "ActionItemCancelled", "actor": "user:alice",
        "event_id": events[4].id, "details": {"item_id": SECOND, "reason": "superseded"}}


def test_a_document_folded_before_item_records_existed_derives_them_from_its_postmortem() -> None:
    events = reviewed(("ActionItemCompleted", "2026-12-05T10:00:00Z",
                       {"item_id": SECOND, "note": "done", "link": None}))
    store = project(*events[:4])
    old = store.docs[("incidents", INCIDENT)]
    del old["action_items"]  # as a store folded by the previous release holds it

    assert [item["id"] for item in items_of(old)] == [FIRST, SECOND]
    store.apply(events[4:])
    assert [item["status"] for item in incident_items(store)] == ["open", "done"]


def test_the_list_holds_one_document_per_item_with_its_incident_and_team() -> None:
    events = reviewed(
        ("ActionItemAdded", "2026-12-01T09:00:00Z",
         {"item_id": ADDED, "title": "Shard the queue", "owner_id": BOB, "due": "2026-12-20"}),
        ("ActionItemCompleted", "2026-12-05T10:00:00Z",
         {"item_id": FIRST, "note": "canary live", "link": None}),
    )

    store = project(*events)

    listed = {doc["id"]: doc for doc in store.all(action_items.COLLECTION)}
    assert set(listed) == {FIRST, SECOND, ADDED}
    assert store.get(action_items.COLLECTION, list_id(INCIDENT, FIRST)) == {
        **incident_items(store)[0], "incident_id": INCIDENT, "team_id": TEAM}
    assert (listed[FIRST]["status"], listed[SECOND]["status"]) == ("done", "open")
    assert listed[ADDED]["title"] == "Shard the queue"


def test_a_redelivered_follow_up_changes_nothing() -> None:
    events = reviewed(("ActionItemRescheduled", "2026-12-01T10:00:00Z",
                       {"item_id": FIRST, "from_due": "2026-12-01", "due": "2026-12-08",
                        "reason": "vendor late"}))
    store = project(*events)

    assert store.apply(events[-1:]) == {}
    assert len(incident_items(store)[0]["due_history"]) == 1


def test_an_open_item_is_overdue_once_its_due_day_is_over() -> None:
    item = {"status": "open", "due": "2026-12-01"}

    assert status_on(item, date(2026, 12, 1)) == "open"
    assert status_on(item, date(2026, 12, 2)) == "overdue"
    assert status_on({**item, "status": "done"}, date(2027, 1, 1)) == "done"
    assert status_on({**item, "status": "cancelled"}, date(2027, 1, 1)) == "cancelled"
