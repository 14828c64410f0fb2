"""The follow-ups of the month's postmortems: action items done on time or late, left
overdue, reassigned, moved, cancelled, one added after its postmortem; and the
auditor's decisions on two of their ``action_item_overdue`` findings.

Each item published with a postmortem has the id the server derives from the
incident's id and its place (:func:`domain.incidents.action_items.postmortem_item_id`),
so the plan can name it before anything is sent. What becomes of each item:

- one has its due date moved the day before it falls due (no finding), one two days
  after it had passed (its finding stays open, with the move as evidence);
- one is cancelled before its due date, one reassigned (then done by its new owner);
- one is added to a postmortem two days after it was published
  (``POST /v1/incidents/{id}/action-items``, with its own ``item_id``);
- one left overdue is accepted as a risk by the auditor; another is waived, then the
  waiver is withdrawn (reopened);
- the others past their due date are, in turn, done late, done on time or left
  overdue; those not yet due are done on time or still open.

A step that would fall after the plan's horizon is not taken (the item stays open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from domain.incidents.action_items import postmortem_item_id
from services.cli.demo.clock import iso
from services.cli.demo.scenario import AUDITOR, DECISION_DAYS, RISK_DAYS
from services.cli.demo.words import (
    ADDED_ACTION,
    CANCEL_REASON,
    COMPLETION_NOTES,
    EARLY_DUE_REASON,
    ITEM_REOPEN_REASON,
    ITEM_WAIVE_REASON,
    LATE_COMPLETION_NOTES,
    LATE_DUE_REASON,
    REASSIGN_REASON,
    RISK_REASON,
    TRACKER,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from services.cli.demo.plan import Planner

FATES = ("late", "on_time", "overdue")
"""The turns taken by the items past their due date that nothing special happens to."""


@dataclass
class Item:
    """An action item as the plan knows it: its incident, its owner (a member's name)
    and due date as they now stand, and when it was published or added."""

    incident_id: str
    team: str
    item_id: str
    title: str
    owner: str
    due: date
    added: datetime

    @classmethod
    def published(cls, incident_id: str, team: str, n: int, title: str, owner: str,
                  due: date, at: datetime) -> Item:
        """The ``n``-th (from 1) item of a postmortem published at ``at``."""
        return cls(incident_id, team, postmortem_item_id(incident_id, n), title, owner,
                   due, at)

    @property
    def path(self) -> str:
        return f"/v1/incidents/{self.incident_id}/action-items/{self.item_id}"

    @property
    def deadline(self) -> datetime:
        """When it is overdue: the start (UTC) of the day after its due date."""
        return datetime.combine(self.due + timedelta(days=1), datetime.min.time(), UTC)

    @property
    def finding_id(self) -> str:
        return f"action_item_overdue:{self.incident_id}:{self.item_id}"


class FollowUps:
    def __init__(self, planner: Planner) -> None:
        self.p = planner
        self.rng = planner.rng
        self.horizon = planner.horizon
        self.free: list[Item] = []

    def plan(self) -> None:
        self.free = sorted(self.p.items, key=lambda i: (i.added, i.item_id))
        self.added_after_postmortem()
        passed = self.has_passed
        if moved := self.take(lambda i: passed(i, timedelta(hours=34))):
            self.move_due(moved, moved.deadline + timedelta(hours=34), LATE_DUE_REASON)
        if risky := self.take(lambda i: passed(i, timedelta(days=DECISION_DAYS, hours=14))):
            at = risky.deadline + timedelta(days=DECISION_DAYS, hours=14)
            self.decide("findings_risk_accepted", risky, "accept-risk", at, RISK_REASON,
                        until=at + timedelta(days=RISK_DAYS))
        if waived := self.take(lambda i: passed(i, timedelta(days=3, hours=10))):
            self.decide("findings_waived", waived, "waive", waived.deadline + timedelta(
                days=1, hours=15), ITEM_WAIVE_REASON, until=waived.deadline + timedelta(
                days=60))
            self.decide("findings_reopened", waived, "reopen",
                        waived.deadline + timedelta(days=3, hours=10), ITEM_REOPEN_REASON)
        if late := self.take(lambda i: passed(i, timedelta(hours=6))):
            self.complete_late(late)
        if early := self.take(lambda i: self.before_due(i) is not None, last=True):
            self.move_early(early)
        if cancelled := self.take(lambda i: self.cancel_time(i) is not None, last=True):
            self.cancel(cancelled)
        if handed := self.take(lambda i: self.reassign_time(i) is not None, last=True):
            self.reassign(handed)
            self.complete_on_time(handed, after=self.reassign_time(handed))
        turn = 0
        for item in list(self.free):
            if passed(item, timedelta(hours=6)):
                fate = FATES[turn % len(FATES)]
                turn += 1
                if fate == "late":
                    self.complete_late(item)
                elif fate == "on_time":
                    self.complete_on_time(item)
            elif self.rng.random() < 0.6:
                self.complete_on_time(item)

    # -- choosing

    def take(self, fits: Callable[[Item], bool], *, last: bool = False) -> Item | None:
        """The first (or last) item not yet given a fate that ``fits``."""
        for item in reversed(self.free) if last else self.free:
            if fits(item):
                self.free.remove(item)
                return item
        return None

    def has_passed(self, item: Item, room: timedelta) -> bool:
        """Whether ``item`` is overdue ``room`` before the horizon."""
        return item.deadline + room <= self.horizon

    def before_due(self, item: Item) -> datetime | None:
        """10:00 the day before it falls due, if that is after it was added."""
        at = item.deadline - timedelta(hours=38)
        return at if item.added + timedelta(hours=1) <= at <= self.horizon else None

    def cancel_time(self, item: Item) -> datetime | None:
        at = item.added + timedelta(days=1, hours=2)
        return at if at <= min(item.deadline - timedelta(hours=1), self.horizon) else None

    def reassign_time(self, item: Item) -> datetime | None:
        at = item.added + timedelta(days=1, hours=1)
        others = [m for m in self.p.active(item.team, at) if m != item.owner]
        return (at if others and at <= min(item.deadline - timedelta(hours=3), self.horizon)
                else None)

    # -- who acts

    def lead(self, item: Item, at: datetime) -> str:
        return self.p.lead_persona(item.team, at)

    def owner_or_lead(self, item: Item, at: datetime) -> str:
        """The owner's persona, or the lead recording it for an owner without one."""
        if item.owner in self.p.active(item.team, at) and item.owner in self.p.persona:
            return self.p.persona[item.owner]
        return self.lead(item, at)

    # -- the follow-ups

    def complete(self, item: Item, at: datetime, note: str) -> None:
        body: dict[str, object] = {"note": note}
        if self.rng.random() < 0.7:
            body["link"] = TRACKER.format(n=self.rng.randint(1000, 9999))
        self.p.add("action_items_completed", "POST", f"{item.path}/complete", body,
                   self.owner_or_lead(item, at), at)

    def working_time(self, low: datetime, high: datetime) -> datetime:
        """A moment between ``low`` and ``high``, in working hours when there are some."""
        days = (high.date() - low.date()).days
        day = self.p.clock.day_of(low) + self.rng.randint(0, days)
        at = self.p.clock.at(day, self.rng.uniform(9, 18))
        return min(max(at, low), high).replace(microsecond=0)

    def complete_on_time(self, item: Item, after: datetime | None = None) -> None:
        low = max(item.added + timedelta(days=1), (after or item.added) + timedelta(hours=1))
        high = min(item.deadline - timedelta(hours=2), self.horizon)
        if low < high:
            self.complete(item, self.working_time(low, high),
                          self.rng.choice(COMPLETION_NOTES))

    def complete_late(self, item: Item) -> None:
        low = item.deadline + timedelta(hours=6)
        high = min(item.deadline + timedelta(days=4), self.horizon)
        if low <= high:
            self.complete(item, self.working_time(low, high),
                          self.rng.choice(LATE_COMPLETION_NOTES))

    def move_due(self, item: Item, at: datetime, reason: str) -> None:
        due = max(item.due, at.date()) + timedelta(days=7)
        self.p.add("action_items_rescheduled", "POST", f"{item.path}/due",
                   {"due": due.isoformat(), "reason": reason}, self.lead(item, at), at)
        item.due = due

    def move_early(self, item: Item) -> None:
        """A week more, asked for the day before it falls due; then done in time."""
        at = self.before_due(item)
        if at is not None:
            self.move_due(item, at, EARLY_DUE_REASON)
            self.complete_on_time(item, after=at)

    def cancel(self, item: Item) -> None:
        at = self.cancel_time(item)
        if at is not None:
            self.p.add("action_items_cancelled", "POST", f"{item.path}/cancel",
                       {"reason": CANCEL_REASON}, self.lead(item, at), at)

    def reassign(self, item: Item) -> None:
        at = self.reassign_time(item)
        if at is None:
            return
        owner = self.rng.choice([m for m in self.p.active(item.team, at) if m != item.owner])
        reason = REASSIGN_REASON.format(old=item.owner.split()[0], new=owner.split()[0])
        self.p.add("action_items_reassigned", "POST", f"{item.path}/reassign",
                   {"owner_id": self.p.member_ids[owner], "reason": reason},
                   self.lead(item, at), at)
        item.owner = owner

    def added_after_postmortem(self) -> None:
        """One item added to the earliest postmortem with room for it, two days on."""
        for published in self.free:
            at = self.p.clock.at(self.p.clock.day_of(published.added) + 2, 11)
            due = at.date() + timedelta(days=5)
            item = Item(published.incident_id, published.team,
                        self.p.uid("action-item", f"{published.incident_id}/added"),
                        ADDED_ACTION, self.rng.choice(self.p.active(published.team, at)),
                        due, at)
            if item.deadline > self.horizon:
                continue
            self.p.add("action_items_added", "POST",
                       f"/v1/incidents/{item.incident_id}/action-items",
                       {"title": item.title, "owner_id": self.p.member_ids[item.owner],
                        "due": due.isoformat(), "item_id": item.item_id},
                       self.lead(item, at), at)
            self.p.items.append(item)
            self.complete_on_time(item)
            return

    def decide(self, kind: str, item: Item, route: str, at: datetime, reason: str,
               until: datetime | None = None) -> None:
        if at > self.horizon:
            return
        body: dict[str, object] = {"reason": reason}
        if until is not None:
            body["until"] = iso(until)
        self.p.add(kind, "POST", f"/v1/compliance/findings/{item.finding_id}/{route}", body,
                   AUDITOR, at)
