"""Contingency plans and incident links, as specifications: given these commands, when
this command, then these events (or this error)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.compliance.finding import SegregationOfDutiesError
from domain.envelope import envelope_of
from domain.errors import DomainError, OutOfScopeError, StaleVersionError, ValidationError
from domain.incidents import commands as ic
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.risks import commands as c
from domain.risks.aggregate import Risk
from domain.risks.plan import ContingencyPlan
from domain.risks.service import RiskService
from domain.teams import commands as tc
from domain.teams.service import TeamService

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
STEPS = [{"title": "Fail over to eu-west-2", "role": "On-call SRE"},
         {"title": "Tell customers", "role": "Support lead"}]


def ctx(days: float = 0, teams: frozenset[str] = frozenset({"*"}),
        occurred_at: datetime | None = None, if_match: int | None = None) -> CommandContext:
    return CommandContext(
        CommandMeta(actor="user:lead", now=NOW + timedelta(days=days), occurred_at=occurred_at),
        teams=teams, if_match=if_match)


class World:
    """A team with an owner and a second member, and a high risk of theirs."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.risks = RiskService(ledger)
        teams = TeamService(ledger)
        self.team = teams.form(tc.FormTeam(name="Payments SRE"), ctx()).id
        self.owner, self.other = uuid4(), uuid4()
        teams.add_member(tc.AddMember(self.team, "Olu", "olu@x.test", "SRE", self.owner), ctx())
        teams.add_member(tc.AddMember(self.team, "Ria", "ria@x.test", "Lead", self.other), ctx())
        self.risk = self.identify()

    def identify(self, team: UUID | None = None, owner: UUID | None = None) -> UUID:
        return self.risks.identify(c.IdentifyRisk(
            team or self.team, "DB region outage", "technical", 4, 5, owner or self.owner,
            "2025-04-01"), ctx()).id

    def draft(self, **overrides: Any) -> UUID:
        fields: dict[str, Any] = {"team_id": self.team, "title": "Region failover",
                                  "risk_ids": [self.risk], "steps": STEPS,
                                  "owner_id": self.owner}
        fields.update(overrides)
        return self.risks.draft_plan(c.DraftPlan(**fields), ctx(days=1)).id

    def events(self, aggregate_id: UUID) -> list[tuple[str, dict[str, Any]]]:
        return [(type(e).__name__, envelope_of(e, 0).data)
                for e in self.ledger.events.get(aggregate_id)]


@pytest.fixture
def world(ledger: Ledger) -> World:
    return World(ledger)


# -- drafting ------------------------------------------------------------------------


def test_a_plan_is_drafted_for_risks_of_its_team_with_steps_and_roles(world: World) -> None:
    plan = world.draft()

    assert world.events(plan) == [("PlanDrafted", {
        "team_id": str(world.team), "title": "Region failover",
        "risk_ids": [str(world.risk)], "steps": STEPS, "owner_id": str(world.owner)})]


def test_a_plan_covers_only_risks_of_its_own_team(world: World, ledger: Ledger) -> None:
    teams = TeamService(ledger)
    elsewhere = teams.form(tc.FormTeam(name="Search"), ctx()).id
    someone = uuid4()
    teams.add_member(tc.AddMember(elsewhere, "Sol", "sol@x.test", "SRE", someone), ctx())
    foreign = world.identify(team=elsewhere, owner=someone)
    head = ledger.head_position()

    with pytest.raises(ValidationError, match="a plan covers risks of its own team"):
        world.draft(risk_ids=[world.risk, foreign])
    with pytest.raises(ValidationError, match="does not exist"):
        world.draft(risk_ids=[uuid4()])
    assert ledger.head_position() == head


