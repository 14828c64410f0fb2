"""The demo's trainings and policies, as specifications of its plan: whatever the hour it
runs, trainings, assignments and policies are the team's lead's (then), a completion
or an acknowledgement is the member's own persona's (the lead's for a member without
one), a completion happens when it was completed, each training a role change needs
is defined before it (so the change assigns it), version 1 is acknowledged only while
in force and only by members still on the team, and adding all this changed nothing
else in the month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.cli.demo.clock import Clock
from services.cli.demo.curriculum import POLICIES, TRAININGS
from services.cli.demo.plan import Planner, Step, build_plan
from services.cli.demo.scenario import ROLE_CHANGES
from services.cli.demo.training import TrainingPlanner
from tests.unit.services.test_demo_risks import at, body

MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
ANCHORS = [MONDAY + timedelta(hours=h) for h in range(0, 7 * 24, 13)]
PEOPLE_KINDS = {"trainings", "training_assignments", "trainings_completed", "policies",
                "policy_versions", "policy_acknowledgements"}


def of(steps: list[Step], *kinds: str) -> list[Step]:
    return [s for s in steps if s.kind in kinds]


def member_of(p: Planner, step: Step) -> str:
    member_id = step.path.split("/")[3]
    return next(n for n, i in p.member_ids.items() if i == member_id)


def team_of(p: Planner, member: str) -> str:
    return next(t for t, roster in p.roster.items() if member in roster)


@pytest.mark.parametrize("anchor", ANCHORS, ids=lambda a: a.strftime("%a-%H"))
def test_each_is_made_by_the_right_persona_in_the_run(anchor: datetime) -> None:
    steps, p = build_plan(7, Clock(anchor))
    mine = of(steps, *PEOPLE_KINDS)

    assert {s.kind for s in mine} == PEOPLE_KINDS and all(s.in_run for s in mine)
    teams = {p.team_ids[t]: t for t in p.team_ids}
    for step in of(steps, "trainings", "policies", "policy_versions"):
        assert step.actor == p.lead_persona(teams[str(body(step)["team_id"])], at(step))
    for step in of(steps, "training_assignments"):
        assert step.actor == p.lead_persona(team_of(p, member_of(p, step)), at(step))
    for step in of(steps, "trainings_completed", "policy_acknowledgements"):
        member = member_of(p, step)
        assert step.actor == (p.persona.get(member)
                              or p.lead_persona(team_of(p, member), at(step)))
        assert member in p.active(team_of(p, member), at(step))
    for step in of(steps, "trainings_completed"):
        assert body(step)["completed_at"] == body(step)["occurred_at"]  # the server insists
    for step in of(steps, "training_assignments"):
        assert date.fromisoformat(str(body(step)["due"])) >= at(step).date()


def test_the_trainings_a_role_change_needs_are_defined_before_it() -> None:
    steps, p = build_plan(7, Clock(MONDAY + timedelta(hours=9)))
    defined = {str(body(s)["title"]): at(s) for s in of(steps, "trainings")}
    needed = [(change, t) for change in ROLE_CHANGES for t in TRAININGS
              if t.team == change.team and change.role in t.roles]

    assert {change.member for change, _ in needed} == {
        "Jonas Petersen", "Kwame Mensah", "Priya Raman", "Samuel Adeyemi"}
    for change, training in needed:
        assert defined[training.title] < p.clock.at(change.day, change.hour)
    # and nobody assigns those by hand: the role change does
    by_hand = {(member_of(p, s), str(body(s)["training_id"]))
               for s in of(steps, "training_assignments")}
    ids = TrainingPlanner(p).training_ids
    assert not {(c.member, ids[t.key]) for c, t in needed} & by_hand


def test_a_version_is_acknowledged_only_while_it_is_in_force() -> None:
    steps, p = build_plan(7, Clock(MONDAY + timedelta(hours=17)))
    published = {(str(body(s)["team_id"]), str(body(s)["version"])): at(s)
                 for s in of(steps, "policies", "policy_versions")}
    policy_team = {TrainingPlanner(p).policy_ids[s.team]: p.team_ids[s.team] for s in POLICIES}

    acks = of(steps, "policy_acknowledgements")
    assert acks
    for step in acks:
        team_id, version = policy_team[str(body(step)["policy_id"])], str(body(step)["version"])
        assert at(step) > published[(team_id, version)]
        if version == "1":
            assert at(step) < published[(team_id, "2")]
    # some never acknowledge version 2: the open policy_unacknowledged findings
    v2 = {member_of(p, s) for s in acks if body(s)["version"] == "2"}
    assert {m for s in POLICIES for m in s.never_v2}.isdisjoint(v2)


def test_adding_the_trainings_left_the_rest_of_the_month_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    anchor = MONDAY + timedelta(hours=14)
    with_people, _ = build_plan(7, Clock(anchor))
    monkeypatch.setattr(TrainingPlanner, "plan", lambda self: None)
    without, _ = build_plan(7, Clock(anchor))

    def story(steps: list[Step]) -> list[tuple[object, ...]]:
        return [(s.kind, s.method, s.path, s.body, s.actor, s.at) for s in steps
                if s.kind not in PEOPLE_KINDS]

    assert story(with_people) == story(without)
    assert len(with_people) - len(without) == len(of(with_people, *PEOPLE_KINDS)) == (
        sum(1 + len(t.done) + len(t.by_hand) for t in TRAININGS)
        + len(of(with_people, "policy_acknowledgements")) + 2 * len(POLICIES))
