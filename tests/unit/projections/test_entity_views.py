"""Entity views, as specifications: given these events, then this document."""

from __future__ import annotations

import pytest

from projections.fold import public
from projections.views import MissingDocumentError, entity_state
from projections.views.goals import progress_pct
from tests.unit.projections.builders import (
    ADA,
    BOB,
    FEEDBACK,
    GOAL,
    INCIDENT,
    TEAM,
    a_team,
    ev,
    project,
    project_once,
)

# -- teams and members ----------------------------------------------------------------


def test_a_formed_team_with_members_has_its_roster() -> None:
    store = project(*a_team())

    team = store.get("teams", TEAM)
    assert team is not None
    assert {k: team[k] for k in ("id", "name", "mission", "lead_id", "formed_at", "version")} == {
        "id": TEAM, "name": "SRE", "mission": "Keep it up", "lead_id": None,
        "formed_at": "2026-11-02T09:00:00Z", "version": 3,
    }
    assert team["roster"][0] == {
        "member_id": ADA, "name": "Ada", "email": "ada.l@example.com", "role": "engineer",
        "responsibilities": ["on-call"], "since": "2026-11-02T09:05:00Z", "active": True,
        "left_at": None,
    }
    assert [m["member_id"] for m in team["roster"]] == [ADA, BOB]


def test_role_change_lead_change_and_leaving_update_team_and_members() -> None:
    store = project(
        *a_team(),
        ev("teams", "RoleAssigned", TEAM, 4, 4, "2026-11-03T10:00:00Z", member_id=ADA,
           role="senior engineer", previous_role="engineer", responsibilities=["on-call", "db"],
           effective_date="2026-11-03", reason="promotion"),
        ev("teams", "TeamLeadChanged", TEAM, 5, 5, "2026-11-03T11:00:00Z", member_id=ADA,
           previous_lead_id=None, reason="new lead"),
        ev("teams", "TeamLeadChanged", TEAM, 6, 6, "2026-11-04T11:00:00Z", member_id=BOB,
           previous_lead_id=ADA, reason="rotation"),
        ev("teams", "MemberLeft", TEAM, 7, 7, "2026-11-05T12:00:00Z", member_id=BOB,
           reason="moved on"),
    )

    team = store.get("teams", TEAM)
    assert team is not None
    assert team["lead_id"] is None  # Bob led, then left
    assert team["version"] == 7
    ada_entry, bob_entry = team["roster"]
    assert ada_entry["role"] == "senior engineer"
    assert ada_entry["responsibilities"] == ["on-call", "db"]
    assert (bob_entry["active"], bob_entry["left_at"]) == (False, "2026-11-05T12:00:00Z")

    ada = store.get("members", ADA)
    assert ada == {
        "id": ADA, "team_id": TEAM, "name": "Ada", "email": "ada.l@example.com",
        "role": "senior engineer", "responsibilities": ["on-call", "db"],
        "since": "2026-11-02T09:05:00Z", "active": True, "left_at": None, "is_lead": False,
        "roles": [
            {"role": "engineer", "since": "2026-11-02T09:05:00Z", "effective_date": None,
             "reason": "joined", "position": 2},
            {"role": "senior engineer", "since": "2026-11-03T10:00:00Z",
             "effective_date": "2026-11-03", "reason": "promotion", "position": 4},
        ],
        # one tenure per join or move-in, by the position that started it
        "teams": [{"team_id": TEAM, "since": "2026-11-02T09:05:00Z", "until": None,
                   "reason": "joined", "position": 2}],
    }
    bob = store.get("members", BOB)
    assert bob is not None
    assert (bob["active"], bob["left_at"], bob["is_lead"]) == (
        False, "2026-11-05T12:00:00Z", False
    )


def test_the_lead_member_knows_it_leads() -> None:
    store = project(*a_team(), ev("teams", "TeamLeadChanged", TEAM, 4, 4,
                                  "2026-11-03T11:00:00Z", member_id=ADA,
                                  previous_lead_id=None, reason="new lead"))

    assert store.get("members", ADA)["is_lead"] is True  # type: ignore[index]
    assert store.get("members", BOB)["is_lead"] is False  # type: ignore[index]
    assert store.get("teams", TEAM)["lead_id"] == ADA  # type: ignore[index]


