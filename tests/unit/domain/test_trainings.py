"""Trainings, as specifications: given these commands, when this command, then these
events (or this error); and the trainings a role requires assign themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.envelope import envelope_of
from domain.errors import (
    DomainError,
    NotFoundError,
    OutOfOrderError,
    OutOfScopeError,
    ValidationError,
)
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.people import commands as c
from domain.people.requirements import TeamTrainings, index_id
from domain.people.service import PeopleService
from domain.teams import commands as tc
from domain.teams.service import TeamService

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
EVIDENCE = "https://lms.example.test/certificates/42"


def ctx(days: float = 0, teams: frozenset[str] = frozenset({"*"}),
        occurred_at: datetime | None = None) -> CommandContext:
    return CommandContext(
        CommandMeta(actor="user:lead", now=NOW + timedelta(days=days), occurred_at=occurred_at),
        teams=teams)


class World:
    """A team with an SRE (Olu) and a lead (Ria), and a second team."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.people = PeopleService(ledger)
        self.teams = TeamService(ledger)
        self.team = self.teams.form(tc.FormTeam(name="Payments SRE"), ctx()).id
        self.other_team = self.teams.form(tc.FormTeam(name="Search"), ctx()).id
        self.olu, self.ria, self.sam = uuid4(), uuid4(), uuid4()
        self.teams.add_member(tc.AddMember(self.team, "Olu", "olu@x.test", "SRE", self.olu),
                              ctx())
        self.teams.add_member(tc.AddMember(self.team, "Ria", "ria@x.test", "Lead", self.ria),
                              ctx())
        self.teams.add_member(tc.AddMember(self.other_team, "Sam", "sam@x.test", "SRE",
                                           self.sam), ctx())

    def define(self, roles: tuple[str, ...] = (), valid: int | None = 365,
               team: UUID | None = None, days: float = 0) -> UUID:
        return self.people.define_training(c.DefineTraining(
            team or self.team, "Incident command", list(roles), valid), ctx(days)).id

    def assign(self, training: UUID, member: UUID, due: str = "2025-03-31",
               days: float = 0) -> None:
        self.people.assign_training(c.AssignTraining(member, training, due), ctx(days))

    def complete(self, training: UUID, member: UUID, days: float = 1) -> None:
        self.people.complete_training(c.CompleteTraining(
            member, training, NOW + timedelta(days=days), EVIDENCE), ctx(days))

    def events(self, aggregate_id: UUID) -> list[tuple[str, dict[str, Any]]]:
        return [(type(e).__name__, envelope_of(e, 0).data)
                for e in self.ledger.events.get(aggregate_id)]


@pytest.fixture
def world(ledger: Ledger) -> World:
    return World(ledger)


def test_a_training_is_defined_for_roles_and_assigns_itself_to_members_in_them(
        world: World) -> None:
    training = world.define(roles=("SRE", " SRE on call "), valid=365)

    assert world.events(training) == [
        ("TrainingDefined", {"team_id": str(world.team), "title": "Incident command",
                             "required_for_roles": ["SRE", "SRE on call"],
                             "valid_for_days": 365}),
        ("TrainingAssigned", {"team_id": str(world.team), "member_id": str(world.olu),
                              "due": "2025-04-02", "required_for_role": "SRE"}),
    ]


def test_a_training_of_no_role_assigns_itself_to_nobody(world: World) -> None:
    training = world.define()

    assert [name for name, _ in world.events(training)] == ["TrainingDefined"]


@pytest.mark.parametrize("roles, valid", [(["SRE", "SRE"], 30), ([" "], 30), ([], 0),
                                          ([], 40_000)])
def test_a_training_needs_distinct_roles_and_a_validity_of_days(
        world: World, roles: list[str], valid: int) -> None:
    with pytest.raises(ValidationError):
        world.people.define_training(c.DefineTraining(world.team, "X", roles, valid), ctx())


