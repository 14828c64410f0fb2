"""What the demo month promises of the people context, read through the API as an auditor
would (used by :mod:`tests.e2e.test_demo`): trainings required for roles, assigned when
defined and by the month's role changes themselves (in the same command, by the same
actor), once by hand; completed on time, late and not at all, one of them expired;
one policy per team updated to version 2, acknowledged by the members themselves (or
their lead when they have no persona), some late and some never; and the people
controls finding just that, all of it inside the import run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.times import parse_time
from services.cli.demo import DemoSummary
from services.cli.demo.scenario import PERSONAS

Get = Callable[..., dict[str, Any]]
Every = Callable[..., list[dict[str, Any]]]
PEOPLE_EVENTS = {"TrainingDefined", "TrainingAssigned", "TrainingCompleted", "PolicyPublished",
                 "PolicyVersionPublished", "PolicyAcknowledged"}
ROLE_CHANGED = {"Jonas Petersen", "Kwame Mensah", "Priya Raman", "Samuel Adeyemi"}
"""The members whose role change in the month assigned them a training."""


def check_the_people(get: Get, every: Every, summary: DemoSummary,
                     findings: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
    pos = summary.last_position
    records = [r for r in audit if r["name"] in PEOPLE_EVENTS]
    members = {i: get(f"/v1/members/{i}", min_position=pos)
               for i in {r["data"]["member_id"] for r in records if "member_id" in r["data"]}}
    assert {r["name"] for r in records} == PEOPLE_EVENTS
    assert {r["import_run_id"] for r in records} == {summary.import_run_id}
    assert summary.run_by_context["people"] == len(records)
    assert {r["actor"] for r in records} <= {p.principal for p in PERSONAS if p.team != "*"}

    # a completion or acknowledgement is the member's own when the member has a persona
    own = [r for r in records if r["name"] in ("TrainingCompleted", "PolicyAcknowledged")]
    assert all(r["actor"] == members[r["data"]["member_id"]]["principal"] for r in own
               if members[r["data"]["member_id"]].get("principal"))
    assert any(not members[r["data"]["member_id"]].get("principal") for r in own)

    # role changes assigned their trainings by themselves: same command, same actor
    roles = {r["correlation_id"]: r for r in audit if r["name"] == "RoleAssigned"}
    by_roles = [r for r in records if r["name"] == "TrainingAssigned"
                and r["correlation_id"] in roles]
    assert {members[r["data"]["member_id"]]["name"] for r in by_roles} == ROLE_CHANGED
    for record in by_roles:
        change = roles[record["correlation_id"]]
        assert record["actor"] == change["actor"] and record["time"] == change["time"]
        assert record["data"]["required_for_role"] == change["data"]["role"]
    (by_hand,) = [r for r in records if r["name"] == "TrainingAssigned"
                  and r["data"]["required_for_role"] is None]

    check_the_training_controls(every, pos, summary, findings, by_hand)
    check_the_policies(every, pos, summary, findings)


def check_the_training_controls(every: Every, pos: int, summary: DemoSummary,
                                findings: list[dict[str, Any]],
                                by_hand: dict[str, Any]) -> None:
    trainings = {t["id"]: t for team in summary.team_ids
                 for t in every("/v1/trainings", pos, team_id=team)}
    overdue = [f for f in findings if f["control"] == "training_overdue"]
    late = [f for f in overdue if f["status"] == "resolved"]
    still = [f for f in overdue if f["status"] == "open"]
    assert late and still
    for finding in late:  # resolved by the late completion, when it was made
        _, training_id, member_id, due = finding["id"].split(":")
        (done,) = [a for a in trainings[training_id]["assignments"]
                   if a["member_id"] == member_id and a["due"] == due]
        assert parse_time(finding["resolved_at"]) == parse_time(done["completed_at"])
        assert done["completed_at"][:10] > due
    assert any(f["id"].split(":")[2] == by_hand["data"]["member_id"] for f in late)
    for finding in still:
        _, training_id, member_id, _ = finding["id"].split(":")
        assert all(a["completed_at"] is None for a in trainings[training_id]["assignments"]
                   if a["member_id"] == member_id)

    (expired,) = [f for f in findings if f["control"] == "training_expired"]
    _, training_id, member_id, until = expired["id"].split(":")
    training = trainings[training_id]
    (done,) = [a for a in training["assignments"] if a["member_id"] == member_id]
    assert expired["status"] == "open" and training["valid_for_days"] <= 30
    assert (parse_time(until) - parse_time(done["completed_at"][:10] + "T00:00:00Z")).days == (
        training["valid_for_days"])

    # the printed matrix is the API's
    shown = summary.figures.people
    assert sum(t.overdue for t in shown.teams) == len(still)
    assert sum(t.expired for t in shown.teams) == 1
    assert sum(t.trainings for t in shown.teams) == len(trainings)


def check_the_policies(every: Every, pos: int, summary: DemoSummary,
                       findings: list[dict[str, Any]]) -> None:
    policies = [p for t in summary.team_ids for p in every("/v1/policies", pos, team_id=t)]
    assert len(policies) == len(summary.team_ids)
    assert all([v["version"] for v in p["versions"]] == ["1", "2"] for p in policies)
    assert all(p["versions"][0]["superseded_at"] == p["versions"][1]["published_at"]
               for p in policies)
    unacknowledged = [f for f in findings if f["control"] == "policy_unacknowledged"]
    still = [f for f in unacknowledged if f["status"] == "open"]
    resolved = [f for f in unacknowledged if f["status"] == "resolved"]
    assert still and all(f["id"].endswith(":2") for f in still)
    pending = {(p["id"], m) for p in policies for m in p["versions"][1]["pending"]}
    assert {tuple(f["id"].split(":")[1:3]) for f in still} == pending
    # version 1: acknowledged late (resolved then), or never (resolved by version 2)
    acked = {(p["id"], a["member_id"]): a["at"] for p in policies
             for a in p["versions"][0]["acknowledgements"]}
    superseded = {p["id"]: p["versions"][0]["superseded_at"] for p in policies}
    by_ack = [f for f in resolved if tuple(f["id"].split(":")[1:3]) in acked]
    by_v2 = [f for f in resolved if f not in by_ack]
    assert by_ack and by_v2
    assert all(parse_time(f["resolved_at"]) == parse_time(
        acked[(f["id"].split(":")[1], f["id"].split(":")[2])]) for f in by_ack)
    assert all(parse_time(f["resolved_at"]) == parse_time(superseded[f["id"].split(":")[1]])
               for f in by_v2)
    assert sum(p.pending for p in summary.figures.people.policies) == len(pending)
