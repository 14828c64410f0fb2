"""Members across teams, as specifications: a member id is global, a move is its own
command, references name active members, and one principal acts as at most one
active member. Checked on the write side, through the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.aggregate import LedgerAggregate
from domain.envelope import envelope_of
from domain.errors import ConcurrencyError, DomainError, NotFoundError, ValidationError
from domain.feedback import commands as fc
from domain.feedback.service import FeedbackService
from domain.goals import commands as gc
from domain.goals.service import GoalService
from domain.incidents import commands as ic
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as c
from domain.teams.aggregate import Team
from domain.teams.directory import INDEX_ID, MemberDirectory, MemberRecord
from domain.teams.service import TeamService

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ADA = UUID("00000000-0000-4000-8000-000000000001")
BOB = UUID("00000000-0000-4000-8000-000000000002")
CY = UUID("00000000-0000-4000-8000-000000000003")


def ctx(minutes: int = 0, actor: str = "user:admin", if_match: int | None = None
        ) -> CommandContext:
    return CommandContext(CommandMeta(actor=actor, now=NOW + timedelta(minutes=minutes)),
                          if_match=if_match)


def public_events(ledger: Ledger, after: int = 0) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, subject, wire data) of every public event stored after ``after``."""
    found = []
    for n in ledger.recorder.select_notifications(start=after + 1, limit=10_000):
        event = ledger.mapper.to_domain_event(n)
        if isinstance(event, LedgerAggregate.Event):
            envelope = envelope_of(event, n.id)
            found.append((envelope.name, envelope.subject, envelope.data))
    return found


