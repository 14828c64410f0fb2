"""Business time, as specifications: every command may say when it happened
(``occurred_at``); events keep that and the recording time; the ledger refuses what
can't have happened that way (given these events, when this command, then these
events, or this error and nothing appended)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from domain.aggregate import LedgerAggregate
from domain.envelope import envelope_of
from domain.errors import OutOfOrderError, ValidationError
from domain.feedback import commands as fc
from domain.feedback.service import FeedbackService
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

RECORDED = datetime(2025, 3, 3, 14, 30, tzinfo=UTC)
"""When the commands below reach the ledger (the server clock)."""
TEAM_ID = UUID("00000000-0000-4000-8000-00000000000a")
INCIDENT_ID = UUID("00000000-0000-4000-8000-0000000000b1")


def at(hh_mm: str | None, *, recorded: datetime = RECORDED) -> CommandContext:
    """A command recorded at ``recorded`` that happened at ``hh_mm`` on 2025-03-03 (UTC),
    or that names no time."""
    occurred = None
    if hh_mm is not None:
        hours, minutes = map(int, hh_mm.split(":"))
        occurred = datetime(2025, 3, 3, hours, minutes, tzinfo=UTC)
    return CommandContext(CommandMeta(actor="user:oncall", now=recorded, occurred_at=occurred))


def public_events(ledger: Ledger) -> list[Any]:
    notifications = ledger.recorder.select_notifications(start=1, limit=1000)
    events = [ledger.mapper.to_domain_event(n) for n in notifications]
    return [e for e in events if isinstance(e, LedgerAggregate.Event)]


def given_incident(ledger: Ledger, *steps: tuple[str, str]) -> UUID:
    """A team formed at 13:00, its incident opened at 14:00, then ``(step, hh:mm)``."""
    TeamService(ledger).form(tc.FormTeam("SRE", team_id=TEAM_ID), at("13:00"))
    incidents = IncidentService(ledger)
    incidents.open(ic.OpenIncident(TEAM_ID, "SEV2", "payments-api", "5xx", INCIDENT_ID),
                   at("14:00"))
    for step, when in steps:
        ctx = at(when)
        if step == "acknowledge":
            incidents.acknowledge(ic.Acknowledge(INCIDENT_ID), ctx)
        elif step == "note":
            incidents.add_note(ic.AddNote(INCIDENT_ID, "looking"), ctx)
        elif step == "mitigate":
            incidents.mitigate(ic.Mitigate(INCIDENT_ID, "rolled back"), ctx)
        else:
            incidents.resolve(ic.Resolve(INCIDENT_ID, "fixed", "deploy"), ctx)
    return INCIDENT_ID


# -- both times are kept ---------------------------------------------------------------


def test_an_event_keeps_when_it_happened_and_when_it_was_recorded(ledger: Ledger) -> None:
    given_incident(ledger)

    IncidentService(ledger).acknowledge(ic.Acknowledge(INCIDENT_ID), at("14:05"))

    event = public_events(ledger)[-1]
    assert type(event).__name__ == "IncidentAcknowledged"
    assert event.timestamp == RECORDED  # eventsourcing's timestamp stays the recording time
    assert event.occurred_at == datetime(2025, 3, 3, 14, 5, tzinfo=UTC)
    envelope = envelope_of(event, 3)
    assert (envelope.occurred_at, envelope.recorded_at) == (
        "2025-03-03T14:05:00.000000Z", "2025-03-03T14:30:00.000000Z")
    assert "occurred_at" not in envelope.data  # metadata, not the event's data
    incident = ledger.load(Incident, INCIDENT_ID)
    assert incident.acknowledged_at == datetime(2025, 3, 3, 14, 5, tzinfo=UTC)


def test_without_occurred_at_it_happened_when_it_was_recorded(ledger: Ledger) -> None:
    TeamService(ledger).form(tc.FormTeam("SRE", team_id=TEAM_ID), at(None))

    event = public_events(ledger)[-1]
    assert "occurred_at" not in event.meta  # stored as every event before business time
    assert event.occurred_at == event.timestamp == RECORDED
    envelope = envelope_of(event, 1)
    assert envelope.occurred_at == envelope.recorded_at == "2025-03-03T14:30:00.000000Z"


def test_an_occurred_at_in_another_offset_is_kept_in_utc(ledger: Ledger) -> None:
    paris = datetime(2025, 3, 3, 15, 5, tzinfo=timezone(timedelta(hours=1)))
    ctx = CommandContext(CommandMeta(actor="user:oncall", now=RECORDED, occurred_at=paris))

    TeamService(ledger).form(tc.FormTeam("SRE", team_id=TEAM_ID), ctx)

    assert public_events(ledger)[-1].meta["occurred_at"] == "2025-03-03T14:05:00.000000Z"


# -- not in the future ------------------------------------------------------------------


def test_more_than_five_minutes_ahead_of_the_server_clock_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ValidationError, match="more than 5 minutes ahead of the server clock"):
        TeamService(ledger).form(tc.FormTeam("SRE", team_id=TEAM_ID),
                                 at("14:35", recorded=RECORDED - timedelta(seconds=1)))
    assert public_events(ledger) == []


def test_up_to_five_minutes_ahead_is_clock_drift_and_accepted(ledger: Ledger) -> None:
    TeamService(ledger).form(tc.FormTeam("SRE", team_id=TEAM_ID), at("14:35"))

    assert public_events(ledger)[-1].occurred_at == RECORDED + timedelta(minutes=5)


# -- in the order it happened -----------------------------------------------------------


def test_a_change_before_the_aggregates_latest_event_is_refused_naming_it(
    ledger: Ledger,
) -> None:
    given_incident(ledger, ("note", "14:10"))

    with pytest.raises(OutOfOrderError) as refused:
        IncidentService(ledger).acknowledge(ic.Acknowledge(INCIDENT_ID), at("14:05"))

    assert "before its latest event (TimelineNoteAdded at 2025-03-03T14:10:00.000000Z)" in str(
        refused.value)
    assert refused.value.details == {
        "occurred_at": "2025-03-03T14:05:00.000000Z", "latest_event": "TimelineNoteAdded",
        "latest_event_at": "2025-03-03T14:10:00.000000Z",
    }
    assert [type(e).__name__ for e in public_events(ledger)][-1] == "TimelineNoteAdded"


def test_a_change_at_the_same_moment_as_the_latest_event_is_in_order(ledger: Ledger) -> None:
    given_incident(ledger, ("note", "14:10"))

    IncidentService(ledger).acknowledge(ic.Acknowledge(INCIDENT_ID), at("14:10"))

    assert ledger.load(Incident, INCIDENT_ID).status == "acknowledged"


def test_a_member_cannot_join_before_the_team_was_formed(ledger: Ledger) -> None:
    TeamService(ledger).form(tc.FormTeam("SRE", team_id=TEAM_ID), at("13:00"))

    with pytest.raises(OutOfOrderError, match=r"TeamFormed at 2025-03-03T13:00:00\.000000Z"):
        TeamService(ledger).add_member(
            tc.AddMember(TEAM_ID, "Ada", "ada@x.test", "engineer"), at("12:59"))
    assert len(public_events(ledger)) == 1


# -- impossible orders -------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "command", "message"), [
    ((), "acknowledge", "acknowledge incident .* at .*13:59.*, before it was opened at .*14:00"),
    ((("acknowledge", "14:05"),), "resolve",
     "resolve incident .* at .*14:04.*, before it was acknowledged at .*14:05"),
    ((("acknowledge", "14:05"),), "mitigate",
     "mitigate incident .* at .*14:04.*, before it was acknowledged at .*14:05"),
    ((("acknowledge", "14:02"), ("mitigate", "14:05")), "resolve",
     "resolve incident .* at .*14:04.*, before it was mitigated at .*14:05"),
])
def test_an_incident_moves_forward_in_time(
    ledger: Ledger, steps: tuple[tuple[str, str], ...], command: str, message: str,
) -> None:
    given_incident(ledger, *steps)
    before = len(public_events(ledger))
    earlier = at("13:59" if command == "acknowledge" else "14:04")
    incidents = IncidentService(ledger)
    run = {
        "acknowledge": lambda: incidents.acknowledge(ic.Acknowledge(INCIDENT_ID), earlier),
        "mitigate": lambda: incidents.mitigate(ic.Mitigate(INCIDENT_ID, "rolled back"),
                                               earlier),
        "resolve": lambda: incidents.resolve(ic.Resolve(INCIDENT_ID, "fixed", ""), earlier),
    }[command]

    with pytest.raises(OutOfOrderError, match=message):
        run()
    assert len(public_events(ledger)) == before


def test_a_postmortem_and_a_close_come_after_the_resolution() -> None:
    def m(minute: int) -> CommandMeta:
        return CommandMeta("user:oncall", now=RECORDED,
                           occurred_at=datetime(2025, 3, 3, 14, minute, tzinfo=UTC))

    incident = Incident.open(INCIDENT_ID, TEAM_ID, "SEV3", "api", "5xx", m(0))
    incident.acknowledge(m(1))
    incident.resolve("fixed", "", m(9))
    incident.collect_events()

    with pytest.raises(OutOfOrderError, match="before it was resolved"):
        incident.publish_postmortem(["deploy"], [], m(8))
    with pytest.raises(OutOfOrderError, match="before it was resolved"):
        incident.close(m(8))
    assert incident.collect_events() == []


@pytest.mark.parametrize("what", ["an incident", "a goal", "feedback"])
def test_nothing_of_a_team_happens_before_the_team_was_formed(
    ledger: Ledger, what: str,
) -> None:
    teams = TeamService(ledger)
    teams.form(tc.FormTeam("SRE", team_id=TEAM_ID), at("13:00"))
    owner = teams.add_member(tc.AddMember(TEAM_ID, "Ada", "ada@x.test", "lead"), at("13:01")).id
    before = len(public_events(ledger))
    earlier = at("12:00")
    run = {
        "an incident": lambda: IncidentService(ledger).open(
            ic.OpenIncident(TEAM_ID, "SEV3", "api", "5xx"), earlier),
        "a goal": lambda: GoalService(ledger).set_goal(gc.SetGoal(
            TEAM_ID, owner, "Cut MTTR", "MTTR", 90, 30, "min", "2025-06-30"), earlier),
        "feedback": lambda: FeedbackService(ledger).give(
            fc.GiveFeedback("customer", TEAM_ID, "slow", channel="email"), earlier),
    }[what]

    with pytest.raises(OutOfOrderError, match=f"{what} can't have happened at "
                       r"2025-03-03T12:00:00.000000Z: team .* only exists since "
                       r"2025-03-03T13:00:00.000000Z"):
        run()
    assert len(public_events(ledger)) == before


# -- business dates ----------------------------------------------------------------------


def test_a_goal_moved_over_late_is_judged_on_the_day_it_was_set() -> None:
    set_on = CommandMeta("user:lead", now=datetime(2025, 3, 10, tzinfo=UTC),
                         occurred_at=datetime(2025, 3, 1, tzinfo=UTC))

    goal = Goal.set(UUID(int=7), TEAM_ID, UUID(int=8), "Cut MTTR", "MTTR", 90, 30, "min",
                    "2025-03-05", set_on)

    assert goal.deadline == "2025-03-05"


def test_a_role_change_takes_effect_by_default_on_the_day_it_happened() -> None:
    team = Team.form(TEAM_ID, "SRE", "", CommandMeta("user:lead", now=RECORDED,
                                                     occurred_at=RECORDED - timedelta(days=3)))
    member = UUID(int=9)
    team.join(member, "Ada", "ada@x.test", "engineer", [], CommandMeta(
        "user:lead", now=RECORDED, occurred_at=RECORDED - timedelta(days=3)))

    team.assign_role(member, "lead", "promoted", None, "", CommandMeta(
        "user:lead", now=RECORDED, occurred_at=RECORDED - timedelta(days=2)))

    assert team.collect_events()[-1].effective_date == "2025-03-01"  # type: ignore[attr-defined]