# -- goals ----------------------------------------------------------------------------


def goal_set(**overrides: object) -> list:
    data = {"team_id": TEAM, "owner_id": ADA, "title": "Cut p99 latency",
            "metric": "p99 latency", "baseline": 400.0, "target": 200.0, "unit": "ms",
            "deadline": "2026-12-31"}
    data.update(overrides)
    return [ev("goals", "GoalSet", GOAL, 1, 10, "2026-11-02T10:00:00Z", **data)]


def test_a_new_goal_is_open_without_progress() -> None:
    goal = project(*goal_set()).get("goals", GOAL)

    assert goal is not None
    assert {k: v for k, v in goal.items() if k != "event_ids"} == {
        "id": GOAL, "team_id": TEAM, "owner_id": ADA, "title": "Cut p99 latency",
        "metric": "p99 latency", "baseline": 400.0, "target": 200.0, "unit": "ms",
        "deadline": "2026-12-31", "status": "open", "current_value": None,
        "progress_pct": None, "check_ins": [], "target_revisions": [],
        "set_at": "2026-11-02T10:00:00Z", "closed_at": None, "closing_note": None,
        "version": 1,
    }


def test_check_ins_measure_progress_from_baseline_to_target() -> None:
    goal = project(
        *goal_set(),
        ev("goals", "ProgressCheckedIn", GOAL, 2, 11, "2026-11-09T10:00:00Z",
           actor="user:ada", value=330.0, note="pool tuned"),
    ).get("goals", GOAL)

    assert goal is not None
    assert goal["current_value"] == 330.0
    assert goal["progress_pct"] == 35.0  # 70 of the 200 ms to go
    assert goal["check_ins"] == [{
        "value": 330.0, "note": "pool tuned", "at": "2026-11-09T10:00:00Z",
        "actor": "user:ada", "event_id": goal["event_ids"][1],
    }]


def test_a_revised_target_recomputes_progress_and_is_recorded() -> None:
    goal = project(
        *goal_set(),
        ev("goals", "ProgressCheckedIn", GOAL, 2, 11, "2026-11-09T10:00:00Z", value=330.0,
           note=""),
        ev("goals", "TargetRevised", GOAL, 3, 12, "2026-11-10T10:00:00Z", old_target=200.0,
           new_target=300.0, reason="new hardware later"),
    ).get("goals", GOAL)

    assert goal is not None
    assert (goal["target"], goal["progress_pct"]) == (300.0, 70.0)
    assert goal["target_revisions"][0]["old_target"] == 200.0
    assert goal["target_revisions"][0]["reason"] == "new hardware later"
    assert goal["target_revisions"][0]["at"] == "2026-11-10T10:00:00Z"


@pytest.mark.parametrize(("name", "status"), [
    ("GoalAchieved", "achieved"), ("GoalMissed", "missed"), ("GoalAbandoned", "abandoned"),
])
def test_a_closed_goal_has_its_outcome_and_closing_time(name: str, status: str) -> None:
    goal = project(
        *goal_set(), ev("goals", name, GOAL, 2, 11, "2026-12-01T10:00:00Z", note="done"),
    ).get("goals", GOAL)

    assert goal is not None
    assert (goal["status"], goal["closed_at"], goal["closing_note"], goal["version"]) == (
        status, "2026-12-01T10:00:00Z", "done", 2,
    )


@pytest.mark.parametrize(("baseline", "target", "current", "pct"), [
    (0, 10, 5, 50.0), (10, 0, 7, 30.0), (0, 3, 1, 33.3), (0, 10, 12, 120.0),
    (0, 10, -1, -10.0), (0, 10, None, None), (5, 5, 5, None),
])
def test_progress_pct(baseline: float, target: float, current: float | None,
                      pct: float | None) -> None:
    assert progress_pct(baseline, target, current) == pct


# -- incidents ------------------------------------------------------------------------


