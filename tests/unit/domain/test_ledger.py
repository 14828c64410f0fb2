"""The one ledger, as specifications: what every command gets from it, whatever its
context (metadata, wire names, versions, positions, all-or-nothing, idempotency)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import ApplicationRecorder

from domain import catalog
from domain.aggregate import EVENT_CLASSES, LedgerAggregate
from domain.envelope import envelope_of
from domain.errors import (
    ConcurrencyError,
    DomainError,
    IdempotencyKeyReusedError,
    NotFoundError,
    OutOfScopeError,
    StaleVersionError,
)
from domain.goals import commands as gc
from domain.goals.aggregate import Goal
from domain.goals.service import GoalService
from domain.incidents import commands as ic
from domain.incidents.aggregate import Incident
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.aggregate import Team
from domain.teams.service import TeamService
from infra.event_store.memory import LedgerPOPORecorder

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def ctx(
    minutes: int = 0, *, actor: str = "user:alice", correlation_id: str = "corr-1",
    causation_id: str = "", if_match: int | None = None, key: str | None = None,
    fingerprint: str = "", teams: frozenset[str] = frozenset({"*"}),
) -> CommandContext:
    meta = CommandMeta(actor=actor, correlation_id=correlation_id, causation_id=causation_id,
                       now=NOW + timedelta(minutes=minutes))
    return CommandContext(meta, if_match=if_match, idempotency_key=key, fingerprint=fingerprint,
                          teams=teams)


def stored_events(ledger: Ledger) -> list[tuple[int, object]]:
    """Every stored event with its global position, in position order."""
    notifications = ledger.recorder.select_notifications(start=1, limit=1000)
    return [(n.id, ledger.mapper.to_domain_event(n)) for n in notifications]


def form_team(ledger: Ledger, **kwargs: object) -> UUID:
    return TeamService(ledger).form(tc.FormTeam(name="Payments SRE"), ctx(**kwargs)).id  # type: ignore[arg-type]


def open_incident(ledger: Ledger, team_id: UUID, severity: str = "SEV3") -> UUID:
    opened = IncidentService(ledger).open(
        ic.OpenIncident(team_id, severity, "payments-api", "5xx spike"), ctx()
    )
    return opened.id


# -- metadata and the wire -----------------------------------------------------------


def test_every_event_carries_the_actor_correlation_and_causation(ledger: Ledger) -> None:
    team_id = form_team(ledger, actor="user:lead", correlation_id="req-7",
                        causation_id="evt-3")

    [(_, event)] = stored_events(ledger)

    assert event.meta == {  # type: ignore[attr-defined]
        "actor": "user:lead", "correlation_id": "req-7", "causation_id": "evt-3",
    }
    assert event.originator_id == team_id  # type: ignore[attr-defined]


def test_a_command_without_a_cause_is_its_own_cause(ledger: Ledger) -> None:
    form_team(ledger, correlation_id="req-8")

    [(_, event)] = stored_events(ledger)

    assert event.meta["causation_id"] == "req-8"  # type: ignore[attr-defined]


def test_event_time_is_the_commands_clock(ledger: Ledger) -> None:
    team_id = form_team(ledger)
    IncidentService(ledger).acknowledge(
        ic.Acknowledge(open_incident(ledger, team_id)), ctx(minutes=7)
    )

    [*_, (_, acknowledged)] = stored_events(ledger)

    assert acknowledged.timestamp == NOW + timedelta(minutes=7)  # type: ignore[attr-defined]


def test_envelope_names_the_versioned_wire_type(ledger: Ledger) -> None:
    incident_id = open_incident(ledger, form_team(ledger))
    answer = IncidentService(ledger).acknowledge(
        ic.Acknowledge(incident_id), ctx(minutes=2, actor="user:oncall")
    )

    position, event = stored_events(ledger)[-1]
    envelope = envelope_of(event, position)

    assert envelope.type == "opsledger.incidents.IncidentAcknowledged.v1"
    assert (envelope.context, envelope.name) == ("incidents", "IncidentAcknowledged")
    assert (envelope.subject, envelope.stream_version) == (str(incident_id), 2)
    assert (envelope.position, answer.position) == (3, 3)
    assert (envelope.actor, envelope.correlation_id) == ("user:oncall", "corr-1")
    # fixed width: text order is time order; no occurred_at given: it happened when recorded
    assert envelope.occurred_at == envelope.recorded_at == "2025-03-03T09:02:00.000000Z"
    assert envelope.data == {}
    assert envelope_of(event, position).id == envelope.id  # deterministic


def test_every_event_of_a_full_story_is_plain_json_on_the_wire(ledger: Ledger) -> None:
    team_id = form_team(ledger)
    teams = TeamService(ledger)
    owner = teams.add_member(tc.AddMember(team_id, "Ada", "ada@x.test", "engineer"), ctx()).id
    other_team = form_team(ledger)
    mover = teams.add_member(tc.AddMember(team_id, "Bob", "bob@x.test", "engineer"), ctx()).id
    teams.bind_principal(tc.BindPrincipal(mover, "user:bob", "verified"), ctx())
    teams.move_member(tc.MoveMember(team_id, mover, other_team, "reorg"), ctx())
    goal = GoalService(ledger).set_goal(gc.SetGoal(
        team_id, owner, "Cut MTTR", "MTTR", 90, 30, "minutes", "2025-06-30"), ctx())
    GoalService(ledger).check_in(gc.CheckIn(goal.id, 50.5, "better"), ctx())
    incidents = IncidentService(ledger)
    iid = open_incident(ledger, team_id, "SEV1")
    incidents.acknowledge(ic.Acknowledge(iid), ctx())
    incidents.resolve(ic.Resolve(iid, "fixed", "bad deploy"), ctx())
    incidents.publish_postmortem(ic.PublishPostmortem(
        iid, ["bad deploy"], [{"title": "canary", "owner_id": str(owner), "due": "2025-04-01"}]
    ), ctx())

    public = [(p, e) for p, e in stored_events(ledger) if isinstance(e, LedgerAggregate.Event)]
    assert {type(e).__name__ for _, e in public} >= {
        "MemberMovedOut", "MemberMovedIn", "PrincipalBound"}
    for position, event in public:
        envelope = envelope_of(event, position).as_dict()
        assert json.loads(json.dumps(envelope)) == envelope


# -- the catalog ---------------------------------------------------------------------


def test_the_catalog_names_every_context() -> None:
    assert catalog.CONTEXTS == (
        "teams", "goals", "incidents", "feedback", "access", "imports", "compliance",
        "risks", "people", "privacy")


def test_importing_the_catalog_registers_every_public_event() -> None:
    registered = {
        f"{event.CONTEXT}.{event.__name__}": event  # type: ignore[attr-defined]
        for event in catalog.ALL_EVENTS
    }

    assert len(registered) == len(catalog.ALL_EVENTS) == 64
    assert all(EVENT_CLASSES[name] is event for name, event in registered.items())
    assert {name.split(".")[0] for name in registered} == set(catalog.CONTEXTS)


# -- versions and positions ----------------------------------------------------------


def test_answers_carry_the_aggregate_version_and_a_gap_free_global_position(
    ledger: Ledger,
) -> None:
    teams = TeamService(ledger)
    first = teams.form(tc.FormTeam(name="A"), ctx())
    second = teams.form(tc.FormTeam(name="B"), ctx())
    joined = teams.add_member(tc.AddMember(first.id, "Ada", "ada@x.test", "engineer"), ctx())

    # Position 3 holds Ada's member-directory record, saved (private) with her join.
    assert [(r.version, r.position) for r in (first, second, joined)] == [(1, 1), (1, 2), (2, 4)]
    assert ledger.head_position() == 4
    assert [p for p, _ in stored_events(ledger)] == [1, 2, 3, 4]


def test_a_matching_if_match_lets_the_command_through(ledger: Ledger) -> None:
    team_id = form_team(ledger)

    answer = TeamService(ledger).add_member(
        tc.AddMember(team_id, "Ada", "ada@x.test", "engineer"), ctx(if_match=1)
    )

    assert answer.version == 2


def test_a_stale_if_match_is_refused_and_appends_nothing(ledger: Ledger) -> None:
    team_id = form_team(ledger)
    teams = TeamService(ledger)
    teams.add_member(tc.AddMember(team_id, "Ada", "ada@x.test", "engineer"), ctx())

    with pytest.raises(StaleVersionError) as refused:
        teams.add_member(tc.AddMember(team_id, "Bob", "bob@x.test", "engineer"), ctx(if_match=1))

    assert (refused.value.expected, refused.value.actual) == (1, 2)
    assert ledger.head_position() == 3  # the team, Ada's directory record, her join


def test_an_unknown_id_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError, match="team"):
        TeamService(ledger).add_member(
            tc.AddMember(uuid4(), "Ada", "ada@x.test", "engineer"), ctx()
        )


def test_an_id_of_another_kind_of_aggregate_is_not_found(ledger: Ledger) -> None:
    team_id = form_team(ledger)

    with pytest.raises(NotFoundError, match="goal"):
        ledger.load(Goal, team_id)
    with pytest.raises(NotFoundError, match="incident"):
        IncidentService(ledger).acknowledge(ic.Acknowledge(team_id), ctx())


def test_creating_with_an_existing_client_id_is_refused(ledger: Ledger) -> None:
    team_id = uuid4()
    TeamService(ledger).form(tc.FormTeam(name="A", team_id=team_id), ctx())

    with pytest.raises(DomainError, match="already exists"):
        TeamService(ledger).form(tc.FormTeam(name="B", team_id=team_id), ctx())
    with pytest.raises(DomainError, match="already exists"):
        IncidentService(ledger).open(
            ic.OpenIncident(team_id, "SEV1", "api", "down", incident_id=team_id), ctx()
        )
    assert ledger.head_position() == 1
    assert ledger.load(Team, team_id).name == "A"


def test_a_refused_command_appends_nothing(ledger: Ledger) -> None:
    iid = open_incident(ledger, form_team(ledger), "SEV1")
    incidents = IncidentService(ledger)
    incidents.acknowledge(ic.Acknowledge(iid), ctx())
    incidents.resolve(ic.Resolve(iid, "fixed"), ctx())
    head = ledger.head_position()

    with pytest.raises(DomainError, match="postmortem"):
        incidents.close(ic.CloseIncident(iid), ctx())

    assert ledger.head_position() == head
    assert ledger.load(Incident, iid).version == 3


def test_a_concurrent_change_is_refused_and_appends_nothing(ledger: Ledger) -> None:
    team_id = form_team(ledger)
    stale = ledger.load(Team, team_id)
    TeamService(ledger).add_member(tc.AddMember(team_id, "Ada", "ada@x.test", "engineer"), ctx())

    def run() -> Team:
        stale.join(uuid4(), "Bob", "bob@x.test", "engineer", [], ctx().meta)
        return stale

    with pytest.raises(ConcurrencyError, match="changed by another command"):
        ledger.execute(ctx(), run)
    assert ledger.head_position() == 3  # the team, Ada's directory record, her join


# -- team scope ----------------------------------------------------------------------


def test_a_command_on_another_teams_aggregate_is_out_of_scope_and_appends_nothing(
    ledger: Ledger,
) -> None:
    iid = open_incident(ledger, form_team(ledger))
    head = ledger.head_position()
    other_team = str(uuid4())

    with pytest.raises(OutOfScopeError, match="user:alice may not act on team"):
        IncidentService(ledger).acknowledge(ic.Acknowledge(iid), ctx(teams=frozenset({other_team})))

    assert ledger.head_position() == head
    assert ledger.load(Incident, iid).status == "open"


def test_a_command_within_its_teams_goes_through(ledger: Ledger) -> None:
    team_id = form_team(ledger)
    iid = open_incident(ledger, team_id)

    answer = IncidentService(ledger).acknowledge(
        ic.Acknowledge(iid), ctx(teams=frozenset({str(team_id)}), if_match=1))

    assert answer.version == 2


def test_scope_is_checked_before_if_match(ledger: Ledger) -> None:
    iid = open_incident(ledger, form_team(ledger))

    with pytest.raises(OutOfScopeError):
        IncidentService(ledger).acknowledge(
            ic.Acknowledge(iid), ctx(teams=frozenset({str(uuid4())}), if_match=7))


def test_a_scoped_command_on_an_unknown_id_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError, match="incident"):
        IncidentService(ledger).acknowledge(
            ic.Acknowledge(uuid4()), ctx(teams=frozenset({str(uuid4())})))


# -- idempotency ---------------------------------------------------------------------


class RetryingLedger(Ledger):
    def construct_recorder(self) -> ApplicationRecorder:
        return LedgerPOPORecorder()


@pytest.fixture
def keyed_ledger() -> RetryingLedger:
    return RetryingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_a_repeated_idempotency_key_returns_the_first_answer_and_appends_nothing(
    keyed_ledger: RetryingLedger,
) -> None:
    teams = TeamService(keyed_ledger)
    first = teams.form(tc.FormTeam(name="A"), ctx(key="k-1", fingerprint="fp-A"))
    head = keyed_ledger.head_position()

    again = teams.form(tc.FormTeam(name="A"), ctx(key="k-1", fingerprint="fp-A"))

    assert again == first
    assert keyed_ledger.head_position() == head


def test_a_retried_create_with_a_client_id_returns_the_first_answer(
    keyed_ledger: RetryingLedger,
) -> None:
    team_id = uuid4()
    teams = TeamService(keyed_ledger)
    first = teams.form(tc.FormTeam(name="A", team_id=team_id), ctx(key="k-1", fingerprint="f"))

    again = teams.form(tc.FormTeam(name="A", team_id=team_id), ctx(key="k-1", fingerprint="f"))

    assert again == first
    assert (again.id, again.created) == (team_id, True)


def test_a_retried_change_returns_the_first_answer(keyed_ledger: RetryingLedger) -> None:
    team_id = form_team(keyed_ledger)
    teams = TeamService(keyed_ledger)
    command = tc.AddMember(team_id, "Ada", "ada@x.test", "engineer")
    first = teams.add_member(command, ctx(key="k-2", fingerprint="f"))

    again = teams.add_member(command, ctx(key="k-2", fingerprint="f"))

    assert again == first
    assert len(keyed_ledger.load(Team, team_id).members) == 1


def test_an_idempotency_key_reused_for_another_request_is_refused(
    keyed_ledger: RetryingLedger,
) -> None:
    teams = TeamService(keyed_ledger)
    teams.form(tc.FormTeam(name="A"), ctx(key="k-1", fingerprint="fp-A"))

    with pytest.raises(IdempotencyKeyReusedError):
        teams.form(tc.FormTeam(name="B"), ctx(key="k-1", fingerprint="fp-B"))
    assert keyed_ledger.head_position() == 2  # the team and its key record


def test_idempotency_keys_belong_to_their_principal(keyed_ledger: RetryingLedger) -> None:
    teams = TeamService(keyed_ledger)
    alice = teams.form(tc.FormTeam(name="A"), ctx(actor="user:alice", key="k", fingerprint="f"))

    bob = teams.form(tc.FormTeam(name="A"), ctx(actor="user:bob", key="k", fingerprint="f"))

    assert bob.id != alice.id


def test_an_out_of_scope_repeat_of_a_key_is_refused_before_its_first_answer(
    keyed_ledger: RetryingLedger,
) -> None:
    team_id = form_team(keyed_ledger)
    iid = open_incident(keyed_ledger, team_id)
    incidents = IncidentService(keyed_ledger)
    incidents.acknowledge(ic.Acknowledge(iid), ctx(key="ack", fingerprint="f"))

    with pytest.raises(OutOfScopeError):
        incidents.acknowledge(ic.Acknowledge(iid), ctx(key="ack", fingerprint="f",
                                                       teams=frozenset({str(uuid4())})))
    again = incidents.acknowledge(ic.Acknowledge(iid), ctx(key="ack", fingerprint="f",
                                                           teams=frozenset({str(team_id)})))
    assert again.version == 2


def test_a_refused_command_does_not_use_up_its_idempotency_key(
    keyed_ledger: RetryingLedger,
) -> None:
    iid = open_incident(keyed_ledger, form_team(keyed_ledger))
    incidents = IncidentService(keyed_ledger)
    incidents.acknowledge(ic.Acknowledge(iid), ctx())
    with pytest.raises(DomainError):
        incidents.close(ic.CloseIncident(iid), ctx(key="close", fingerprint="f"))
    incidents.resolve(ic.Resolve(iid, "fixed"), ctx())

    closed = incidents.close(ic.CloseIncident(iid), ctx(key="close", fingerprint="f"))

    assert keyed_ledger.load(Incident, iid).status == "closed"
    assert closed.version == 4