@pytest.mark.parametrize(("steps", "message"), [
    ([], "at least one step"),
    ([{"title": "Fail over", "role": " "}], "step 1 needs a title and the role"),
])
def test_every_step_names_what_and_the_role_responsible(
        world: World, steps: list[dict[str, str]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        world.draft(steps=steps)


def test_a_plan_needs_a_risk_and_names_each_once(world: World) -> None:
    with pytest.raises(ValidationError, match="at least one risk"):
        world.draft(risk_ids=[])
    with pytest.raises(ValidationError, match="more than once"):
        world.draft(risk_ids=[world.risk, world.risk])


# -- revising and exercising -----------------------------------------------------------


def test_a_revision_is_a_new_version_and_keeps_the_old_one(world: World) -> None:
    plan = world.draft()
    new_steps = [*STEPS, {"title": "Post-incident review", "role": "Team lead"}]

    world.risks.revise_plan(c.RevisePlan(plan, new_steps, "review step missing"), ctx(2))

    assert world.events(plan)[-1] == ("PlanRevised", {
        "team_id": str(world.team), "plan_version": 2, "steps": new_steps,
        "reason": "review step missing"})
    assert world.events(plan)[0][1]["steps"] == STEPS
    with pytest.raises(DomainError, match="already the steps of version 2"):
        world.risks.revise_plan(c.RevisePlan(plan, new_steps, "again"), ctx(3))


def test_a_drill_is_recorded_as_happening_when_it_was_held(world: World) -> None:
    plan = world.draft()
    held_at = NOW + timedelta(days=5)

    world.risks.exercise_plan(c.ExercisePlan(
        plan, held_at, [world.owner, world.other], "failover in 12 min", "DNS TTL too long"),
        ctx(days=9))

    stored = list(world.ledger.events.get(plan))[-1]
    assert envelope_of(stored, 0).data == {
        "team_id": str(world.team), "plan_version": 1, "held_at": "2025-03-08T09:00:00.000000Z",
        "participants": [str(world.owner), str(world.other)],
        "outcome": "failover in 12 min", "lessons": "DNS TTL too long"}
    assert stored.occurred_at == held_at  # business time: when it was held


def test_a_drill_whose_occurred_at_differs_from_held_at_is_refused(world: World) -> None:
    plan = world.draft()

    with pytest.raises(ValidationError, match="happened when it was held"):
        world.risks.exercise_plan(c.ExercisePlan(
            plan, NOW + timedelta(days=2), [world.owner], "ok"),
            ctx(days=3, occurred_at=NOW + timedelta(days=3)))


def test_a_drill_before_the_plan_existed_or_with_a_stranger_is_refused(world: World) -> None:
    plan = world.draft()  # drafted a day after NOW

    with pytest.raises(DomainError, match="before the plan was drafted"):
        world.risks.exercise_plan(c.ExercisePlan(plan, NOW, [world.owner], "ok"), ctx(2))
    with pytest.raises(ValidationError, match=r"participants .* is not a member"):
        world.risks.exercise_plan(c.ExercisePlan(
            plan, NOW + timedelta(days=2), [uuid4()], "ok"), ctx(2))


# -- accepting through the service ------------------------------------------------------


def test_the_approver_is_an_active_member_and_not_the_owner(world: World) -> None:
    world.risks.treat(c.TreatRisk(world.risk, "accept", "", "cheap"), ctx(1))

    with pytest.raises(SegregationOfDutiesError):
        world.risks.accept(c.AcceptRisk(world.risk, world.owner, "mine"), ctx(2))
    with pytest.raises(ValidationError, match=r"approver_id .* is not a member"):
        world.risks.accept(c.AcceptRisk(world.risk, uuid4(), "who?"), ctx(2))
    world.risks.accept(c.AcceptRisk(world.risk, world.other, "within appetite"), ctx(2))
    assert world.ledger.load(Risk, world.risk).approver_id == str(world.other)


# -- incidents linked to what foresaw them ----------------------------------------------


def incident_of(world: World) -> UUID:
    return IncidentService(world.ledger).open(ic.OpenIncident(
        world.team, "SEV1", "payments-db", "primary down"), ctx(days=3)).id


def test_a_link_to_a_risk_and_its_plan_is_recorded_on_both_in_one_command(
        world: World) -> None:
    plan = world.draft()
    incident = incident_of(world)

    answer = world.risks.link_incident(c.LinkIncident(incident, world.risk, plan, False),
                                       ctx(days=4))

    assert (answer.id, answer.created) == (world.risk, True)
    assert world.events(world.risk)[-1] == ("RiskIncidentLinked", {
        "team_id": str(world.team), "incident_id": str(incident), "plan_id": str(plan),
        "plan_followed": False})
    assert world.events(plan)[-1] == ("PlanIncidentLinked", {
        "team_id": str(world.team), "incident_id": str(incident), "risk_id": str(world.risk),
        "plan_followed": False})


@pytest.mark.parametrize(("risk", "plan", "followed", "message"), [
    (False, False, None, "names the risk_id, the plan_id or both"),
    (True, False, True, "name its plan_id"),
    (False, True, None, "whether it was followed"),
])
def test_a_link_names_what_foresaw_the_incident_and_whether_its_plan_was_followed(
        world: World, risk: bool, plan: bool, followed: bool | None, message: str) -> None:
    plan_id = world.draft() if plan else None
    with pytest.raises(ValidationError, match=message):
        world.risks.link_incident(c.LinkIncident(
            incident_of(world), world.risk if risk else None, plan_id, followed), ctx(4))


def test_a_plan_linked_with_a_risk_it_does_not_cover_is_refused(world: World) -> None:
    plan = world.draft()
    other_risk = world.identify()
    incident = incident_of(world)
    head = world.ledger.head_position()

    with pytest.raises(ValidationError, match="does not cover risk"):
        world.risks.link_incident(c.LinkIncident(incident, other_risk, plan, True), ctx(4))
    assert world.ledger.head_position() == head  # not even the risk's half


def test_a_link_is_kept_to_the_callers_teams_and_its_if_match(world: World) -> None:
    incident = incident_of(world)
    elsewhere = frozenset({str(uuid4())})

    with pytest.raises(OutOfScopeError):
        world.risks.link_incident(c.LinkIncident(incident, world.risk), ctx(4, teams=elsewhere))
    with pytest.raises(StaleVersionError):
        world.risks.link_incident(c.LinkIncident(incident, world.risk), ctx(4, if_match=7))
    world.risks.link_incident(c.LinkIncident(incident, world.risk), ctx(4, if_match=1))
    assert world.events(world.risk)[-1][0] == "RiskIncidentLinked"
    assert world.ledger.load(ContingencyPlan, world.draft()).plan_version == 1