def opened(severity: str = "SEV1", time: str = "2026-11-23T10:00:00Z") -> list:
    return [ev("incidents", "IncidentOpened", INCIDENT, 1, 20, time, team_id=TEAM,
               severity=severity, service="payments-api", summary="5xx spike")]


def test_an_incident_taken_through_its_life_has_mtta_mttr_and_timeline() -> None:
    store = project(
        *opened("SEV2"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 21, "2026-11-23T10:04:00Z",
           actor="user:ada"),
        ev("incidents", "ResponderAssigned", INCIDENT, 3, 22, "2026-11-23T10:05:00Z",
           responder_id=BOB),
        ev("incidents", "IncidentEscalated", INCIDENT, 4, 23, "2026-11-23T10:06:00Z",
           from_severity="SEV2", to_severity="SEV1", reason="all regions"),
        ev("incidents", "TimelineNoteAdded", INCIDENT, 5, 24, "2026-11-23T10:10:00Z",
           text="rolling back"),
        ev("incidents", "IncidentMitigated", INCIDENT, 6, 25, "2026-11-23T10:20:00Z",
           summary="rolled back"),
        ev("incidents", "IncidentResolved", INCIDENT, 7, 26, "2026-11-23T11:30:00.500000Z",
           summary="fixed config", root_cause="bad deploy"),
        ev("incidents", "PostmortemPublished", INCIDENT, 8, 27, "2026-11-24T10:00:00Z",
           causes=["bad deploy"],
           action_items=[{"title": "Add a canary", "owner_id": ADA, "due": "2026-12-15"}]),
        ev("incidents", "IncidentClosed", INCIDENT, 9, 28, "2026-11-24T11:00:00Z"),
    )

    incident = store.get("incidents", INCIDENT)
    assert incident is not None
    assert {k: incident[k] for k in (
        "severity", "status", "opened_at", "acknowledged_at", "mitigated_at", "resolved_at",
        "closed_at", "responders", "root_cause", "mtta_seconds", "mttr_seconds", "version",
    )} == {
        "severity": "SEV1", "status": "closed", "opened_at": "2026-11-23T10:00:00Z",
        "acknowledged_at": "2026-11-23T10:04:00Z", "mitigated_at": "2026-11-23T10:20:00Z",
        "resolved_at": "2026-11-23T11:30:00.500000Z", "closed_at": "2026-11-24T11:00:00Z",
        "responders": [BOB], "root_cause": "bad deploy", "mtta_seconds": 240.0,
        "mttr_seconds": 5400.5, "version": 9,
    }
    assert incident["postmortem"] == {
        "causes": ["bad deploy"],
        "action_items": [{"title": "Add a canary", "owner_id": ADA, "due": "2026-12-15"}],
        "published_at": "2026-11-24T10:00:00Z",
    }
    assert [m["type"] for m in incident["timeline"]] == [
        "IncidentOpened", "IncidentAcknowledged", "ResponderAssigned", "IncidentEscalated",
        "TimelineNoteAdded", "IncidentMitigated", "IncidentResolved", "PostmortemPublished",
        "IncidentClosed",
    ]
    assert incident["timeline"][1]["actor"] == "user:ada"
    assert incident["timeline"][3]["details"] == {
        "from_severity": "SEV2", "to_severity": "SEV1", "reason": "all regions"
    }
    assert incident["timeline"][4]["text"] == "rolling back"
    assert incident["timeline"][5]["summary"] == "rolled back"
    assert len(incident["event_ids"]) == 9
    assert [m["event_id"] for m in incident["timeline"]] == incident["event_ids"]


def test_mtta_and_mttr_are_unknown_until_acknowledged_and_resolved() -> None:
    incident = project(*opened()).get("incidents", INCIDENT)

    assert incident is not None
    assert (incident["status"], incident["mtta_seconds"], incident["mttr_seconds"]) == (
        "open", None, None
    )


# -- feedback -------------------------------------------------------------------------