def test_a_training_belongs_to_a_team_that_exists(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.people.define_training(c.DefineTraining(uuid4(), "X", [], None), ctx())


def test_a_member_is_assigned_a_training_due_by_a_date(world: World) -> None:
    training = world.define()
    world.assign(training, world.ria, "2025-03-20")

    assert world.events(training)[-1] == ("TrainingAssigned", {
        "team_id": str(world.team), "member_id": str(world.ria), "due": "2025-03-20",
        "required_for_role": None})


def test_a_training_is_not_assigned_twice_while_pending(world: World) -> None:
    training = world.define()
    world.assign(training, world.ria)

    with pytest.raises(DomainError, match="already assigned"):
        world.assign(training, world.ria)


def test_a_due_date_in_the_past_is_refused(world: World) -> None:
    training = world.define()

    with pytest.raises(ValidationError, match="in the past"):
        world.assign(training, world.ria, "2025-03-02")


def test_a_training_is_assigned_to_members_of_its_own_team(world: World) -> None:
    training = world.define()

    with pytest.raises(ValidationError, match="not a member of team"):
        world.assign(training, world.sam)
    with pytest.raises(NotFoundError):
        world.assign(training, uuid4())


def test_a_training_that_does_not_exist_is_a_malformed_reference(world: World) -> None:
    with pytest.raises(ValidationError, match="training_id"):
        world.assign(uuid4(), world.ria)


def test_another_teams_training_is_out_of_scope(world: World) -> None:
    training = world.define(team=world.other_team)

    with pytest.raises(OutOfScopeError):
        world.people.assign_training(c.AssignTraining(world.sam, training, "2025-03-31"),
                                     ctx(teams=frozenset({str(world.team)})))


def test_a_completion_happens_when_it_was_completed_with_its_evidence(world: World) -> None:
    training = world.define()
    world.assign(training, world.ria)
    world.complete(training, world.ria, days=2)

    name, data = world.events(training)[-1]
    assert (name, data) == ("TrainingCompleted", {
        "team_id": str(world.team), "member_id": str(world.ria),
        "completed_at": "2025-03-05T09:00:00.000000Z", "evidence": EVIDENCE})
    [event] = world.ledger.events.get(training, gt=2)
    assert event.occurred_at == NOW + timedelta(days=2)  # type: ignore[attr-defined]


def test_a_training_not_assigned_or_already_done_cannot_be_completed(world: World) -> None:
    training = world.define()
    with pytest.raises(DomainError, match="not assigned"):
        world.complete(training, world.ria)
    world.assign(training, world.ria)
    world.complete(training, world.ria)

    with pytest.raises(DomainError, match="already completed"):
        world.complete(training, world.ria, days=2)


def test_a_completion_says_when_it_happened_once(world: World) -> None:
    training = world.define()
    world.assign(training, world.ria)

    with pytest.raises(ValidationError, match="completed_at"):
        world.people.complete_training(c.CompleteTraining(
            world.ria, training, NOW + timedelta(days=1), EVIDENCE),
            ctx(1, occurred_at=NOW + timedelta(hours=1)))


def test_a_completion_before_the_assignment_is_out_of_order(world: World) -> None:
    training = world.define()
    world.assign(training, world.ria, days=1)

    with pytest.raises(OutOfOrderError):
        world.people.complete_training(c.CompleteTraining(world.ria, training, NOW, EVIDENCE),
                                       ctx(1))


def test_a_valid_completion_is_not_assigned_again_until_it_expires(world: World) -> None:
    training = world.define(valid=30)
    world.assign(training, world.ria)
    world.complete(training, world.ria, days=1)

    with pytest.raises(DomainError, match="valid until 2025-04-03"):
        world.assign(training, world.ria, "2025-05-01", days=20)
    world.assign(training, world.ria, "2025-05-01", days=31)  # expired on 2025-04-03
    assert world.events(training)[-1][1]["due"] == "2025-05-01"


def test_a_training_valid_for_good_is_never_assigned_again(world: World) -> None:
    training = world.define(valid=None)
    world.assign(training, world.ria)
    world.complete(training, world.ria)

    with pytest.raises(DomainError, match="valid for good"):
        world.assign(training, world.ria, "2030-01-01", days=1000)


# -- trainings a role requires assign themselves ----------------------------------------


def test_a_role_change_assigns_the_trainings_the_new_role_requires(world: World) -> None:
    training = world.define(roles=("Incident commander",))
    world.teams.assign_role(tc.AssignRole(world.team, world.ria, "Incident commander",
                                          "rotation", effective_date="2025-03-10"), ctx(1))

    assert world.events(training)[-1] == ("TrainingAssigned", {
        "team_id": str(world.team), "member_id": str(world.ria), "due": "2025-04-09",
        "required_for_role": "Incident commander"})
    team_events = [type(e).__name__ for e in world.ledger.events.get(world.team)]
    assert team_events[-1] == "RoleAssigned"


def test_a_role_change_to_a_role_no_training_requires_assigns_nothing(world: World) -> None:
    training = world.define(roles=("Incident commander",))
    world.teams.assign_role(tc.AssignRole(world.team, world.ria, "Manager", "growth"), ctx(1))

    assert [name for name, _ in world.events(training)] == ["TrainingDefined"]


def test_a_role_change_keeps_a_pending_assignment_and_is_never_refused_for_it(
        world: World) -> None:
    training = world.define(roles=("Incident commander",))
    world.assign(training, world.ria, "2025-03-05")
    world.teams.assign_role(tc.AssignRole(world.team, world.ria, "Incident commander",
                                          "rotation"), ctx(1))

    assert [name for name, _ in world.events(training)] == ["TrainingDefined",
                                                            "TrainingAssigned"]


def test_a_member_joining_or_moving_into_a_role_is_assigned_its_trainings(
        world: World) -> None:
    training = world.define(roles=("SRE",))
    newcomer = uuid4()
    world.teams.add_member(tc.AddMember(world.team, "Ada", "ada@x.test", "SRE", newcomer),
                           ctx(1))
    world.teams.move_member(tc.MoveMember(world.other_team, world.sam, world.team, "reorg"),
                            ctx(2))

    assigned = [d["member_id"] for name, d in world.events(training)
                if name == "TrainingAssigned"]
    assert assigned == [str(world.olu), str(newcomer), str(world.sam)]


def test_the_assignment_is_saved_with_the_role_change_or_not_at_all(world: World) -> None:
    training = world.define(roles=("Incident commander",))
    with pytest.raises(DomainError):
        world.teams.assign_role(tc.AssignRole(world.team, world.ria, "Incident commander",
                                              " "), ctx(1))

    assert [name for name, _ in world.events(training)] == ["TrainingDefined"]


def test_a_team_restored_without_its_private_record_still_finds_its_trainings(
        world: World) -> None:
    training = world.define(roles=("Incident commander",))
    assert isinstance(world.ledger.repository.get(index_id(world.team)), TeamTrainings)
    # As a store restored from Kafka: the log, without the private record.
    assert world.people.requirements._read_log(str(world.team)) == [str(training)]
    assert world.people.requirements._read_log(str(world.other_team)) == []
