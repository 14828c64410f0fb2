"""SMART goals, as specifications: given these events, when this command, then these
events (or this error)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.envelope import envelope_of
from domain.errors import DomainError, NotFoundError, ValidationError
from domain.goals import commands as c
from domain.goals.aggregate import Goal
from domain.goals.service import GoalService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
GOAL_ID = UUID("00000000-0000-4000-8000-0000000000a1")
TEAM_ID = UUID("00000000-0000-4000-8000-00000000000a")
OWNER_ID = UUID("00000000-0000-4000-8000-000000000001")


def meta(days: int = 0, actor: str = "user:lead") -> CommandMeta:
    return CommandMeta(actor=actor, now=NOW + timedelta(days=days))


def then(goal: Goal) -> list[tuple[str, dict[str, Any]]]:
    """The events the last command(s) recorded, as (name, wire data)."""
    return [(type(e).__name__, envelope_of(e, 0).data) for e in goal.collect_events()]


def set_goal(**overrides: Any) -> Goal:
    fields: dict[str, Any] = {
        "goal_id": GOAL_ID, "team_id": TEAM_ID, "owner_id": OWNER_ID,
        "title": "Cut time to restore", "metric": "MTTR", "baseline": 90,
        "target": 30, "unit": "minutes", "deadline": "2025-06-30", "meta": meta(),
    }
    fields.update(overrides)
    return Goal.set(**fields)


def given_goal(**overrides: Any) -> Goal:
    goal = set_goal(**overrides)
    goal.collect_events()
    return goal


def given_closed_goal(outcome: str = "achieved") -> Goal:
    goal = given_goal()
    goal.close(outcome, "done", meta(days=1))
    goal.collect_events()
    return goal


# -- setting a goal ------------------------------------------------------------------


def test_setting_a_goal_records_goal_set_with_every_smart_field() -> None:
    goal = set_goal(title="  Cut time to restore ")

    assert then(goal) == [("GoalSet", {
        "team_id": str(TEAM_ID), "owner_id": str(OWNER_ID), "title": "Cut time to restore",
        "metric": "MTTR", "baseline": 90.0, "target": 30.0, "unit": "minutes",
        "deadline": "2025-06-30",
    })]
    assert goal.status == "open"
    assert goal.current_value is None


def test_a_target_equal_to_the_baseline_is_refused() -> None:
    with pytest.raises(DomainError, match="differ from its baseline"):
        set_goal(baseline=42, target=42.0)


@pytest.mark.parametrize("deadline", ["2025-02-30", "next friday", "20250630", "", "30/06/2025"])
def test_a_deadline_must_be_a_valid_iso_date(deadline: str) -> None:
    with pytest.raises(ValidationError, match="deadline"):
        set_goal(deadline=deadline)


def test_a_deadline_in_the_past_is_refused() -> None:
    with pytest.raises(DomainError, match="in the past"):
        set_goal(deadline="2025-03-02")


def test_a_deadline_today_is_accepted() -> None:
    goal = set_goal(deadline="2025-03-03")

    assert goal.deadline == "2025-03-03"


def test_the_deadline_is_judged_by_the_commands_clock_not_the_wall_clock() -> None:
    long_ago = CommandMeta(actor="user:lead", now=datetime(2020, 1, 1, tzinfo=UTC))

    goal = set_goal(deadline="2020-12-31", meta=long_ago)

    assert goal.deadline == "2020-12-31"


@pytest.mark.parametrize("field", ["title", "metric"])
def test_a_goal_needs_a_title_and_a_metric(field: str) -> None:
    with pytest.raises(DomainError, match=field):
        set_goal(**{field: "  "})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, "30"])
def test_baseline_and_target_must_be_finite_numbers(value: Any) -> None:
    with pytest.raises(ValidationError, match="target"):
        set_goal(target=value)


# -- check-ins -----------------------------------------------------------------------


def test_checking_in_records_value_and_note() -> None:
    goal = given_goal()

    goal.check_in(55, "on track", meta(days=7))

    assert then(goal) == [("ProgressCheckedIn", {"value": 55.0, "note": "on track"})]
    assert goal.current_value == 55.0
    assert [ci["value"] for ci in goal.check_ins] == [55.0]


@pytest.mark.parametrize("outcome", ["achieved", "missed", "abandoned"])
def test_a_closed_goal_takes_no_check_ins(outcome: str) -> None:
    goal = given_closed_goal(outcome)

    with pytest.raises(DomainError, match=f"is {outcome}"):
        goal.check_in(20, "late news", meta(days=2))
    assert then(goal) == []


def test_a_check_in_value_must_be_a_finite_number() -> None:
    goal = given_goal()

    with pytest.raises(ValidationError):
        goal.check_in(float("nan"), "", meta())


# -- target revisions --------------------------------------------------------------


def test_revising_the_target_keeps_the_old_target_in_the_event() -> None:
    goal = given_goal()

    goal.revise_target(45, "the vendor SLA changed", meta(days=3))

    assert then(goal) == [("TargetRevised", {
        "old_target": 30.0, "new_target": 45.0, "reason": "the vendor SLA changed",
    })]
    assert goal.target == 45.0


def test_a_second_revision_starts_from_the_revised_target() -> None:
    goal = given_goal()
    goal.revise_target(45, "vendor SLA", meta(days=3))
    goal.collect_events()

    goal.revise_target(40, "new tooling", meta(days=4))

    [(_, data)] = then(goal)
    assert (data["old_target"], data["new_target"]) == (45.0, 40.0)


def test_a_target_revision_needs_a_reason() -> None:
    goal = given_goal()

    with pytest.raises(DomainError, match="needs a reason"):
        goal.revise_target(45, "   ", meta())
    assert then(goal) == []


def test_revising_to_the_current_target_is_refused() -> None:
    goal = given_goal()

    with pytest.raises(DomainError, match="already"):
        goal.revise_target(30.0, "no change really", meta())


def test_revising_the_target_to_the_baseline_is_refused() -> None:
    goal = given_goal()

    with pytest.raises(DomainError, match="differ from its baseline"):
        goal.revise_target(90, "give up quietly", meta())


def test_a_closed_goal_cannot_be_revised() -> None:
    goal = given_closed_goal("missed")

    with pytest.raises(DomainError, match="is missed"):
        goal.revise_target(60, "moving the goalposts", meta(days=2))


# -- closing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "event"),
    [("achieved", "GoalAchieved"), ("missed", "GoalMissed"), ("abandoned", "GoalAbandoned")],
)
def test_closing_records_the_outcome_as_its_own_event(outcome: str, event: str) -> None:
    goal = given_goal()

    goal.close(outcome, "retro held", meta(days=30))

    assert then(goal) == [(event, {"note": "retro held"})]
    assert goal.status == outcome


def test_an_unknown_outcome_is_refused() -> None:
    goal = given_goal()

    with pytest.raises(ValidationError, match="outcome"):
        goal.close("postponed", "", meta())


def test_a_goal_cannot_be_closed_twice() -> None:
    goal = given_closed_goal("achieved")

    with pytest.raises(DomainError, match="is achieved"):
        goal.close("abandoned", "", meta(days=2))


# -- through the ledger ------------------------------------------------------------


def test_a_goal_lives_through_the_ledger(ledger: Ledger) -> None:
    ctx = CommandContext(meta())
    teams = TeamService(ledger)
    team = teams.form(tc.FormTeam(name="Payments SRE"), ctx)
    teams.add_member(tc.AddMember(team.id, "Olu", "olu@x.test", "engineer", OWNER_ID), ctx)
    goals = GoalService(ledger)

    made = goals.set_goal(c.SetGoal(
        team_id=team.id, owner_id=OWNER_ID, title="Cut MTTR", metric="MTTR",
        baseline=90, target=30, unit="minutes", deadline="2025-06-30",
    ), ctx)
    goals.check_in(c.CheckIn(made.id, 60, "halfway"), ctx)
    goals.revise_target(c.ReviseTarget(made.id, 40, "vendor SLA"), ctx)
    closed = goals.close(c.CloseGoal(made.id, "achieved", "done"), ctx)

    goal = ledger.load(Goal, made.id)
    assert made.created is True
    assert closed.version == 4
    assert (goal.status, goal.target, goal.current_value) == ("achieved", 40.0, 60.0)
    assert goal.revisions[0]["old_target"] == 30.0


def test_a_goal_for_an_unknown_team_is_not_found(ledger: Ledger) -> None:
    goals = GoalService(ledger)

    with pytest.raises(NotFoundError, match="team"):
        goals.set_goal(c.SetGoal(
            team_id=uuid4(), owner_id=OWNER_ID, title="Cut MTTR", metric="MTTR",
            baseline=90, target=30, unit="minutes", deadline="2025-06-30",
        ), CommandContext(meta()))
    assert ledger.head_position() == 0


def test_checking_in_on_an_unknown_goal_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError, match="goal"):
        GoalService(ledger).check_in(c.CheckIn(uuid4(), 1), CommandContext(meta()))
