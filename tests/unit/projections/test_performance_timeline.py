"""Performance timeline: who did what when, per member and per team."""

from __future__ import annotations

import pytest

from tests.unit.projections.builders import (
    ADA,
    BOB,
    FEEDBACK,
    GOAL,
    INCIDENT,
    TEAM,
    Store,
    a_team,
    ev,
    project,
)


def timeline(store: Store, owner: str) -> list[tuple[str, str]]:
    entries = [e for e in store.all("timeline") if e["owner"] == owner]
    return [(e["kind"], e["summary"]) for e in sorted(entries, key=lambda e: e["position"])]


def goal_events() -> list:
    return [
        ev("goals", "GoalSet", GOAL, 1, 10, "2026-11-02T10:00:00Z", team_id=TEAM, owner_id=ADA,
           title="Cut p99 latency", metric="p99 latency", baseline=400.0, target=200.0,
           unit="ms", deadline="2026-12-31"),
        ev("goals", "ProgressCheckedIn", GOAL, 2, 11, "2026-11-09T10:00:00Z", actor="user:bob",
           value=300.0, note="pool tuned"),
        ev("goals", "GoalAchieved", GOAL, 3, 12, "2026-11-30T10:00:00Z", note="done"),
    ]


def test_a_check_in_lands_on_the_goal_owners_timeline_and_the_teams() -> None:
    store = project(*a_team(), *goal_events())

    assert timeline(store, f"member:{ADA}") == [
        ("joined", "Ada joined as engineer"),
        ("goal_set", "Goal set: Cut p99 latency (p99 latency from 400 to 200 ms by 2026-12-31)"),
        ("check_in", "Checked in 300 ms on 'Cut p99 latency', 50% of the way"),
        ("goal_closed", "Goal 'Cut p99 latency' achieved"),
    ]
    # Bob made the check-in, but it is Ada's goal
    assert [kind for kind, _ in timeline(store, f"member:{BOB}")] == ["joined"]
    assert [kind for kind, _ in timeline(store, f"team:{TEAM}")] == [
        "joined", "joined", "goal_set", "check_in", "goal_closed",
    ]


def test_an_entry_carries_its_event_owner_and_details() -> None:
    check_in = goal_events()[1]
    store = project(*a_team(), *goal_events())

    entry = store.get("timeline", f"member:{ADA}:{check_in.id}")
    assert entry == {
        "id": f"member:{ADA}:{check_in.id}", "owner": f"member:{ADA}", "member_id": ADA,
        "team_id": TEAM, "time": "2026-11-09T10:00:00Z", "position": 11, "kind": "check_in",
        "summary": "Checked in 300 ms on 'Cut p99 latency', 50% of the way",
        "event_id": check_in.id,
        "details": {"goal_id": GOAL, "value": 300.0, "note": "pool tuned",
                    "progress_pct": 50.0},
    }


def test_team_events_land_on_the_team_and_the_member_concerned() -> None:
    store = project(
        *a_team(),
        ev("teams", "RoleAssigned", TEAM, 4, 4, "2026-11-03T10:00:00Z", member_id=BOB,
           role="lead engineer", previous_role="engineer", responsibilities=[],
           effective_date="2026-11-03", reason="promotion"),
        ev("teams", "TeamLeadChanged", TEAM, 5, 5, "2026-11-03T11:00:00Z", member_id=BOB,
           previous_lead_id=None, reason="rotation"),
        ev("teams", "MemberLeft", TEAM, 6, 6, "2026-11-04T11:00:00Z", member_id=ADA,
           reason="moved on"),
    )

    assert timeline(store, f"member:{BOB}") == [
        ("joined", "Bob joined as engineer"),
        ("role_changed", "Bob's role changed from engineer to lead engineer: promotion"),
        ("lead_changed", "Bob became team lead: rotation"),
    ]
    assert timeline(store, f"member:{ADA}")[-1] == ("left", "Ada left the team: moved on")
    assert [kind for kind, _ in timeline(store, f"team:{TEAM}")] == [
        "joined", "joined", "role_changed", "lead_changed", "left",
    ]


def test_incidents_land_on_the_team_and_the_responders_timeline() -> None:
    store = project(
        *a_team(),
        ev("incidents", "IncidentOpened", INCIDENT, 1, 20, "2026-11-23T10:00:00Z",
           team_id=TEAM, severity="SEV1", service="payments-api", summary="5xx spike"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 21, "2026-11-23T10:05:00Z"),
        ev("incidents", "ResponderAssigned", INCIDENT, 3, 22, "2026-11-23T10:06:00Z",
           responder_id=ADA),
        ev("incidents", "IncidentResolved", INCIDENT, 4, 23, "2026-11-23T11:00:00Z",
           summary="rolled back", root_cause="bad deploy"),
    )

    assert timeline(store, f"member:{ADA}")[-1] == (
        "incident_responder", "responding to SEV1 incident on payments-api: 5xx spike"
    )
    assert timeline(store, f"team:{TEAM}")[-3:] == [
        ("incident_opened", "SEV1 incident opened on payments-api: 5xx spike"),
        ("incident_responder", "responding to SEV1 incident on payments-api: 5xx spike"),
        ("incident_resolved", "SEV1 incident on payments-api resolved: rolled back"),
    ]


@pytest.mark.parametrize(("event", "member_kind", "summary"), [
    (ev("feedback", "PeerFeedbackGiven", FEEDBACK, 1, 30, "2026-11-23T10:00:00Z",
        team_id=TEAM, kind="peer", subject_member_id=ADA, score=8, text="calm"),
     "feedback_about", "Peer feedback (score 8)"),
    (ev("feedback", "PeerFeedbackGiven", FEEDBACK, 1, 30, "2026-11-23T10:00:00Z",
        team_id=TEAM, kind="manager", subject_member_id=ADA, score=9, text="great"),
     "review", "Manager review (score 9)"),
    (ev("feedback", "CustomerFeedbackReceived", FEEDBACK, 1, 30, "2026-11-23T10:00:00Z",
        team_id=TEAM, channel="email", score=None, text="thanks Ada", subject_member_id=ADA),
     "feedback_about", "Customer feedback via email"),
])
def test_feedback_about_a_member_lands_on_theirs_and_the_teams_timeline(
    event: object, member_kind: str, summary: str
) -> None:
    store = project(*a_team(), event)  # type: ignore[arg-type]

    assert timeline(store, f"member:{ADA}")[-1] == (member_kind, summary)
    assert timeline(store, f"team:{TEAM}")[-1] == ("feedback_received", summary)


def test_feedback_about_nobody_lands_on_the_team_only() -> None:
    received = ev(
        "feedback", "CustomerFeedbackReceived", FEEDBACK, 1, 30, "2026-11-23T10:00:00Z",
        team_id=TEAM, channel="chat", score=4, text="slow", subject_member_id=None,
    )
    store = project(*a_team(), received)

    entries = [e for e in store.all("timeline") if e["event_id"] == received.id]
    assert [(e["owner"], e["kind"]) for e in entries] == [(f"team:{TEAM}", "feedback_received")]


def test_events_without_a_story_make_no_entries() -> None:
    store = project(*a_team()[:1], *goal_events()[:1], ev(
        "goals", "TargetRevised", GOAL, 2, 11, "2026-11-03T10:00:00Z", old_target=200.0,
        new_target=250.0, reason="later"),
    )

    assert [e["kind"] for e in store.all("timeline")] == ["goal_set", "goal_set"]