def test_customer_feedback_is_received_triaged_and_resolved() -> None:
    feedback = project(
        ev("feedback", "CustomerFeedbackReceived", FEEDBACK, 1, 30, "2026-11-23T10:00:00Z",
           team_id=TEAM, channel="email", score=3, text="slow checkout",
           subject_member_id=None),
        ev("feedback", "FeedbackTriaged", FEEDBACK, 2, 31, "2026-11-23T11:00:00Z",
           priority="high", owner_id=ADA),
        ev("feedback", "FeedbackResolved", FEEDBACK, 3, 32, "2026-11-24T11:00:00Z",
           resolution="added a cache"),
    ).get("feedback", FEEDBACK)

    assert feedback is not None
    assert {k: v for k, v in feedback.items() if k != "event_ids"} == {
        "id": FEEDBACK, "kind": "customer", "team_id": TEAM, "subject_member_id": None,
        "customer": None, "channel": "email", "score": 3, "text": "slow checkout",
        "status": "resolved",
        "priority": "high", "owner_id": ADA, "resolution": "added a cache",
        "received_at": "2026-11-23T10:00:00Z", "triaged_at": "2026-11-23T11:00:00Z",
        "resolved_at": "2026-11-24T11:00:00Z", "version": 3,
    }


def test_peer_and_manager_feedback_keep_their_kind() -> None:
    feedback = project(
        ev("feedback", "PeerFeedbackGiven", FEEDBACK, 1, 30, "2026-11-23T10:00:00Z",
           team_id=TEAM, kind="manager", subject_member_id=ADA, score=9, text="great"),
    ).get("feedback", FEEDBACK)

    assert feedback is not None
    assert (feedback["kind"], feedback["subject_member_id"], feedback["channel"]) == (
        "manager", ADA, None
    )
    assert feedback["status"] == "received"


# -- robustness -----------------------------------------------------------------------


def a_story() -> list:
    return [
        *a_team(), *goal_set(),
        ev("goals", "ProgressCheckedIn", GOAL, 2, 11, "2026-11-09T10:00:00Z", value=300.0,
           note=""),
        *opened(),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 21, "2026-11-23T10:20:00Z"),
        ev("incidents", "ResponderAssigned", INCIDENT, 3, 22, "2026-11-23T10:21:00Z",
           responder_id=ADA),
        ev("feedback", "PeerFeedbackGiven", FEEDBACK, 1, 30, "2026-11-23T10:00:00Z",
           team_id=TEAM, kind="peer", subject_member_id=ADA, score=8, text="calm"),
    ]


def test_a_duplicated_event_yields_the_same_documents_as_once() -> None:
    events = a_story()
    doubled = [e for event in events for e in (event, event)]

    assert project_once(*doubled) == project_once(*events)


def test_a_redelivered_batch_changes_nothing() -> None:
    events = a_story()
    store = project(*events)
    before = dict(store.docs)

    changed = store.apply(events)

    assert changed == {}
    assert store.docs == before


def test_batches_give_the_same_documents_as_one_replay() -> None:
    events = a_story()
    store = project(*events[:5])
    store.apply(events[3:])  # overlapping redelivery

    assert store.docs == project(*events).docs


def test_an_unknown_event_leaves_documents_unchanged_but_for_the_version() -> None:
    store = project(*a_team(), *goal_set())
    before = {key: public(doc) for key, doc in store.docs.items()}

    store.apply([
        ev("teams", "MemberMoved", TEAM, 4, 40, "2026-11-03T10:00:00Z", member_id=ADA,
           to_team_id="team-2"),
        ev("goals", "GoalRenamed", GOAL, 2, 41, "2026-11-03T10:00:00Z", title="new"),
    ])

    team, goal = store.get("teams", TEAM), store.get("goals", GOAL)
    assert team is not None and goal is not None
    # the aggregate's version moves on (clients send it as If-Match); nothing else does
    assert (team["version"], goal["version"]) == (4, 2)
    for key, doc in before.items():
        now = public(store.docs[key])
        assert now is not None and doc is not None
        assert {k: v for k, v in now.items() if k not in {"version", "event_ids"}} == {
            k: v for k, v in doc.items() if k not in {"version", "event_ids"}
        }
    assert not [k for k in store.docs if k[0] == "timeline" and k not in before]


