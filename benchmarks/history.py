"""A realistic history, made by the real domain: teams fill their rosters, then
incidents, goals, feedback and team changes run side by side, so the events of
different aggregates interleave in the log as they would in production.

:func:`realistic_history` returns the events of an in-memory ledger (what the
projector tests and ``projector_bench`` fold); :func:`drive` runs the same flows
against any ledger, e.g. a SQLite event store with its key store
(``replay_bench``), without keeping the events in memory.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import domain.catalog  # noqa: F401  (registers every event class)
from domain.envelope import EventEnvelope
from domain.feedback import commands as fc
from domain.feedback.aggregate import Customer
from domain.feedback.service import FeedbackService
from domain.goals import commands as gc
from domain.goals.service import GoalService
from domain.incidents import commands as ic
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService
from infra.event_store.log import iter_envelopes

_FIRST = ("Ada", "Bob", "Chen", "Dara", "Emeka", "Fatima", "Gus", "Hana", "Ivo", "Jun",
          "Kemal", "Lena", "Mona", "Nils", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq")
_LAST = ("Lovelace", "Okafor", "Nakamura", "Silva", "Novak", "Haddad", "Berg", "Moreau")
_ROLES = ("engineer", "senior engineer", "sre", "incident commander", "tech lead")
_SERVICES = ("checkout", "payments", "search", "auth", "ledger-api", "notifications")
_METRICS = (("p99 latency", "ms", 420.0, 250.0), ("availability", "%", 99.5, 99.95),
            ("MTTA", "min", 22.0, 10.0), ("toil hours", "h/week", 30.0, 12.0))
_CHANNELS = ("email", "chat", "phone", "survey")


@dataclass(frozen=True)
class History:
    """A ledger's public events in position order: the rosters (teams formed, every
    ``MemberJoined``, the first leads), then the activity. Tests that want a group to
    start from an existing organisation project ``roster`` first."""

    roster: list[EventEnvelope]
    activity: list[EventEnvelope]

    @property
    def all(self) -> list[EventEnvelope]:
        return [*self.roster, *self.activity]


@dataclass
class _Team:
    id: UUID
    members: list[UUID] = field(default_factory=list)
    names: dict[UUID, str] = field(default_factory=dict)
    lead: UUID | None = None


class World:
    """The command services over one ledger, with a clock that moves ``step`` seconds
    (at random, within the bounds) per command."""

    def __init__(self, rng: random.Random, start: datetime, ledger: Ledger | None = None,
                 *, step: tuple[int, int] = (20, 900), customers: float = 0.0) -> None:
        self.rng = rng
        self.now = start
        self.step = step
        # The share of customer feedback that names its customer (personal data).
        self.customers = customers
        self.ledger = ledger or Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.teams_svc = TeamService(self.ledger)
        self.goals = GoalService(self.ledger)
        self.incidents = IncidentService(self.ledger)
        self.feedback = FeedbackService(self.ledger)
        self.commands = 0

    def ctx(self, team: _Team | None = None) -> CommandContext:
        self.now += timedelta(seconds=self.rng.randint(*self.step))
        actor = "user:lead"
        if team is not None and team.members:
            actor = "user:" + team.names[self.rng.choice(team.members)].split()[0].lower()
        self.commands += 1
        return CommandContext(CommandMeta(actor=actor, now=self.now))


def _incident_flow(w: World, team: _Team) -> Iterator[None]:
    rng = w.rng
    severity = rng.choices(("SEV1", "SEV2", "SEV3", "SEV4"), (1, 3, 5, 3))[0]
    service = rng.choice(_SERVICES)
    opened = w.incidents.open(ic.OpenIncident(
        team.id, severity, service, f"{service} {rng.choice(('5xx spike', 'slow', 'down'))}"
    ), w.ctx(team))
    iid = opened.id
    yield
    w.incidents.acknowledge(ic.Acknowledge(iid), w.ctx(team))
    yield
    for responder in rng.sample(team.members, k=min(len(team.members), rng.randint(1, 3))):
        if responder not in team.members:  # left meanwhile: responders must be active
            continue
        w.incidents.assign_responder(ic.AssignResponder(iid, responder), w.ctx(team))
        yield
    if severity != "SEV1" and rng.random() < 0.25:
        severity = f"SEV{int(severity[3]) - 1}"
        w.incidents.escalate(ic.Escalate(iid, severity, "customer impact grew"), w.ctx(team))
        yield
    for n in range(rng.randint(0, 3)):
        w.incidents.add_note(ic.AddNote(iid, f"update {n + 1}: rolled back one canary"),
                             w.ctx(team))
        yield
    if rng.random() < 0.6:
        w.incidents.mitigate(ic.Mitigate(iid, "traffic shifted to the healthy region"),
                             w.ctx(team))
        yield
    w.incidents.resolve(ic.Resolve(iid, "fixed and verified", "config drift"), w.ctx(team))
    yield
    if severity in ("SEV1", "SEV2") or rng.random() < 0.3:
        due = (w.now + timedelta(days=14)).date().isoformat()
        w.incidents.publish_postmortem(ic.PublishPostmortem(
            iid, ["config drift", "missing alert"],
            [{"title": "add a drift check", "owner_id": str(rng.choice(team.members)),
              "due": due}],
        ), w.ctx(team))
        yield
    w.incidents.close(ic.CloseIncident(iid), w.ctx(team))
    yield


def _goal_flow(w: World, team: _Team) -> Iterator[None]:
    rng = w.rng
    metric, unit, baseline, target = rng.choice(_METRICS)
    deadline = (w.now + timedelta(days=rng.randint(30, 120))).date().isoformat()
    gid = w.goals.set_goal(gc.SetGoal(
        team.id, rng.choice(team.members), f"Improve {metric}", metric, baseline, target,
        unit, deadline,
    ), w.ctx(team)).id
    yield
    value = baseline
    for _ in range(rng.randint(1, 6)):
        value = round(value + (target - baseline) * rng.uniform(0.05, 0.35), 2)
        w.goals.check_in(gc.CheckIn(gid, value, "weekly check-in"), w.ctx(team))
        yield
    if rng.random() < 0.2:
        revised = round(target + (target - baseline) * 0.1, 2)
        if revised not in (target, baseline):
            target = revised
            w.goals.revise_target(gc.ReviseTarget(gid, revised, "raised the bar"),
                                  w.ctx(team))
            yield
    outcome = rng.choices(("achieved", "missed", "abandoned"), (5, 2, 1))[0]
    w.goals.close(gc.CloseGoal(gid, outcome, f"{outcome} at {value:g}"), w.ctx(team))
    yield


def _feedback_flow(w: World, team: _Team) -> Iterator[None]:
    rng = w.rng
    kind = rng.choices(("customer", "peer", "manager"), (5, 3, 1))[0]
    subject = rng.choice(team.members)
    if kind == "customer":
        customer: Customer | None = None
        if w.customers and rng.random() < w.customers:
            n = rng.randrange(max(1, w.commands // 50))  # repeat customers come back
            customer = {"name": f"{rng.choice(_FIRST)} Customer{n}",
                        "email": f"customer{n}@example.org"}
        cmd = fc.GiveFeedback(kind, team.id, "checkout was slow today",
                              subject if rng.random() < 0.3 else None,
                              rng.choice(_CHANNELS), rng.randint(0, 10), customer=customer)
    else:
        cmd = fc.GiveFeedback(kind, team.id, "great incident handling", subject, None,
                              rng.randint(5, 10))
    fid = w.feedback.give(cmd, w.ctx(team)).id
    yield
    owner = rng.choice(team.members)
    w.feedback.triage(fc.TriageFeedback(fid, rng.choice(("low", "medium", "high")), owner),
                      w.ctx(team))
    yield
    if rng.random() < 0.2 and owner in team.members:  # owners must be active
        w.feedback.triage(fc.TriageFeedback(fid, "urgent", owner), w.ctx(team))
        yield
    w.feedback.resolve(fc.ResolveFeedback(fid, "answered and fixed"), w.ctx(team))
    yield


def _team_change(w: World, team: _Team) -> Iterator[None]:
    rng = w.rng
    choice = rng.random()
    member = rng.choice(team.members)
    if choice < 0.6:
        w.teams_svc.assign_role(tc.AssignRole(
            team.id, member, rng.choice(_ROLES), "quarterly review",
            effective_date=w.now.date().isoformat(),
        ), w.ctx(team))
    elif choice < 0.85 or len(team.members) <= 4:
        candidates = [m for m in team.members if m != team.lead]
        new_lead = rng.choice(candidates)
        w.teams_svc.change_lead(tc.ChangeLead(team.id, new_lead, "rotation"), w.ctx(team))
        team.lead = new_lead
    else:
        leaving = rng.choice([m for m in team.members if m != team.lead])
        w.teams_svc.remove_member(tc.RemoveMember(team.id, leaving, "moved on"), w.ctx(team))
        team.members.remove(leaving)
    yield


_FLOWS: tuple[tuple[Callable[[World, _Team], Iterator[None]], float], ...] = (
    (_incident_flow, 4), (_goal_flow, 3), (_feedback_flow, 3), (_team_change, 1),
)


def drive(w: World, events: int, *, teams: int, members: int = 6, concurrent: int = 8,
          progress: Callable[[int], None] | None = None) -> int:
    """Run the rosters, then flows side by side, until ``events`` commands have been
    sent (each records about one event); the roster's last position."""
    rng = w.rng
    crew: list[_Team] = []
    for t in range(teams):
        team = _Team(w.teams_svc.form(tc.FormTeam(f"Team {t + 1}", "keep it up"), w.ctx()).id)
        for _ in range(members):
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            mid = uuid4()
            w.teams_svc.add_member(tc.AddMember(
                team.id, name, f"{name.split()[0].lower()}.{mid.hex[:6]}@example.com",
                rng.choice(_ROLES), mid, ["on-call"],
            ), w.ctx(team))
            team.members.append(mid)
            team.names[mid] = name
        team.lead = team.members[0]
        w.teams_svc.change_lead(tc.ChangeLead(team.id, team.lead, "founding lead"), w.ctx(team))
        crew.append(team)
    roster_end = w.ledger.head_position()
    running: list[Iterator[None]] = []
    flows, weights = zip(*_FLOWS, strict=True)
    while w.commands < events:
        if len(running) < concurrent:
            flow = rng.choices(flows, weights)[0]
            running.append(flow(w, rng.choice(crew)))
        current = rng.choice(running)
        if next(current, StopIteration) is StopIteration:
            running.remove(current)
        if progress is not None and w.commands % 1000 == 0:
            progress(w.commands)
    return roster_end


def realistic_history(
    events: int, *, seed: int = 7, teams: int | None = None, members: int = 6,
    concurrent: int = 8, start: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
) -> History:
    """About ``events`` public events (exactly, unless the rosters alone are more).

    Several teams form and fill their rosters; then incidents, goals, feedback and
    team changes run side by side (``concurrent`` flows at a time). Repeatable for a
    given seed (aggregate ids are random, the shape and the times are not).
    """
    w = World(random.Random(seed), start)
    n_teams = teams if teams is not None else max(2, events // 2500)
    roster_end = drive(w, events, teams=n_teams, members=members, concurrent=concurrent)
    everything = list(iter_envelopes(w.ledger))
    w.ledger.close()
    return History(
        roster=[e for e in everything if e.position <= roster_end],
        activity=[e for e in everything if e.position > roster_end],
    )
