"""The trainings, the team policies, the training matrix and the people context's
timeline entries, as specifications: given these events, then these documents."""

from __future__ import annotations

from typing import Any

from domain.envelope import EventEnvelope
from projections.people_standing import matrix
from projections.times import parse_time
from projections.views import entity_of, view_of
from tests.unit.projections.builders import ADA, BOB, TEAM, a_team, ev, project

TRAINING, POLICY = "training-1", "policy-1"
EVIDENCE = "https://lms.example.test/c/1"


def tr(name: str, version: int, time: str, /, **data: Any) -> EventEnvelope:
    return ev("people", name, TRAINING, version, 10 + version, time, team_id=TEAM, **data)


def po(name: str, stream_version: int, time: str, /, **data: Any) -> EventEnvelope:
    return ev("people", name, POLICY, stream_version, 50 + stream_version, time,
              team_id=TEAM, **data)


def defined(valid: int | None = 30, time: str = "2026-11-03T09:00:00Z") -> EventEnvelope:
    return tr("TrainingDefined", 1, time, title="Incident command",
              required_for_roles=["engineer"], valid_for_days=valid)


def assigned(version: int, member: str, due: str, time: str,
             role: str | None = None) -> EventEnvelope:
    return tr("TrainingAssigned", version, time, member_id=member, due=due,
              required_for_role=role)


def completed(version: int, member: str, at: str) -> EventEnvelope:
    return tr("TrainingCompleted", version, at, member_id=member, completed_at=at,
              evidence=EVIDENCE)


def published(time: str = "2026-11-03T09:00:00Z") -> EventEnvelope:
    return po("PolicyPublished", 1, time, title="On-call", version="1",
              document="https://wiki.example.test/p", sha256="a" * 64)


def superseded(version: int, time: str, label: str = "2") -> EventEnvelope:
    return po("PolicyVersionPublished", version, time, version=label,
              document="https://wiki.example.test/p2", sha256="b" * 64, supersedes="1")


def acknowledged(version: int, member: str, time: str, label: str = "1") -> EventEnvelope:
    return po("PolicyAcknowledged", version, time, member_id=member, version=label)


def test_a_training_keeps_every_assignment_and_its_completion() -> None:
    store = project(*a_team(), defined(),
                    assigned(2, ADA, "2026-12-01", "2026-11-03T09:00:00Z", "engineer"),
                    completed(3, ADA, "2026-11-10T09:00:00Z"),
                    assigned(4, ADA, "2027-01-20", "2026-12-20T09:00:00Z"))
    training = store.get("trainings", TRAINING)

    assert training is not None and training["version"] == 4
    assert [(a["due"], a["completed_at"], a["required_for_role"])
            for a in training["assignments"]] == [
        ("2026-12-01", "2026-11-10T09:00:00Z", "engineer"), ("2027-01-20", None, None)]


def test_the_matrix_says_assigned_due_done_and_expired_for_each_member() -> None:
    store = project(*a_team(), defined(valid=30),
                    assigned(2, ADA, "2026-12-01", "2026-11-03T09:00:00Z"),
                    completed(3, ADA, "2026-11-10T09:00:00Z"),
                    assigned(4, BOB, "2026-11-20", "2026-11-03T09:00:00Z"))
    rows = matrix(store.all("trainings"), store.all("members"), TEAM,
                  parse_time("2026-12-15T00:00:00Z"))

    cells = {r["member_id"]: r["trainings"][0] for r in rows}
    assert {k: cells[ADA][k] for k in ("assigned", "due", "done", "expired", "valid_until")} \
        == {"assigned": True, "due": "2026-12-01", "done": True, "expired": True,
            "valid_until": "2026-12-10"}
    assert {k: cells[BOB][k] for k in ("assigned", "done", "expired", "overdue")} == {
        "assigned": True, "done": False, "expired": False, "overdue": True}


def test_the_matrix_leaves_out_members_who_left() -> None:
    left = ev("teams", "MemberLeft", TEAM, 4, 4, "2026-11-04T09:00:00Z", member_id=BOB,
              reason="moved on")
    store = project(*a_team(), left, defined())

    assert [r["member_id"] for r in matrix(store.all("trainings"), store.all("members"),
                                           TEAM, parse_time("2026-11-05T00:00:00Z"))] == [ADA]


def test_a_policy_keeps_every_version_and_who_acknowledged_each() -> None:
    store = project(published(), acknowledged(2, ADA, "2026-11-04T09:00:00Z"),
                    superseded(3, "2026-11-20T09:00:00Z"),
                    acknowledged(4, BOB, "2026-11-21T09:00:00Z", label="2"))
    policy = store.get("policies", POLICY)

    assert policy is not None
    assert (policy["current_version"], policy["version"], policy["sha256"]) == ("2", 4, "b" * 64)
    assert [(v["version"], v["superseded_at"], [a["member_id"] for a in v["acknowledgements"]])
            for v in policy["versions"]] == [("1", "2026-11-20T09:00:00Z", [ADA]),
                                             ("2", None, [BOB])]


def test_history_names_the_training_or_the_policy() -> None:
    assert view_of(defined()).collection == "trainings"  # type: ignore[union-attr]
    assert view_of(published()).collection == "policies"  # type: ignore[union-attr]
    assert entity_of(published()) == POLICY
    store = project(*a_team(), defined(), published())
    records = {r["entity_id"]: r["team_id"] for r in store.all("compliance_history")}
    assert (records[TRAINING], records[POLICY]) == (TEAM, TEAM)


def test_assignments_completions_and_acknowledgements_are_in_the_members_timelines() -> None:
    store = project(*a_team(), defined(),
                    assigned(2, ADA, "2026-12-01", "2026-11-03T09:00:00Z", "engineer"),
                    completed(3, ADA, "2026-11-10T09:00:00Z"), published(),
                    acknowledged(2, ADA, "2026-11-04T09:00:00Z"))
    ada = sorted((e["time"], e["kind"]) for e in store.all("timeline")
                 if e["owner"] == f"member:{ADA}" and e["kind"] != "joined")

    assert ada == [("2026-11-03T09:00:00Z", "training_assigned"),
                   ("2026-11-04T09:00:00Z", "policy_acknowledged"),
                   ("2026-11-10T09:00:00Z", "training_completed")]
    team = {e["kind"] for e in store.all("timeline") if e["owner"] == f"team:{TEAM}"}
    assert {"training_defined", "policy_published", "training_completed"} <= team
    [done] = [e for e in store.all("timeline") if e["kind"] == "training_completed"
              and e["owner"] == f"member:{ADA}"]
    assert done["details"]["valid_until"] == "2026-12-10"
