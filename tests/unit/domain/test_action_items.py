"""Postmortem action items, as specifications: given an incident with a postmortem,
when a follow-up command, then these events (or this error)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import pytest

from domain.envelope import envelope_of
from domain.errors import (
    DomainError,
    NotFoundError,
    OutOfOrderError,
    OutOfScopeError,
    ValidationError,
)
from domain.incidents import commands as c
from domain.incidents.action_items import postmortem_item_id
from domain.incidents.aggregate import Incident
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
INCIDENT_ID = UUID("00000000-0000-4000-8000-0000000000b1")
TEAM_ID = UUID("00000000-0000-4000-8000-00000000000a")
ADA = UUID("00000000-0000-4000-8000-000000000001")
BOB = UUID("00000000-0000-4000-8000-000000000002")
NEW_ITEM = UUID("00000000-0000-4000-8000-0000000000c1")
CANARY = {"title": "Add a canary", "owner_id": str(ADA), "due": "2025-04-01"}
ALERT = {"title": "Alert on 5xx", "owner_id": str(BOB), "due": "2025-04-15"}
FIRST = UUID(postmortem_item_id(INCIDENT_ID, 1))
SECOND = UUID(postmortem_item_id(INCIDENT_ID, 2))


def meta(minutes: int = 0) -> CommandMeta:
    return CommandMeta(actor="user:oncall", now=NOW + timedelta(minutes=minutes))


def then(incident: Incident) -> list[tuple[str, dict[str, Any]]]:
    return [(type(e).__name__, envelope_of(e, 0).data) for e in incident.collect_events()]


def given_reviewed(*, closed: bool = False, postmortem: bool = True) -> Incident:
    """A SEV2 opened at NOW, acknowledged, resolved and (unless told) reviewed with two
    action items, a minute apart each."""
    incident = Incident.open(INCIDENT_ID, TEAM_ID, "SEV2", "payments-api", "5xx", meta())
    incident.acknowledge(meta(1))
    incident.resolve("fixed config", "bad deploy", meta(2))
    if postmortem:
        incident.publish_postmortem(["bad deploy"], [CANARY, ALERT], meta(3))
    if closed:
        incident.close(meta(4))
    incident.collect_events()
    return incident


# -- stable ids -------------------------------------------------------------------------


def test_published_items_get_ids_derived_from_the_incident_and_their_place() -> None:
    incident = given_reviewed()

    assert uuid5(INCIDENT_ID, "postmortem-action-item-1") == FIRST
    assert incident.action_items == {
        str(FIRST): {**CANARY, "status": "open"}, str(SECOND): {**ALERT, "status": "open"},
    }


def test_the_postmortem_event_itself_is_unchanged_so_old_stores_fold_the_same() -> None:
    incident = given_reviewed(postmortem=False)

    incident.publish_postmortem(["bad deploy"], [CANARY], meta(3))

    assert then(incident) == [("PostmortemPublished", {
        "causes": ["bad deploy"], "action_items": [CANARY]})]
    assert list(incident.action_items) == [str(FIRST)]


# -- adding -----------------------------------------------------------------------------


def test_an_item_added_after_the_postmortem_carries_its_id() -> None:
    incident = given_reviewed()

    incident.add_action_item(NEW_ITEM, " Shard the queue ", BOB, "2025-05-01", meta(10))

    assert then(incident) == [("ActionItemAdded", {
        "item_id": str(NEW_ITEM), "title": "Shard the queue", "owner_id": str(BOB),
        "due": "2025-05-01"})]
    assert incident.action_items[str(NEW_ITEM)]["status"] == "open"


def test_an_item_is_added_after_the_close_too() -> None:
    incident = given_reviewed(closed=True)

    incident.add_action_item(NEW_ITEM, "Shard the queue", BOB, "2025-05-01", meta(10))

    assert [name for name, _ in then(incident)] == ["ActionItemAdded"]


def test_no_item_is_added_before_the_postmortem() -> None:
    incident = given_reviewed(postmortem=False)

    with pytest.raises(DomainError, match="no published postmortem"):
        incident.add_action_item(NEW_ITEM, "Shard the queue", BOB, "2025-05-01", meta(10))
    assert then(incident) == []


def test_an_id_the_incident_already_has_is_refused() -> None:
    incident = given_reviewed()

    with pytest.raises(DomainError, match=f"already has action item {FIRST}"):
        incident.add_action_item(FIRST, "Shard the queue", BOB, "2025-05-01", meta(10))


@pytest.mark.parametrize(("title", "due", "error", "problem"), [
    ("  ", "2025-05-01", ValidationError, "needs a title"),
    ("Shard", "05/01/2025", ValidationError, "due date as YYYY-MM-DD"),
    ("Shard", "2025-02-30", ValidationError, "due date as YYYY-MM-DD"),
    ("Shard", "2025-03-02", DomainError, "already in the past on the day it was set"),
])
def test_an_added_item_needs_a_title_and_a_real_due_date_not_in_the_past(
    title: str, due: str, error: type[Exception], problem: str,
) -> None:
    incident = given_reviewed()

    with pytest.raises(error, match=problem):
        incident.add_action_item(NEW_ITEM, title, BOB, due, meta(10))


def test_a_due_date_on_the_day_it_is_set_is_fine() -> None:
    incident = given_reviewed()

    incident.add_action_item(NEW_ITEM, "Shard", BOB, "2025-03-03", meta(10))

    assert then(incident)[0][1]["due"] == "2025-03-03"


# -- completing -------------------------------------------------------------------------


def test_completing_records_the_note_and_the_tracker_link() -> None:
    incident = given_reviewed()

    incident.complete_action_item(FIRST, " canary live ", "https://jira.example/OPS-12",
                                  meta(10))
    incident.complete_action_item(SECOND, "alert added", None, meta(11))

    assert then(incident) == [
        ("ActionItemCompleted", {"item_id": str(FIRST), "note": "canary live",
                                 "link": "https://jira.example/OPS-12"}),
        ("ActionItemCompleted", {"item_id": str(SECOND), "note": "alert added",
                                 "link": None}),
    ]
    assert incident.action_items[str(FIRST)]["status"] == "done"


@pytest.mark.parametrize("link", [
    "ftp://files.example/x", "jira.example/OPS-12", "https://", "javascript:alert(1)",
    "https://jira.example/a b",
])
def test_a_link_is_an_http_or_https_url(link: str) -> None:
    incident = given_reviewed()

    with pytest.raises(ValidationError, match="http"):
        incident.complete_action_item(FIRST, "done", link, meta(10))


def test_completing_needs_a_note() -> None:
    incident = given_reviewed()

    with pytest.raises(DomainError, match="needs a note"):
        incident.complete_action_item(FIRST, "  ", None, meta(10))


def test_an_unknown_item_is_not_found() -> None:
    incident = given_reviewed()

    with pytest.raises(NotFoundError, match=f"no action item {NEW_ITEM}"):
        incident.complete_action_item(NEW_ITEM, "done", None, meta(10))


@pytest.mark.parametrize("first", ["complete", "cancel"])
@pytest.mark.parametrize("then_", ["complete", "cancel", "reassign", "reschedule"])
def test_a_done_or_cancelled_item_takes_no_further_change(first: str, then_: str) -> None:
    incident = given_reviewed()
    commands = {
        "complete": lambda m: incident.complete_action_item(FIRST, "done", None, m),
        "cancel": lambda m: incident.cancel_action_item(FIRST, "not needed", m),
        "reassign": lambda m: incident.reassign_action_item(FIRST, BOB, "Ada is away", m),
        "reschedule": lambda m: incident.reschedule_action_item(
            FIRST, "2025-06-01", "later", m),
    }
    commands[first](meta(10))
    incident.collect_events()
    state = "done" if first == "complete" else "cancelled"

    with pytest.raises(DomainError, match=f"is {state} and can't"):
        commands[then_](meta(11))
    assert then(incident) == []


def test_a_follow_up_is_recorded_in_the_order_things_happened() -> None:
    incident = given_reviewed()

    with pytest.raises(OutOfOrderError, match="before its latest event"):
        incident.complete_action_item(FIRST, "done", None, meta(2))


# -- reassigning, moving the due date, cancelling -----------------------------------------


def test_reassigning_names_the_previous_owner_and_the_reason() -> None:
    incident = given_reviewed()

    incident.reassign_action_item(FIRST, BOB, " Ada is on leave ", meta(10))

    assert then(incident) == [("ActionItemReassigned", {
        "item_id": str(FIRST), "from_owner_id": str(ADA), "owner_id": str(BOB),
        "reason": "Ada is on leave"})]
    assert incident.action_items[str(FIRST)]["owner_id"] == str(BOB)


def test_reassigning_to_the_owner_or_without_a_reason_is_refused() -> None:
    incident = given_reviewed()

    with pytest.raises(DomainError, match="already owned by"):
        incident.reassign_action_item(FIRST, ADA, "again", meta(10))
    with pytest.raises(DomainError, match="needs a reason"):
        incident.reassign_action_item(FIRST, BOB, " ", meta(10))


def test_moving_the_due_date_names_the_old_and_the_new_one() -> None:
    incident = given_reviewed()

    incident.reschedule_action_item(FIRST, "2025-05-01", "waiting on the vendor", meta(10))

    assert then(incident) == [("ActionItemRescheduled", {
        "item_id": str(FIRST), "from_due": "2025-04-01", "due": "2025-05-01",
        "reason": "waiting on the vendor"})]
    assert incident.action_items[str(FIRST)]["due"] == "2025-05-01"


@pytest.mark.parametrize(("due", "reason", "problem"), [
    ("2025-04-01", "same", "already due 2025-04-01"),
    ("2025-03-01", "earlier", "already in the past"),
    ("2025-05-01", "  ", "needs a reason"),
])
def test_a_new_due_date_differs_is_not_past_and_has_a_reason(
    due: str, reason: str, problem: str,
) -> None:
    incident = given_reviewed()

    with pytest.raises(DomainError, match=problem):
        incident.reschedule_action_item(FIRST, due, reason, meta(10))


def test_moving_the_due_date_after_it_passed_is_recorded_for_the_control_to_judge() -> None:
    incident = given_reviewed()
    months_later = meta(60 * 24 * 45)  # 2025-04-17, the item was due 2025-04-01

    incident.reschedule_action_item(FIRST, "2025-05-01", "forgot it", months_later)

    assert then(incident)[0][1]["from_due"] == "2025-04-01"


def test_cancelling_records_the_reason() -> None:
    incident = given_reviewed()

    incident.cancel_action_item(SECOND, " superseded by the new pipeline ", meta(10))

    assert then(incident) == [("ActionItemCancelled", {
        "item_id": str(SECOND), "reason": "superseded by the new pipeline"})]
    with pytest.raises(DomainError, match="needs a reason"):
        incident.cancel_action_item(FIRST, "", meta(11))


# -- through the ledger: owners and scope -------------------------------------------------


class Reviewed:
    """Team A (Ada, Bob; Bob then leaves) and team B (Cy), and a reviewed incident of A
    whose postmortem has one item, owned by Ada."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        teams = TeamService(ledger)
        self.a = teams.form(tc.FormTeam(name="Payments SRE"), CommandContext(meta())).id
        self.b = teams.form(tc.FormTeam(name="Platform"), CommandContext(meta())).id
        for team, member, name in ((self.a, ADA, "Ada"), (self.a, BOB, "Bob")):
            teams.add_member(tc.AddMember(team, name, f"{name}@x.test", "engineer", member),
                             CommandContext(meta()))
        self.cy = teams.add_member(tc.AddMember(self.b, "Cy", "cy@x.test", "engineer"),
                                   CommandContext(meta())).id
        teams.remove_member(tc.RemoveMember(self.a, BOB, "moved on"), CommandContext(meta()))
        self.incidents = IncidentService(ledger)
        self.id = self.incidents.open(
            c.OpenIncident(self.a, "SEV2", "payments-api", "5xx"), CommandContext(meta())).id
        self.incidents.acknowledge(c.Acknowledge(self.id), CommandContext(meta(1)))
        self.incidents.resolve(c.Resolve(self.id, "fixed"), CommandContext(meta(2)))
        self.incidents.publish_postmortem(
            c.PublishPostmortem(self.id, ["bad deploy"], [CANARY]), CommandContext(meta(3)))
        self.item = UUID(postmortem_item_id(self.id, 1))