def test_an_event_for_a_document_never_created_stops_the_projection() -> None:
    with pytest.raises(MissingDocumentError):
        project(ev("goals", "ProgressCheckedIn", GOAL, 2, 11, "2026-11-09T10:00:00Z",
                   value=1.0, note=""))


# -- the state of any entity ----------------------------------------------------------


def test_entity_state_evolves_by_context_and_leaves_its_input_alone() -> None:
    formed = entity_state(None, a_team()[0])
    assert formed is not None

    joined = entity_state(formed, a_team()[1])

    assert formed["roster"] == []
    assert joined is not None and joined["roster"][0]["member_id"] == ADA
    assert entity_state(formed, ev("nowhere", "Thing", TEAM, 2, 2, "2026-11-02T09:00:00Z")) \
        == formed


# -- moving a member between teams ------------------------------------------------------

TEAM2 = "team-2"


def a_move() -> tuple[list, list]:
    """The two teams' streams of a move: Ada (lead of team-1, principal bound) moves to
    team-2 and is promoted there; team-1 then gets Bob as lead."""
    team1 = [
        *a_team(),
        ev("teams", "RoleAssigned", TEAM, 4, 5, "2026-11-03T10:00:00Z", member_id=ADA,
           role="senior engineer", previous_role="engineer", responsibilities=["db"],
           effective_date="2026-11-03", reason="promotion"),
        ev("teams", "TeamLeadChanged", TEAM, 5, 6, "2026-11-03T11:00:00Z", member_id=ADA,
           previous_lead_id=None, reason="new lead"),
        ev("teams", "PrincipalBound", TEAM, 6, 7, "2026-11-03T12:00:00Z", member_id=ADA,
           principal="user:ada", previous_principal=None, reason="verified"),
        ev("teams", "MemberMovedOut", TEAM, 7, 9, "2026-11-04T09:00:00Z", member_id=ADA,
           to_team_id=TEAM2, reason="reorg"),
        ev("teams", "TeamLeadChanged", TEAM, 8, 11, "2026-11-05T09:00:00Z", member_id=BOB,
           previous_lead_id=None, reason="Ada moved"),
    ]
    team2 = [
        ev("teams", "TeamFormed", TEAM2, 1, 4, "2026-11-02T09:30:00Z", name="Platform",
           mission=""),
        ev("teams", "MemberMovedIn", TEAM2, 2, 8, "2026-11-04T09:00:00Z", member_id=ADA,
           from_team_id=TEAM, name="Ada", email="ada.l@example.com", role="senior engineer",
           responsibilities=["db"], principal="user:ada", reason="reorg"),
        ev("teams", "RoleAssigned", TEAM2, 3, 10, "2026-11-04T10:00:00Z", member_id=ADA,
           role="staff engineer", previous_role="senior engineer", responsibilities=["db"],
           effective_date="2026-11-04", reason="platform promotion"),
    ]
    return team1, team2


def in_position_order(*streams: list) -> list:
    return sorted((e for s in streams for e in s), key=lambda e: e.position)


def test_a_move_changes_both_rosters_and_the_member_follows_with_its_history() -> None:
    store = project(*in_position_order(*a_move()))

    team1, team2 = store.get("teams", TEAM), store.get("teams", TEAM2)
    assert team1 is not None and team2 is not None
    ada_in_1 = next(m for m in team1["roster"] if m["member_id"] == ADA)
    assert (ada_in_1["active"], ada_in_1["left_at"], ada_in_1["moved_to_team_id"]) == (
        False, "2026-11-04T09:00:00Z", TEAM2)
    assert team1["lead_id"] == BOB  # the moved lead's seat was vacated, then filled
    assert team2["roster"] == [{
        "member_id": ADA, "name": "Ada", "email": "ada.l@example.com",
        "role": "staff engineer", "responsibilities": ["db"],
        "since": "2026-11-04T09:00:00Z", "active": True, "left_at": None,
        "moved_from_team_id": TEAM,
    }]
    assert store.get("members", ADA) == {
        "id": ADA, "team_id": TEAM2, "name": "Ada", "email": "ada.l@example.com",
        "role": "staff engineer", "responsibilities": ["db"],
        "since": "2026-11-02T09:05:00Z", "active": True, "left_at": None, "is_lead": False,
        "principal": "user:ada",
        "roles": [
            {"role": "engineer", "since": "2026-11-02T09:05:00Z", "effective_date": None,
             "reason": "joined", "position": 2},
            {"role": "senior engineer", "since": "2026-11-03T10:00:00Z",
             "effective_date": "2026-11-03", "reason": "promotion", "position": 5},
            {"role": "staff engineer", "since": "2026-11-04T10:00:00Z",
             "effective_date": "2026-11-04", "reason": "platform promotion", "position": 10},
        ],
        "teams": [
            {"team_id": TEAM, "since": "2026-11-02T09:05:00Z", "until": "2026-11-04T09:00:00Z",
             "reason": "joined", "position": 2},
            {"team_id": TEAM2, "since": "2026-11-04T09:00:00Z", "until": None,
             "reason": "reorg", "position": 8},
        ],
    }


