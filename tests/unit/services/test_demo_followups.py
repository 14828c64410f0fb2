"""The demo plan's follow-ups and compliance decisions, as specifications: whatever the
seed and the hour it runs, the month has action items done on time, done late and
still overdue, one reassigned, one due date moved before it passed and one after, one
cancelled, one added after its postmortem; one new version of the ``ack_sla`` policy
with a page late by it alone; and the auditor's waiver and accepted risk, each dated
after its finding opened, and the accepted risk still in force at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.incidents.action_items import postmortem_item_id
from projections.times import parse_time
from services.cli.demo.clock import Clock
from services.cli.demo.plan import ADMIN, Step, build_plan
from services.cli.demo.scenario import AUDITOR, GOALS

MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
CASES = [(seed, MONDAY + timedelta(hours=h)) for seed in range(1, 13) for h in (3, 40, 101)]
DECISIONS = {"findings_waived", "findings_risk_accepted", "findings_reopened"}


def case_id(value: object) -> str:
    return value.strftime("%a-%H") if isinstance(value, datetime) else f"seed-{value}"


@dataclass
class Followed:
    """One action item as the plan follows it up."""

    due: date
    added: datetime
    added_later: bool = False  # POST .../action-items, after the postmortem
    moves: list[tuple[datetime, date, date]] = field(default_factory=list)  # at, from, to
    reassigned: bool = False
    closed: tuple[str, datetime] | None = None  # ("complete" | "cancel", when)

    def first_breach(self, end: datetime) -> datetime | None:
        """When it first became overdue before ``end`` (the server's rule)."""
        dues = [self.moves[0][1] if self.moves else self.due, *(m[2] for m in self.moves)]
        untils = [*(m[0] for m in self.moves), end]
        for due, until in zip(dues, untils, strict=True):
            deadline = datetime.combine(due + timedelta(days=1), datetime.min.time(), UTC)
            if deadline < until:
                return deadline
        return None


def followed_items(steps: list[Step]) -> dict[str, Followed]:
    items: dict[str, Followed] = {}
    for step in steps:
        assert step.body is not None and step.at is not None
        parts = step.path.split("/")
        if step.kind == "postmortems":
            for n, item in enumerate(step.body["action_items"], start=1):
                items[postmortem_item_id(parts[3], n)] = Followed(
                    date.fromisoformat(item["due"]), step.at)
        elif step.kind == "action_items_added":
            items[step.body["item_id"]] = Followed(date.fromisoformat(step.body["due"]),
                                                   step.at, added_later=True)
        elif step.kind.startswith("action_items_"):
            item, verb = items[parts[5]], parts[6]
            assert item.closed is None, step  # nothing after done or cancelled
            if verb == "due":
                to = date.fromisoformat(step.body["due"])
                assert to >= step.at.date(), step  # never into the past
                item.moves.append((step.at, item.due, to))
                item.due = to
            elif verb == "reassign":
                item.reassigned = True
            else:
                item.closed = (verb, step.at)
    return items


@pytest.mark.parametrize(("seed", "anchor"), CASES,
                         ids=case_id)
def test_the_follow_ups_are_done_on_time_late_or_left_overdue_moved_reassigned_cancelled(
    seed: int, anchor: datetime,
) -> None:
    steps, planner = build_plan(seed, Clock(anchor))
    items = followed_items(steps)
    horizon = planner.horizon

    def late(item: Followed) -> datetime | None:
        return item.first_breach(item.closed[1] if item.closed else horizon)

    done = [i for i in items.values() if i.closed and i.closed[0] == "complete"]
    assert [i for i in done if late(i) is None], "none done on time"
    assert [i for i in done if late(i) is not None], "none done late"
    assert [i for i in items.values() if not i.closed and late(i) is not None], "none overdue"
    assert [i for i in items.values() if i.closed and i.closed[0] == "cancel"]
    assert [i for i in items.values() if i.reassigned]
    assert [i for i in items.values() if i.added_later and i.added > min(
        j.added for j in items.values())]
    moves = [(at, frm) for i in items.values() for at, frm, _ in i.moves]
    passed = [at >= datetime.combine(frm + timedelta(days=1), datetime.min.time(), UTC)
              for at, frm in moves]
    assert sorted(set(passed)) == [False, True], moves  # one before it passed, one after


@pytest.mark.parametrize(("seed", "anchor"), CASES[::2],
                         ids=case_id)
def test_the_auditor_waives_and_accepts_a_risk_after_each_finding_opened(
    seed: int, anchor: datetime,
) -> None:
    steps, planner = build_plan(seed, Clock(anchor))
    items = followed_items(steps)
    decisions = [s for s in steps if s.kind in DECISIONS]

    assert {s.actor for s in decisions} == {AUDITOR}
    assert {"findings_waived", "findings_risk_accepted"} <= {s.kind for s in decisions}
    for step in decisions:
        assert step.body is not None and step.at is not None and step.in_run
        finding = step.path.split("/")[4]
        control, _, subject = finding.partition(":")
        if control == "action_item_overdue":
            item = items[subject.split(":")[1]]
            opened = item.first_breach(step.at)
            assert opened is not None and opened <= step.at, step  # overdue when decided
        else:
            assert control == "target_revised_after_deadline"
            (goal,) = [g for g in GOALS if planner.goal_ids[g.title] == subject]
            revised = [s.at for s in steps if s.kind == "target_revisions" and s.at
                       and s.path.split("/")[3] == subject]
            assert revised and revised[0].date() > planner.clock.date_of(goal.deadline_day)
            assert revised[0] < step.at
        if "until" in step.body:
            until = parse_time(step.body["until"])
            assert step.at < until <= step.at.replace(year=step.at.year + 1)
    (risk,) = [s for s in decisions if s.kind == "findings_risk_accepted"]
    assert risk.body is not None and parse_time(risk.body["until"]) > anchor + timedelta(days=90)
    # the item accepted as a risk is left overdue: the acceptance is what stands
    assert items[risk.path.split("/")[4].split(":")[2]].closed is None


@pytest.mark.parametrize(("seed", "anchor"), CASES[::3],
                         ids=case_id)
def test_the_sev2_sla_is_tightened_in_the_month_and_a_page_is_late_by_the_new_one_only(
    seed: int, anchor: datetime,
) -> None:
    steps, _ = build_plan(seed, Clock(anchor))

    (change,) = [s for s in steps if s.kind == "control_policies"]
    assert change.body is not None and change.at is not None
    assert (change.method, change.path, change.actor) == (
        "PUT", "/v1/compliance/controls/ack_sla", ADMIN)
    effective = parse_time(change.body["effective_from"])
    assert change.body["thresholds"] == {"sev1_ack_minutes": 15, "sev2_ack_minutes": 30}
    assert change.at < effective <= anchor - timedelta(days=14)  # in the month's past
    assert change.in_run and change.body["reason"]

    opened = {s.body["incident_id"]: s for s in steps if s.kind == "incidents" and s.body}
    acked: dict[str, Step] = {}
    for step in steps:
        if step.kind == "acknowledgements":
            acked.setdefault(step.path.split("/")[3], step)  # the first one
    minutes = {i: ((acked[i].at or anchor) - (o.at or anchor)).total_seconds() / 60
               for i, o in opened.items() if i in acked}
    sev = {i: o.body["severity"] for i, o in opened.items() if o.body}
    before = [i for i, o in opened.items() if o.at and o.at < effective and i in minutes]
    after = [i for i, o in opened.items() if o.at and o.at >= effective and i in minutes]
    # late by the settings' SLA (version 1) before the change ...
    assert any(minutes[i] > {"SEV1": 15, "SEV2": 60}.get(sev[i], 10**6) for i in before)
    # ... and after it, a SEV2 late by the new SLA only (on time by the old one)
    assert any(sev[i] == "SEV2" and 30 < minutes[i] < 60 for i in after)