@pytest.fixture
def reviewed(ledger: Ledger) -> Reviewed:
    return Reviewed(ledger)


def test_an_added_item_answers_as_a_create_with_its_own_id(reviewed: Reviewed) -> None:
    added = reviewed.incidents.add_action_item(
        c.AddActionItem(reviewed.id, "Shard", ADA, "2025-05-01", NEW_ITEM),
        CommandContext(meta(10)))
    generated = reviewed.incidents.add_action_item(
        c.AddActionItem(reviewed.id, "Alert", ADA, "2025-05-01"), CommandContext(meta(11)))

    assert (added.id, added.created) == (NEW_ITEM, True)
    incident = reviewed.ledger.load(Incident, reviewed.id)
    assert list(incident.action_items) == [str(reviewed.item), str(NEW_ITEM), str(generated.id)]


def test_the_loaded_incident_derives_the_same_ids_as_when_it_was_published(
    reviewed: Reviewed,
) -> None:
    completed = reviewed.incidents.complete_action_item(
        c.CompleteActionItem(reviewed.id, reviewed.item, "done"), CommandContext(meta(10)))

    assert completed.id == reviewed.item
    assert reviewed.ledger.load(Incident, reviewed.id).action_items[str(reviewed.item)][
        "status"] == "done"


@pytest.mark.parametrize("command", ["add", "reassign"])
def test_an_owner_is_an_active_member_of_any_team(reviewed: Reviewed, command: str) -> None:
    def run(owner: UUID) -> object:
        if command == "add":
            return reviewed.incidents.add_action_item(
                c.AddActionItem(reviewed.id, "Shard", owner, "2025-05-01"),
                CommandContext(meta(10)))
        return reviewed.incidents.reassign_action_item(
            c.ReassignActionItem(reviewed.id, reviewed.item, owner, "handover"),
            CommandContext(meta(10)))
    head = reviewed.ledger.head_position()

    with pytest.raises(ValidationError, match="is not a member of any team"):
        run(NEW_ITEM)  # nobody
    with pytest.raises(DomainError, match="has left team"):
        run(BOB)
    assert reviewed.ledger.head_position() == head

    run(reviewed.cy)  # of team B: follow-ups cross teams, as responders do

    items = reviewed.ledger.load(Incident, reviewed.id).action_items.values()
    assert str(reviewed.cy) in {item["owner_id"] for item in items}


def test_a_caller_of_another_team_is_out_of_scope(reviewed: Reviewed) -> None:
    their_ctx = CommandContext(meta(10), teams=frozenset({str(reviewed.b)}))

    with pytest.raises(OutOfScopeError):
        reviewed.incidents.cancel_action_item(
            c.CancelActionItem(reviewed.id, reviewed.item, "not ours"), their_ctx)
