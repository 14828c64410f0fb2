"""Policies, as specifications: a team's policy is published in versions, a new version
supersedes the old, and members acknowledge the version in force."""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid4

import pytest

from domain.envelope import envelope_of
from domain.errors import DomainError, NotFoundError, OutOfScopeError, ValidationError
from domain.ledger import Ledger
from domain.people import commands as c
from domain.people.service import PeopleService
from domain.teams import commands as tc
from domain.teams.service import TeamService
from tests.unit.domain.test_trainings import ctx

DOC = "https://wiki.example.test/policies/on-call"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class World:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.people = PeopleService(ledger)
        teams = TeamService(ledger)
        self.team = teams.form(tc.FormTeam(name="Payments SRE"), ctx()).id
        self.other_team = teams.form(tc.FormTeam(name="Search"), ctx()).id
        self.olu, self.sam = uuid4(), uuid4()
        teams.add_member(tc.AddMember(self.team, "Olu", "olu@x.test", "SRE", self.olu), ctx())
        teams.add_member(tc.AddMember(self.other_team, "Sam", "sam@x.test", "SRE", self.sam),
                         ctx())

    def publish(self, version: str, text: str, title: str = "On-call policy",
                team: UUID | None = None, days: float = 0) -> tuple[UUID, bool]:
        result = self.people.publish_policy(c.PublishPolicy(
            team or self.team, title, version, DOC, digest(text)), ctx(days))
        return result.id, result.created

    def acknowledge(self, policy: UUID, version: str, member: UUID | None = None) -> None:
        self.people.acknowledge_policy(c.AcknowledgePolicy(member or self.olu, policy,
                                                           version), ctx(1))

    def events(self, aggregate_id: UUID) -> list[tuple[str, dict[str, object]]]:
        return [(type(e).__name__, envelope_of(e, 0).data)
                for e in self.ledger.events.get(aggregate_id)]


@pytest.fixture
def world(ledger: Ledger) -> World:
    return World(ledger)


def test_a_policy_is_published_with_its_document_and_its_digest(world: World) -> None:
    policy, created = world.publish("1", "page within 15 minutes")

    assert created
    assert world.events(policy) == [("PolicyPublished", {
        "team_id": str(world.team), "title": "On-call policy", "version": "1",
        "document": DOC, "sha256": digest("page within 15 minutes")})]


def test_publishing_the_same_title_again_is_a_new_version_that_supersedes_the_old(
        world: World) -> None:
    policy, _ = world.publish("1", "v1")
    again, created = world.publish("2", "v2", title="  on-call   POLICY ")

    assert (again, created) == (policy, False)
    assert world.events(policy)[-1] == ("PolicyVersionPublished", {
        "team_id": str(world.team), "version": "2", "document": DOC, "sha256": digest("v2"),
        "supersedes": "1"})


def test_the_same_title_in_another_team_is_another_policy(world: World) -> None:
    policy, _ = world.publish("1", "v1")
    other, created = world.publish("1", "v1", team=world.other_team)

    assert created and other != policy


def test_a_version_is_published_once_and_changes_the_document(world: World) -> None:
    world.publish("1", "v1")
    with pytest.raises(DomainError, match="already published"):
        world.publish("1", "v1 again")
    with pytest.raises(DomainError, match="changes the document"):
        world.publish("2", "v1")


@pytest.mark.parametrize("version, document, sha", [
    ("", DOC, digest("x")), ("1", "ftp://x", digest("x")), ("1", DOC, "abc"),
    ("1", DOC, "z" * 64)])
def test_a_version_needs_a_label_a_link_and_a_sha256(
        world: World, version: str, document: str, sha: str) -> None:
    with pytest.raises(ValidationError):
        world.people.publish_policy(c.PublishPolicy(world.team, "P", version, document, sha),
                                    ctx())


def test_a_policy_belongs_to_a_team_that_exists(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.people.publish_policy(c.PublishPolicy(uuid4(), "P", "1", DOC, digest("x")),
                                    ctx())


def test_a_member_acknowledges_the_version_in_force(world: World) -> None:
    policy, _ = world.publish("1", "v1")
    world.acknowledge(policy, "1")

    assert world.events(policy)[-1] == ("PolicyAcknowledged", {
        "team_id": str(world.team), "member_id": str(world.olu), "version": "1"})
    with pytest.raises(DomainError, match="already acknowledged"):
        world.acknowledge(policy, "1")


def test_a_superseded_or_unknown_version_cannot_be_acknowledged(world: World) -> None:
    policy, _ = world.publish("1", "v1")
    world.publish("2", "v2")

    with pytest.raises(DomainError, match="superseded by version 2"):
        world.acknowledge(policy, "1")
    with pytest.raises(ValidationError, match="no version '3'"):
        world.acknowledge(policy, "3")


def test_acknowledgements_are_by_members_of_the_policys_team(world: World) -> None:
    policy, _ = world.publish("1", "v1")

    with pytest.raises(ValidationError, match="not a member of team"):
        world.acknowledge(policy, "1", world.sam)
    with pytest.raises(NotFoundError):
        world.acknowledge(policy, "1", uuid4())
    with pytest.raises(ValidationError, match="policy_id"):
        world.acknowledge(uuid4(), "1")


def test_another_teams_policy_is_out_of_scope(world: World) -> None:
    policy, _ = world.publish("1", "v1", team=world.other_team)

    with pytest.raises(OutOfScopeError):
        world.people.acknowledge_policy(c.AcknowledgePolicy(world.sam, policy, "1"),
                                        ctx(1, teams=frozenset({str(world.team)})))