class World:
    """Two teams, A (Ada, Bob) and B (Cy), formed and joined through the services."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.teams = TeamService(ledger)
        self.goals = GoalService(ledger)
        self.incidents = IncidentService(ledger)
        self.feedback = FeedbackService(ledger)
        self.a = self.teams.form(c.FormTeam("Payments SRE"), ctx()).id
        self.b = self.teams.form(c.FormTeam("Platform"), ctx()).id
        self.join(self.a, ADA, "Ada", principal="user:ada")
        self.join(self.a, BOB, "Bob")
        self.join(self.b, CY, "Cy")

    def join(self, team: UUID, member_id: UUID | None, name: str, **kw: Any) -> UUID:
        return self.teams.add_member(c.AddMember(
            team, name, f"{name.lower()}@x.test", "engineer", member_id, ["on-call"], **kw,
        ), ctx()).id

    def head(self) -> int:
        return self.ledger.head_position()

    def goal(self, owner: object, team: UUID | None = None) -> UUID:
        return self.goals.set_goal(gc.SetGoal(
            team or self.a, owner, "Cut MTTR", "MTTR", 90, 30, "minutes", "2025-06-30",  # type: ignore[arg-type]
        ), ctx()).id

    def incident(self) -> UUID:
        return self.incidents.open(ic.OpenIncident(self.a, "SEV2", "api", "5xx"), ctx()).id


@pytest.fixture
def world(ledger: Ledger) -> World:
    return World(ledger)


# -- a member id is global ------------------------------------------------------------


def test_joining_with_the_id_of_another_teams_member_is_refused_and_appends_nothing(
    world: World,
) -> None:
    head = world.head()

    with pytest.raises(DomainError, match=f"member id {CY} already exists"):
        world.join(world.a, CY, "Mallory")

    assert world.head() == head
    assert str(CY) not in world.ledger.load(Team, world.a).members
    assert world.teams.team_of(CY) == str(world.b)


def test_joining_with_the_id_of_any_aggregate_is_refused(world: World) -> None:
    goal = world.goal(ADA)
    head = world.head()

    for taken in (world.b, goal):
        with pytest.raises(DomainError, match="already exists"):
            world.join(world.a, taken, "Mallory")
    assert world.head() == head


def test_a_member_id_cannot_be_taken_by_a_new_team_either(world: World) -> None:
    with pytest.raises(DomainError, match="already exists"):
        world.teams.form(c.FormTeam("Squatters", team_id=ADA), ctx())


def test_two_concurrent_joins_of_one_id_collide_on_its_record(world: World) -> None:
    new = uuid4()
    directory = MemberDirectory.of(world.ledger)

    def first_join_then_racer(index: Any) -> list[Any]:
        team = world.ledger.load(Team, world.a)
        team.join(new, "Dee", "dee@x.test", "engineer", [], ctx().meta)
        index.register(new, team.id, None)
        world.join(world.b, new, "Racer")  # the other command saves first
        return [team]

    with pytest.raises(ConcurrencyError):
        directory.execute(ctx(), first_join_then_racer, created=True, answer_id=new)

    assert world.teams.team_of(new) == str(world.b)
    assert str(new) not in world.ledger.load(Team, world.a).members


# -- moving a member ------------------------------------------------------------------


def test_a_move_records_moved_out_and_moved_in_and_keeps_the_member_as_it_was(
    world: World,
) -> None:
    world.teams.assign_role(c.AssignRole(world.a, ADA, "IC", "training", ["command"]), ctx())
    head = world.head()

    moved = world.teams.move_member(c.MoveMember(world.a, ADA, world.b, "reorg"), ctx(5))

    assert public_events(world.ledger, head) == [
        ("MemberMovedIn", str(world.b), {
            "member_id": str(ADA), "from_team_id": str(world.a), "name": "Ada",
            "email": "ada@x.test", "role": "IC", "responsibilities": ["command"],
            "principal": "user:ada", "reason": "reorg",
        }),
        ("MemberMovedOut", str(world.a), {
            "member_id": str(ADA), "to_team_id": str(world.b), "reason": "reorg",
        }),
    ]
    source, destination = (world.ledger.load(Team, t) for t in (world.a, world.b))
    assert (moved.id, moved.version, moved.position) == (ADA, source.version, world.head())
    assert destination.members[str(ADA)]["active"] is True
    assert destination.members[str(ADA)]["principal"] == "user:ada"
    assert source.members[str(ADA)]["active"] is False
    assert world.teams.team_of(ADA) == str(world.b)


def test_a_moved_member_is_changed_through_its_new_team_only(world: World) -> None:
    world.teams.move_member(c.MoveMember(world.a, ADA, world.b, "reorg"), ctx())

    with pytest.raises(DomainError, match="moved to team"):
        world.teams.assign_role(c.AssignRole(world.a, ADA, "IC", "training"), ctx())
    world.teams.assign_role(c.AssignRole(world.b, ADA, "IC", "training"), ctx())
    assert world.ledger.load(Team, world.b).members[str(ADA)]["role"] == "IC"


def test_moving_the_lead_vacates_the_lead_of_the_team_it_leaves(world: World) -> None:
    world.teams.change_lead(c.ChangeLead(world.a, ADA, "founding lead"), ctx())

    world.teams.move_member(c.MoveMember(world.a, ADA, world.b, "reorg"), ctx())

    assert world.ledger.load(Team, world.a).lead_id is None


def test_a_member_may_move_back_to_a_team_it_left_by_moving(world: World) -> None:
    world.teams.move_member(c.MoveMember(world.a, ADA, world.b, "reorg"), ctx())
    world.teams.move_member(c.MoveMember(world.b, ADA, world.a, "reorg undone"), ctx(1))

    assert world.ledger.load(Team, world.a).members[str(ADA)]["active"] is True
    assert world.teams.team_of(ADA) == str(world.a)


@pytest.mark.parametrize(("case", "error", "message"), [
    ("not on the team", NotFoundError, "is not on team"),
    ("unknown member", NotFoundError, "is not on team"),
    ("left", DomainError, "has left"),
    ("unknown destination", NotFoundError, "team"),
    ("same team", DomainError, "already on team"),
    ("no reason", DomainError, "needs a reason"),
])
def test_a_move_that_breaks_a_rule_is_refused_and_appends_nothing(
    world: World, case: str, error: type[Exception], message: str,
) -> None:
    world.teams.remove_member(c.RemoveMember(world.a, BOB, "moved on"), ctx())
    member, to, reason = {
        "not on the team": (CY, world.b, "reorg"),
        "unknown member": (uuid4(), world.b, "reorg"),
        "left": (BOB, world.b, "reorg"),
        "unknown destination": (ADA, uuid4(), "reorg"),
        "same team": (ADA, world.a, "reorg"),
        "no reason": (ADA, world.b, "  "),
    }[case]
    head = world.head()

    with pytest.raises(error, match=message) as refused:
        world.teams.move_member(c.MoveMember(world.a, member, to, reason), ctx())

    if error is DomainError:
        assert not isinstance(refused.value, (NotFoundError, ValidationError))
    assert world.head() == head


def test_a_move_checks_if_match_against_the_team_it_leaves(world: World) -> None:
    version = world.ledger.load(Team, world.a).version

    with pytest.raises(DomainError, match="expected version"):
        world.teams.move_member(c.MoveMember(world.a, ADA, world.b, "reorg"),
                                ctx(if_match=version - 1))
    world.teams.move_member(c.MoveMember(world.a, ADA, world.b, "reorg"), ctx(if_match=version))


# -- references ------------------------------------------------------------------------


def test_a_goal_owner_must_be_an_active_member_of_the_goals_team(world: World) -> None:
    world.teams.remove_member(c.RemoveMember(world.a, BOB, "moved on"), ctx())
    head = world.head()

    with pytest.raises(ValidationError, match=r"owner_id .* is not a member of team"):
        world.goal(uuid4())  # nobody
    with pytest.raises(ValidationError, match="is not a member of team"):
        world.goal(CY)  # another team's member
    with pytest.raises(DomainError, match="has left") as left:
        world.goal(BOB)
    assert not isinstance(left.value, ValidationError)  # 409, not 422
    assert world.head() == head
    world.goal(ADA)


def test_after_a_move_the_member_owns_goals_of_its_new_team_only(world: World) -> None:
    world.teams.move_member(c.MoveMember(world.a, ADA, world.b, "reorg"), ctx())

    with pytest.raises(ValidationError, match="is not a member of team"):
        world.goal(ADA, world.a)
    world.goal(ADA, world.b)


def test_a_triage_owner_must_be_an_active_member_of_the_feedbacks_team(world: World) -> None:
    item = world.feedback.give(fc.GiveFeedback("customer", world.a, "slow"), ctx()).id
    world.teams.remove_member(c.RemoveMember(world.a, BOB, "moved on"), ctx())
    head = world.head()

    with pytest.raises(ValidationError, match="owner_id"):
        world.feedback.triage(fc.TriageFeedback(item, "high", CY), ctx())
    with pytest.raises(ValidationError, match="owner_id"):
        world.feedback.triage(fc.TriageFeedback(item, "high", uuid4()), ctx())
    with pytest.raises(DomainError, match="has left"):
        world.feedback.triage(fc.TriageFeedback(item, "high", BOB), ctx())
    assert world.head() == head
    world.feedback.triage(fc.TriageFeedback(item, "high", ADA), ctx())


def test_a_responder_is_an_active_member_of_any_team(world: World) -> None:
    incident = world.incident()
    world.teams.remove_member(c.RemoveMember(world.a, BOB, "moved on"), ctx())
    head = world.head()

    with pytest.raises(ValidationError, match=r"responder_id .* is not a member of any team"):
        world.incidents.assign_responder(ic.AssignResponder(incident, uuid4()), ctx())
    with pytest.raises(DomainError, match="has left") as left:
        world.incidents.assign_responder(ic.AssignResponder(incident, BOB), ctx())
    assert not isinstance(left.value, ValidationError)
    assert world.head() == head
    world.incidents.assign_responder(ic.AssignResponder(incident, CY), ctx())  # cross-team


def test_an_action_item_owner_is_an_active_member_of_any_team(world: World) -> None:
    incident = world.incident()
    world.incidents.acknowledge(ic.Acknowledge(incident), ctx())
    world.incidents.resolve(ic.Resolve(incident, "fixed"), ctx())
    world.teams.remove_member(c.RemoveMember(world.a, BOB, "moved on"), ctx())

    def item(owner: object) -> dict[str, str]:
        return {"title": "canary", "owner_id": str(owner), "due": "2025-04-01"}

    head = world.head()
    with pytest.raises(ValidationError, match="action item 2 owner_id"):
        world.incidents.publish_postmortem(ic.PublishPostmortem(
            incident, ["bad deploy"], [item(ADA), item(uuid4())]), ctx())
    with pytest.raises(DomainError, match="has left"):
        world.incidents.publish_postmortem(ic.PublishPostmortem(
            incident, ["bad deploy"], [item(BOB)]), ctx())
    with pytest.raises(ValidationError, match="not a member"):
        world.incidents.publish_postmortem(ic.PublishPostmortem(
            incident, ["bad deploy"], [item("u1")]), ctx())
    assert world.head() == head
    world.incidents.publish_postmortem(ic.PublishPostmortem(
        incident, ["bad deploy"], [item(ADA), item(CY)]), ctx())


@pytest.mark.parametrize("kind", ["peer", "manager", "customer"])
def test_a_feedback_subject_is_an_active_member_of_any_team(world: World, kind: str) -> None:
    world.teams.remove_member(c.RemoveMember(world.a, BOB, "moved on"), ctx())
    head = world.head()

    def give(subject: UUID) -> object:
        return world.feedback.give(
            fc.GiveFeedback(kind, world.a, "thanks", subject_member_id=subject), ctx())

    with pytest.raises(ValidationError, match="subject_member_id"):
        give(uuid4())
    with pytest.raises(DomainError, match="has left"):
        give(BOB)
    assert world.head() == head
    give(CY)


# -- principals -------------------------------------------------------------------------


def test_binding_a_principal_records_principal_bound_with_the_previous_one(
    world: World,
) -> None:
    head = world.head()

    bound = world.teams.bind_principal(c.BindPrincipal(ADA, "user:ada.l", "typo"), ctx())

    assert public_events(world.ledger, head) == [("PrincipalBound", str(world.a), {
        "member_id": str(ADA), "principal": "user:ada.l", "previous_principal": "user:ada",
        "reason": "typo",
    })]
    assert (bound.id, bound.position) == (ADA, world.head())
    assert world.ledger.load(Team, world.a).members[str(ADA)]["principal"] == "user:ada.l"
    assert world.teams.directory.member(ADA).principal == "user:ada.l"  # type: ignore[union-attr]


def test_a_principal_acts_as_at_most_one_active_member(world: World) -> None:
    head = world.head()

    with pytest.raises(DomainError, match="already bound to active member"):
        world.teams.bind_principal(c.BindPrincipal(CY, "user:ada", "mine now"), ctx())
    with pytest.raises(DomainError, match="already bound to active member"):
        world.join(world.b, None, "Ada Again", principal="user:ada")
    assert world.head() == head


def test_a_principal_whose_member_left_may_be_bound_again(world: World) -> None:
    world.teams.remove_member(c.RemoveMember(world.a, ADA, "moved on"), ctx())

    world.teams.bind_principal(c.BindPrincipal(CY, "user:ada", "same person, new team"), ctx())

    assert world.teams.directory.member(CY).principal == "user:ada"  # type: ignore[union-attr]


def test_a_principal_bound_elsewhere_since_is_free_again(world: World) -> None:
    world.teams.bind_principal(c.BindPrincipal(ADA, "user:ada.l", "typo"), ctx())

    world.teams.bind_principal(c.BindPrincipal(CY, "user:ada", "the real user:ada"), ctx())


def test_a_principal_moves_with_its_member(world: World) -> None:
    world.teams.move_member(c.MoveMember(world.a, ADA, world.b, "reorg"), ctx())

    with pytest.raises(DomainError, match="already bound"):
        world.teams.bind_principal(c.BindPrincipal(CY, "user:ada", "grab"), ctx())
    assert world.teams.directory.member(ADA).principal == "user:ada"  # type: ignore[union-attr]


def test_binding_refuses_unknown_and_left_members_and_bad_principals(world: World) -> None:
    world.teams.remove_member(c.RemoveMember(world.a, BOB, "moved on"), ctx())
    head = world.head()

    with pytest.raises(NotFoundError):
        world.teams.bind_principal(c.BindPrincipal(uuid4(), "user:x", "why"), ctx())
    with pytest.raises(DomainError, match="has left"):
        world.teams.bind_principal(c.BindPrincipal(BOB, "user:bob", "why"), ctx())
    with pytest.raises(ValidationError, match="principal"):
        world.teams.bind_principal(c.BindPrincipal(CY, "service:ci", "why"), ctx())
    with pytest.raises(DomainError, match="needs a reason"):
        world.teams.bind_principal(c.BindPrincipal(CY, "user:cy", " "), ctx())
    with pytest.raises(DomainError, match="already bound to user:ada"):
        world.teams.bind_principal(c.BindPrincipal(ADA, "user:ada", "again"), ctx())
    assert world.head() == head


def test_two_concurrent_binds_of_one_principal_collide(world: World) -> None:
    directory = world.teams.directory

    def bind_then_racer(index: Any) -> list[Any]:
        team = world.ledger.load(Team, world.b)
        team.bind_principal(CY, "user:zed", "first", ctx().meta)
        record = index.member(CY)
        record.bind("user:zed")
        index.claim("user:zed", CY)
        world.teams.bind_principal(c.BindPrincipal(BOB, "user:zed", "racer"), ctx())
        return [team]

    with pytest.raises(ConcurrencyError):
        directory.execute(ctx(), bind_then_racer, answer_id=CY)
    assert world.teams.directory.member(CY).principal is None  # type: ignore[union-attr]


# -- members who joined before the directory existed ------------------------------------


def stored_after(ledger: Ledger, head: int) -> list[str]:
    """The class of every record stored after ``head``, private ones included."""
    return [type(ledger.mapper.to_domain_event(n)).__qualname__
            for n in ledger.recorder.select_notifications(head + 1, 100)]


def legacy_ledger(ledger: Ledger) -> tuple[UUID, UUID]:
    """A store written before member records: a team with Ada (principal user:ada,
    active) and Bob (left), saved without going through the directory."""
    team = Team.form(uuid4(), "Legacy", "", ctx().meta)
    team.join(ADA, "Ada", "ada@x.test", "engineer", [], ctx().meta, principal="user:ada")
    team.join(BOB, "Bob", "bob@x.test", "engineer", [], ctx().meta)
    team.leave(BOB, "moved on", ctx().meta)
    other = Team.form(uuid4(), "Other", "", ctx().meta)
    ledger.save(team, other)
    return team.id, other.id


def test_members_who_joined_before_the_directory_are_known_from_the_teams_events(
    ledger: Ledger,
) -> None:
    legacy, other = legacy_ledger(ledger)
    head = ledger.head_position()
    goals, teams = GoalService(ledger), TeamService(ledger)

    goals.set_goal(gc.SetGoal(legacy, ADA, "t", "m", 1, 2, "u", "2025-06-30"), ctx())
    with pytest.raises(DomainError, match="has left"):
        goals.set_goal(gc.SetGoal(legacy, BOB, "t", "m", 1, 2, "u", "2025-06-30"), ctx())
    with pytest.raises(DomainError, match="already exists"):
        teams.add_member(c.AddMember(other, "Mallory", "m@x.test", "x", ADA), ctx())
    with pytest.raises(DomainError, match="already bound"):
        teams.add_member(c.AddMember(other, "Eve", "e@x.test", "x", principal="user:ada"), ctx())
    # reads and refused commands wrote no directory record
    assert stored_after(ledger, head) == ["Goal.GoalSet"]


def test_the_first_member_command_saves_the_missing_records_and_the_marker(
    ledger: Ledger,
) -> None:
    legacy, other = legacy_ledger(ledger)
    head = ledger.head_position()

    TeamService(ledger).add_member(c.AddMember(other, "Cy", "cy@x.test", "x", CY), ctx())

    saved = stored_after(ledger, head)
    assert sorted(saved[:-1]) == [
        "MemberIndex.Built", "MemberRecord.Registered", "MemberRecord.Registered",
        "MemberRecord.Registered", "PrincipalRecord.Claimed",
    ]
    assert saved[-1] == "Team.MemberJoined"  # the answer is last
    assert isinstance(ledger.repository.get(ADA), MemberRecord)
    assert ledger.repository.get(BOB).active is False
    assert ledger.repository.get(INDEX_ID).migrated == 2
    # and from now on the records answer (a fresh directory reads no events)
    fresh = MemberDirectory(ledger)
    assert fresh.member(ADA).team_id == str(legacy)  # type: ignore[union-attr]
    assert fresh._pending() is None
