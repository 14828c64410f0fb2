"""Teams, as specifications: given these events, when this command, then these events
(or this error)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.envelope import envelope_of
from domain.errors import DomainError, NotFoundError, ValidationError
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as c
from domain.teams.aggregate import Team
from domain.teams.service import TeamService

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TEAM_ID = UUID("00000000-0000-4000-8000-00000000000a")
ADA = UUID("00000000-0000-4000-8000-000000000001")
BOB = UUID("00000000-0000-4000-8000-000000000002")


def meta(minutes: int = 0, actor: str = "user:lead") -> CommandMeta:
    return CommandMeta(actor=actor, now=NOW + timedelta(minutes=minutes))


def then(team: Team) -> list[tuple[str, dict[str, Any]]]:
    """The events the last command(s) recorded, as (name, wire data)."""
    return [(type(e).__name__, envelope_of(e, 0).data) for e in team.collect_events()]


def given_team(*, members: tuple[UUID, ...] = (ADA,), lead: UUID | None = None) -> Team:
    team = Team.form(TEAM_ID, "Payments SRE", "keep payments up", meta())
    for member_id in members:
        team.join(member_id, f"m-{member_id.int}", f"{member_id.int}@x.test", "engineer",
                  ["on-call"], meta())
    if lead is not None:
        team.change_lead(lead, "founding lead", meta())
    team.collect_events()
    return team


# -- forming and joining -------------------------------------------------------


def test_forming_a_team_records_team_formed() -> None:
    team = Team.form(TEAM_ID, "  Payments SRE ", "keep payments up", meta())

    assert then(team) == [("TeamFormed", {"name": "Payments SRE", "mission": "keep payments up"})]
    assert team.members == {}
    assert team.lead_id is None


def test_a_team_needs_a_name() -> None:
    with pytest.raises(DomainError, match="name"):
        Team.form(TEAM_ID, "   ", "", meta())


def test_joining_records_member_joined_with_role_and_responsibilities() -> None:
    team = given_team(members=())

    team.join(ADA, "Ada", "ada@x.test", "engineer", ["on-call", "reviews"], meta())

    assert then(team) == [("MemberJoined", {
        "member_id": str(ADA), "name": "Ada", "email": "ada@x.test", "role": "engineer",
        "responsibilities": ["on-call", "reviews"], "principal": None,
    })]
    assert team.members[str(ADA)]["active"] is True
    assert team.members[str(ADA)]["since"] == NOW


def test_joining_may_name_the_principal_who_acts_as_the_member() -> None:
    team = given_team(members=())

    team.join(ADA, "Ada", "ada@x.test", "engineer", [], meta(), principal="user:ada.l")

    assert then(team)[0][1]["principal"] == "user:ada.l"
    assert team.members[str(ADA)]["principal"] == "user:ada.l"


def test_a_principal_must_name_a_user() -> None:
    team = given_team(members=())

    with pytest.raises(ValidationError, match="principal"):
        team.join(ADA, "Ada", "ada@x.test", "engineer", [], meta(), principal="service:ci")

    assert then(team) == []


def test_a_member_cannot_join_twice() -> None:
    team = given_team(members=(ADA,))

    with pytest.raises(DomainError, match="already joined"):
        team.join(ADA, "Ada", "ada@x.test", "engineer", [], meta())
    assert then(team) == []


def test_a_member_who_left_cannot_rejoin_under_the_same_id() -> None:
    team = given_team(members=(ADA,))
    team.leave(ADA, "moved on", meta())
    team.collect_events()

    with pytest.raises(DomainError, match="already joined"):
        team.join(ADA, "Ada", "ada@x.test", "engineer", [], meta())


def test_joining_needs_a_role() -> None:
    team = given_team(members=())

    with pytest.raises(DomainError, match="role"):
        team.join(ADA, "Ada", "ada@x.test", "  ", [], meta())


# -- roles -------------------------------------------------------------------------


def test_assigning_a_role_records_previous_role_reason_and_effective_date() -> None:
    team = given_team()

    team.assign_role(ADA, "incident commander", "passed IC training", ["command"],
                     "2025-04-01", meta())

    assert then(team) == [("RoleAssigned", {
        "member_id": str(ADA), "role": "incident commander", "previous_role": "engineer",
        "responsibilities": ["command"], "effective_date": "2025-04-01",
        "reason": "passed IC training",
    })]
    assert team.members[str(ADA)]["role"] == "incident commander"


def test_a_role_change_keeps_responsibilities_and_defaults_to_today() -> None:
    team = given_team()

    team.assign_role(ADA, "senior engineer", "promotion", None, "", meta())

    [(_, data)] = then(team)
    assert data["responsibilities"] == ["on-call"]
    assert data["effective_date"] == NOW.date().isoformat()


def test_a_role_change_needs_a_reason() -> None:
    team = given_team()

    with pytest.raises(DomainError, match="needs a reason"):
        team.assign_role(ADA, "senior engineer", "   ", None, "", meta())
    assert then(team) == []


def test_a_role_must_not_be_empty() -> None:
    team = given_team()

    with pytest.raises(DomainError, match="role"):
        team.assign_role(ADA, " ", "promotion", None, "", meta())


def test_a_member_who_left_cannot_get_a_new_role() -> None:
    team = given_team()
    team.leave(ADA, "moved on", meta())
    team.collect_events()

    with pytest.raises(DomainError, match="has left"):
        team.assign_role(ADA, "senior engineer", "promotion", None, "", meta())


def test_assigning_a_role_to_an_unknown_member_is_not_found() -> None:
    team = given_team()

    with pytest.raises(NotFoundError):
        team.assign_role(BOB, "engineer", "hire", None, "", meta())


# -- leads -------------------------------------------------------------------------


def test_changing_the_lead_records_the_previous_lead() -> None:
    team = given_team(members=(ADA, BOB), lead=ADA)

    team.change_lead(BOB, "rotation", meta())

    assert then(team) == [("TeamLeadChanged", {
        "member_id": str(BOB), "previous_lead_id": str(ADA), "reason": "rotation",
    })]
    assert team.lead_id == str(BOB)


def test_a_lead_change_needs_a_reason() -> None:
    team = given_team()

    with pytest.raises(DomainError, match="needs a reason"):
        team.change_lead(ADA, "", meta())


def test_the_current_lead_cannot_become_lead_again() -> None:
    team = given_team(lead=ADA)

    with pytest.raises(DomainError, match="already leads"):
        team.change_lead(ADA, "again", meta())


def test_a_member_who_left_cannot_lead() -> None:
    team = given_team(members=(ADA, BOB))
    team.leave(BOB, "moved on", meta())
    team.collect_events()

    with pytest.raises(DomainError, match="has left"):
        team.change_lead(BOB, "rotation", meta())


def test_an_unknown_member_cannot_lead() -> None:
    team = given_team()

    with pytest.raises(NotFoundError):
        team.change_lead(BOB, "rotation", meta())


# -- leaving -----------------------------------------------------------------------


def test_leaving_records_member_left_and_vacates_the_lead() -> None:
    team = given_team(lead=ADA)

    team.leave(ADA, "moved to platform", meta())

    assert then(team) == [("MemberLeft", {"member_id": str(ADA), "reason": "moved to platform"})]
    assert team.members[str(ADA)]["active"] is False
    assert team.lead_id is None


def test_leaving_needs_a_reason() -> None:
    team = given_team()

    with pytest.raises(DomainError, match="needs a reason"):
        team.leave(ADA, " ", meta())


def test_a_member_cannot_leave_twice() -> None:
    team = given_team()
    team.leave(ADA, "moved on", meta())
    team.collect_events()

    with pytest.raises(DomainError, match="has left"):
        team.leave(ADA, "again", meta())


def test_an_unknown_member_cannot_leave() -> None:
    team = given_team()

    with pytest.raises(NotFoundError):
        team.leave(BOB, "never joined", meta())


# -- through the ledger ------------------------------------------------------------


def test_the_service_answers_with_the_member_id_and_the_roster_survives_a_reload(
    ledger: Ledger,
) -> None:
    teams = TeamService(ledger)
    ctx = CommandContext(meta())
    formed = teams.form(c.FormTeam(name="Payments SRE"), ctx)
    member_id = uuid4()

    joined = teams.add_member(
        c.AddMember(team_id=formed.id, name="Ada", email="ada@x.test", role="engineer",
                    member_id=member_id), ctx,
    )
    teams.change_lead(c.ChangeLead(team_id=formed.id, member_id=member_id, reason="first"), ctx)

    assert (joined.id, joined.version, joined.created) == (member_id, 2, True)
    team = ledger.load(Team, formed.id)
    assert team.lead_id == str(member_id)
    assert team.members[str(member_id)]["role"] == "engineer"


def test_removing_an_unknown_member_through_the_service_is_not_found(ledger: Ledger) -> None:
    teams = TeamService(ledger)
    ctx = CommandContext(meta())
    formed = teams.form(c.FormTeam(name="Payments SRE"), ctx)

    with pytest.raises(NotFoundError):
        teams.remove_member(c.RemoveMember(formed.id, uuid4(), "gone"), ctx)


# -- moving and principals ------------------------------------------------------------

OTHER_TEAM = UUID("00000000-0000-4000-8000-00000000000b")


def test_moving_out_records_member_moved_out_and_vacates_the_lead() -> None:
    team = given_team(members=(ADA, BOB), lead=ADA)

    member = team.move_out(ADA, OTHER_TEAM, " reorg ", meta())

    assert then(team) == [("MemberMovedOut", {
        "member_id": str(ADA), "to_team_id": str(OTHER_TEAM), "reason": "reorg",
    })]
    assert (member["role"], member["responsibilities"]) == ("engineer", ["on-call"])
    assert team.lead_id is None
    with pytest.raises(DomainError, match="has moved to team"):
        team.assign_role(ADA, "senior engineer", "promotion", None, "", meta())


def test_moving_in_records_the_member_as_it_stood_on_its_team() -> None:
    source = given_team(members=())
    source.join(ADA, "Ada", "ada@x.test", "engineer", ["on-call"], meta(),
                principal="user:ada")
    member = source.move_out(ADA, OTHER_TEAM, "reorg", meta())
    destination = Team.form(OTHER_TEAM, "Platform", "", meta())
    destination.collect_events()

    destination.move_in(ADA, TEAM_ID, member, "reorg", meta(1))

    assert then(destination) == [("MemberMovedIn", {
        "member_id": str(ADA), "from_team_id": str(TEAM_ID), "name": "Ada",
        "email": "ada@x.test", "role": "engineer", "responsibilities": ["on-call"],
        "principal": "user:ada", "reason": "reorg",
    })]
    assert destination.members[str(ADA)]["active"] is True
    assert destination.members[str(ADA)]["since"] == NOW + timedelta(minutes=1)


def test_a_member_already_on_the_team_cannot_move_in_nor_move_to_its_own_team() -> None:
    team = given_team(members=(ADA,))
    member = dict(team.members[str(ADA)])

    with pytest.raises(DomainError, match="already joined"):
        team.move_in(ADA, OTHER_TEAM, member, "reorg", meta())
    with pytest.raises(DomainError, match="already on team"):
        team.move_out(ADA, TEAM_ID, "reorg", meta())
    assert then(team) == []


def test_binding_a_principal_records_it_with_the_previous_one() -> None:
    team = given_team()

    team.bind_principal(ADA, "user:ada", "verified identity", meta())

    assert then(team) == [("PrincipalBound", {
        "member_id": str(ADA), "principal": "user:ada", "previous_principal": None,
        "reason": "verified identity",
    })]
    assert team.members[str(ADA)]["principal"] == "user:ada"
