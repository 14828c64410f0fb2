"""The demo's plan, as specifications: whatever the hour it runs and whatever the seed,
it sends each aggregate's commands in the order they happened, nothing after its
horizon, its late entries hours late and outside the import run, every command by a
persona (or the admin setting up), and the same plan again for the same anchor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.cli.demo.clock import DAYS, Clock
from services.cli.demo.plan import ADMIN, HORIZON_MINUTES, Step, build_plan
from services.cli.demo.scenario import PERSONAS

MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
ANCHORS = [MONDAY + timedelta(hours=h) for h in range(0, 7 * 24, 5)]


def aggregate_of(step: Step) -> str:
    parts = step.path.split("/")
    if len(parts) > 3:
        return parts[3]
    body = step.body or {}
    return str(next(body[k] for k in ("incident_id", "feedback_id", "goal_id", "team_id")
                    if k in body))


def times(step: Step) -> datetime:
    assert step.at is not None and step.body is not None
    assert step.body["occurred_at"] == step.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return step.at


@pytest.mark.parametrize("anchor", ANCHORS, ids=lambda a: a.strftime("%a-%H"))
def test_each_aggregate_is_sent_in_business_time_order_and_nothing_after_the_horizon(
    anchor: datetime,
) -> None:
    clock = Clock(anchor)
    steps, _ = build_plan(7, clock)

    history = [s for s in steps if s.in_run]
    latest: dict[str, datetime] = {}
    for step in steps:
        at = times(step)
        assert at >= latest.get(aggregate_of(step), at), step
        latest[aggregate_of(step)] = at
    assert times(history[0]) == anchor - timedelta(days=DAYS)  # the anchor's record
    assert history[0].kind == "teams"
    assert max(times(s) for s in history) <= anchor - timedelta(minutes=HORIZON_MINUTES)


@pytest.mark.parametrize("anchor", ANCHORS[::4], ids=lambda a: a.strftime("%a-%H"))
def test_the_late_entries_come_last_hours_late_and_outside_the_run(anchor: datetime) -> None:
    steps, _ = build_plan(7, Clock(anchor))

    late = [s for s in steps if not s.in_run]
    assert len(late) >= 3 and steps[-len(late):] == late
    assert all(anchor - times(s) >= timedelta(hours=2) for s in late)
    assert all(s.actor != ADMIN for s in late)


def test_every_command_is_made_by_a_persona_or_by_the_admin_setting_up() -> None:
    steps, _ = build_plan(7, Clock(MONDAY))

    principals = {p.principal for p in PERSONAS}
    assert {s.actor for s in steps} - {ADMIN} <= principals
    assert len({s.actor for s in steps} - {ADMIN}) >= 10
    # the admin sets up, and adds the one new version of a control's policy
    assert {s.kind for s in steps if s.actor == ADMIN} == {
        "teams", "members", "lead_changes", "control_policies"}
    # an auditor changes nothing: it only decides on findings
    auditors = {p.principal for p in PERSONAS if p.role == "auditor"}
    assert {s.kind for s in steps if s.actor in auditors} == {
        "findings_waived", "findings_risk_accepted", "findings_reopened"}
    assert {s.actor for s in steps if s.kind.startswith("findings_")} == auditors


def test_the_same_seed_and_anchor_make_the_same_plan_and_each_key_once() -> None:
    first, _ = build_plan(7, Clock(MONDAY))
    again, _ = build_plan(7, Clock(MONDAY))

    assert first == again
    assert len({s.key for s in first}) == len(first)


@pytest.mark.parametrize("seed", range(1, 25))
def test_any_seed_plans_a_month(seed: int) -> None:
    steps, _ = build_plan(seed, Clock(MONDAY + timedelta(hours=9)))
    assert {"postmortems", "escalations", "duplicates", "reopenings", "action_items_added",
            "action_items_completed", "action_items_reassigned", "action_items_rescheduled",
            "action_items_cancelled", "control_policies", "findings_waived",
            "findings_risk_accepted", "risks", "risk_assessments", "risk_treatments",
            "risk_acceptances", "risks_closed", "contingency_plans", "drills",
            "plan_revisions", "incident_links"} <= {s.kind for s in steps}