def test_a_move_is_on_both_teams_timelines_and_once_on_the_members() -> None:
    store = project(*in_position_order(*a_move()))

    def summaries(owner: str) -> list[tuple[str, str]]:
        return [(d["kind"], d["summary"]) for (c, _), d in sorted(
            store.docs.items(), key=lambda kv: kv[1].get("position", 0))
            if c == "timeline" and d["owner"] == owner]

    assert ("moved_out", f"Ada moved to team {TEAM2}: reorg") in summaries(f"team:{TEAM}")
    assert ("moved_in", f"Ada moved from team {TEAM}: reorg") in summaries(f"team:{TEAM2}")
    ada = summaries(f"member:{ADA}")
    assert [kind for kind, _ in ada].count("moved") == 1
    assert [kind for kind, _ in ada][:2] == ["joined", "role_changed"]  # history stays


def interleavings(a: list, b: list) -> list[list]:
    """Every merge of two streams that keeps each stream's own order."""
    if not a or not b:
        return [[*a, *b]]
    return [[a[0], *rest] for rest in interleavings(a[1:], b)] + [
        [b[0], *rest] for rest in interleavings(a, b[1:])]


def test_a_move_folds_the_same_in_any_interleaving_of_the_two_teams_streams() -> None:
    """Kafka orders each team's stream but not the two against each other."""
    team1, team2 = a_move()
    ordered = project(*in_position_order(team1, team2))
    expected = {key: ordered.get(*key) for key in ordered.docs}

    merges = interleavings(team1, team2)
    assert len(merges) == 165
    for events in merges:
        one_batch = project(*events)
        one_by_one = project()
        for event in events:
            one_by_one.apply([event])
        for store in (one_batch, one_by_one):
            assert {key: store.get(*key) for key in store.docs} == expected


def test_a_bound_principal_becomes_the_members_principal() -> None:
    store = project(*a_team(), ev(
        "teams", "PrincipalBound", TEAM, 4, 4, "2026-11-03T12:00:00Z", member_id=BOB,
        principal="user:bob", previous_principal=None, reason="verified"))

    assert store.get("members", BOB)["principal"] == "user:bob"  # type: ignore[index]
    assert "principal" not in store.get("members", ADA)  # type: ignore[operator]
    assert store.get("teams", TEAM)["version"] == 4  # type: ignore[index]


def test_a_member_document_made_before_tenures_were_kept_takes_new_events() -> None:
    store = project(*a_team())
    key = ("members", ADA)
    old = dict(store.docs[key])
    del old["teams"]
    old["roles"] = [{k: v for k, v in r.items() if k != "position"} for r in old["roles"]]
    store.docs[key] = old

    store.apply([ev("teams", "RoleAssigned", TEAM, 4, 4, "2026-11-03T10:00:00Z",
                    member_id=ADA, role="lead", previous_role="engineer",
                    responsibilities=[], effective_date="2026-11-03", reason="promotion")])

    ada = store.get(*key)
    assert ada is not None
    assert (ada["role"], [r["role"] for r in ada["roles"]]) == ("lead", ["engineer", "lead"])
    assert ada["teams"][0]["team_id"] == TEAM
