"""Postmortem action items over HTTP: added after the postmortem, completed (late or
not), reassigned, moved and cancelled; listed across incidents by team, owner and
status; judged by the ``action_item_overdue`` control; kept to the token's teams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from domain.incidents.action_items import postmortem_item_id
from tests.e2e.conftest import SCOPED_TEAM, Api
from tests.e2e.test_business_time import ago

DAY = 24 * 60  # minutes


def day(offset: int) -> str:
    """The UTC date ``offset`` days from today."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


class Reviewed:
    """A team (Ada, Bob) formed 60 days ago, a member Cy of another team, and a SEV3
    of the team resolved and reviewed 30 days ago with two items: Ada's canary, due 20
    days ago (overdue now), and Bob's alert, due in 10 days."""

    def __init__(self, api: Api, team_id: str | None = None) -> None:
        self.api = api
        self.team = api.team("Payments SRE", occurred_at=ago(60 * DAY),
                             **({"team_id": team_id} if team_id else {}))
        self.ada = api.member(self.team, "Ada Lovelace", occurred_at=ago(60 * DAY))
        self.bob = api.member(self.team, "Bob Hopper", occurred_at=ago(60 * DAY))
        other = api.team("Platform", occurred_at=ago(60 * DAY))
        self.cy = api.member(other, "Cy Shannon", occurred_at=ago(60 * DAY))
        self.incident = str(api.post("/v1/incidents", {
            "team_id": self.team, "severity": "SEV3", "service": "checkout",
            "summary": "5xx", "occurred_at": ago(40 * DAY)}, expect=201).json()["id"])
        self.do("acknowledge", {"occurred_at": ago(40 * DAY - 5)})
        self.do("resolve", {"summary": "rolled back", "occurred_at": ago(40 * DAY - 60)})
        self.last = self.do("postmortem", {"causes": ["bad deploy"], "occurred_at": ago(30 * DAY),
                                           "action_items": [
            {"title": "Add a canary", "owner_id": self.ada, "due": day(-20)},
            {"title": "Alert on 5xx", "owner_id": self.bob, "due": day(10)}]})
        self.canary = postmortem_item_id(self.incident, 1)
        self.alert = postmortem_item_id(self.incident, 2)

    def do(self, command: str, body: dict[str, Any], expect: int = 200) -> Any:
        answer = self.api.post(f"/v1/incidents/{self.incident}/{command}", body, expect=expect)
        if answer.status_code < 300:
            self.last = answer
        return answer

    def item(self, item_id: str, command: str, body: dict[str, Any], expect: int = 200) -> Any:
        return self.do(f"action-items/{item_id}/{command}", body, expect)

    def read(self, path: str | None = None, **params: Any) -> Any:
        return self.api.get(path or f"/v1/incidents/{self.incident}",
                            min_position=self.last.json()["position"], **params)

    def items(self) -> dict[str, dict[str, Any]]:
        return {item["id"]: item for item in self.read()["action_items"]}

    def listed(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.read("/v1/action-items", team_id=self.team, **params)["items"])

    def findings(self) -> list[dict[str, Any]]:
        return [f for f in self.read("/v1/compliance/findings", control="action_item_overdue")[
            "items"] if f["subject_id"] == self.incident]


@pytest.fixture
def reviewed(api: Api) -> Reviewed:
    return Reviewed(api)


def test_the_incident_shows_its_items_with_stable_ids_and_read_time_status(
    reviewed: Reviewed,
) -> None:
    items = reviewed.items()

    assert list(items) == [reviewed.canary, reviewed.alert]
    canary = items[reviewed.canary]
    assert {k: canary[k] for k in ("title", "owner_id", "due", "status", "completed_at",
                                   "link", "note", "due_history")} == {
        "title": "Add a canary", "owner_id": reviewed.ada, "due": day(-20),
        "status": "overdue", "completed_at": None, "link": None, "note": None,
        "due_history": []}
    assert items[reviewed.alert]["status"] == "open"


def test_an_item_is_added_after_the_postmortem_with_the_clients_id(reviewed: Reviewed) -> None:
    item_id = str(uuid4())

    answer = reviewed.do("action-items", {"title": "Shard the queue", "owner_id": reviewed.bob,
                                          "due": day(5), "item_id": item_id}, expect=201)

    assert answer.json()["id"] == item_id
    assert answer.headers["ETag"] == '"5"'
    added = reviewed.items()[item_id]
    assert (added["title"], added["owner_id"], added["status"]) == (
        "Shard the queue", reviewed.bob, "open")
    repeat = reviewed.do("action-items", {"title": "Again", "owner_id": reviewed.bob,
                                          "due": day(5), "item_id": item_id}, expect=409)
    assert "already has action item" in repeat.json()["detail"]


def test_no_item_is_added_before_the_postmortem(api: Api) -> None:
    team = api.team()
    owner = api.member(team)
    incident = api.incident(team)

    problem = api.post(f"/v1/incidents/{incident}/action-items", {
        "title": "Shard", "owner_id": owner, "due": day(5)}, expect=409).json()

    assert "no published postmortem" in problem["detail"]
    assert api.get(f"/v1/incidents/{incident}")["version"] == 1


def test_completing_a_late_item_resolves_its_finding_with_the_lateness(
    reviewed: Reviewed,
) -> None:
    [open_finding] = reviewed.findings()
    assert (open_finding["id"], open_finding["status"]) == (
        f"action_item_overdue:{reviewed.incident}:{reviewed.canary}", "open")

    reviewed.item(reviewed.canary, "complete", {
        "note": "canary in every region", "link": "https://tracker.example/OPS-42"})

    canary = reviewed.items()[reviewed.canary]
    assert (canary["status"], canary["note"], canary["link"]) == (
        "done", "canary in every region", "https://tracker.example/OPS-42")
    [finding] = reviewed.findings()
    assert (finding["status"], finding["resolved_at"]) == ("resolved", canary["completed_at"])
    assert finding["breached_by_seconds"] > 19 * DAY * 60


def test_a_due_date_moved_after_it_passed_stays_a_finding_with_the_move_as_evidence(
    reviewed: Reviewed,
) -> None:
    moved = reviewed.item(reviewed.canary, "due", {"due": day(7), "reason": "vendor late"})

    canary = reviewed.items()[reviewed.canary]
    assert (canary["due"], canary["status"]) == (day(7), "open")
    [change] = canary["due_history"]
    assert (change["from_due"], change["due"], change["reason"], change["actor"]) == (
        day(-20), day(7), "vendor late", "user:admin")
    [finding] = reviewed.findings()
    assert finding["status"] == "open"
    assert change["event_id"] in finding["evidence_event_ids"]
    assert finding["late_due_changes"][0]["from_due"] == day(-20)
    assert f"moved from {day(-20)} to {day(7)}" in finding["summary"]
    assert moved.json()["id"] == reviewed.canary


def test_reassigning_and_cancelling_are_recorded_with_their_reasons(reviewed: Reviewed) -> None:
    reviewed.item(reviewed.alert, "reassign", {"owner_id": reviewed.ada, "reason": "Bob away"})
    reviewed.item(reviewed.alert, "cancel", {"reason": "superseded"})

    alert = reviewed.items()[reviewed.alert]
    assert (alert["owner_id"], alert["status"], alert["cancel_reason"]) == (
        reviewed.ada, "cancelled", "superseded")
    assert [(h["from_owner_id"], h["owner_id"]) for h in alert["owner_history"]] == [
        (reviewed.bob, reviewed.ada)]


def test_follow_up_refusals_append_nothing(reviewed: Reviewed) -> None:
    reviewed.item(reviewed.alert, "cancel", {"reason": "superseded"})
    version = reviewed.read()["version"]
    unknown = str(uuid4())

    reviewed.item(unknown, "complete", {"note": "done"}, expect=404)
    reviewed.item(reviewed.alert, "complete", {"note": "done"}, expect=409)
    reviewed.item(reviewed.canary, "complete", {"note": "done", "link": "ftp://x.example/1"},
                  expect=422)
    reviewed.item(reviewed.canary, "complete", {"note": "done", "link": "https://:80/x"},
                  expect=422)
    reviewed.item(reviewed.canary, "reassign", {"owner_id": unknown, "reason": "help"},
                  expect=422)  # nobody's id
    reviewed.item(reviewed.canary, "due", {"due": day(-1), "reason": "oops"}, expect=409)
    reviewed.item(reviewed.canary, "cancel", {"reason": "moot", "occurred_at": ago(31 * DAY)},
                  expect=409)  # before the postmortem: out of order
    reviewed.do("action-items", {"title": "x", "owner_id": unknown, "due": day(3)},
                expect=422)
    reviewed.item("not-a-uuid", "cancel", {"reason": "moot"}, expect=422)

    assert reviewed.read()["version"] == version


def test_the_list_filters_by_owner_and_status_and_pages(reviewed: Reviewed) -> None:
    added = str(reviewed.do("action-items", {
        "title": "Shard", "owner_id": reviewed.ada, "due": day(3)}, expect=201).json()["id"])
    done = str(reviewed.do("action-items", {
        "title": "Docs", "owner_id": reviewed.bob, "due": day(4)}, expect=201).json()["id"])
    reviewed.item(done, "complete", {"note": "written"})

    everything = reviewed.listed()
    assert [i["id"] for i in everything] == [reviewed.canary, added, done, reviewed.alert]
    assert {k: everything[0][k] for k in ("incident_id", "team_id", "title", "owner_id",
                                          "due", "status")} == {
        "incident_id": reviewed.incident, "team_id": reviewed.team, "title": "Add a canary",
        "owner_id": reviewed.ada, "due": day(-20), "status": "overdue"}
    assert [i["id"] for i in reviewed.listed(status="overdue")] == [reviewed.canary]
    assert [i["id"] for i in reviewed.listed(status="open")] == [added, reviewed.alert]
    assert [i["id"] for i in reviewed.listed(status="done")] == [done]
    assert reviewed.listed(status="cancelled") == []
    assert [i["id"] for i in reviewed.listed(owner_id=reviewed.ada)] == [reviewed.canary, added]
    first = reviewed.read("/v1/action-items", team_id=reviewed.team, limit=3)
    rest = reviewed.read("/v1/action-items", team_id=reviewed.team, limit=3,
                         cursor=first["next_cursor"])
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in everything]
    assert rest["next_cursor"] is None
    reviewed.api.get("/v1/action-items", expect=422, status="late")


def test_a_scoped_token_lists_and_changes_only_its_teams_items(client: TestClient) -> None:
    admin = Api(client)
    mine = Reviewed(admin, team_id=SCOPED_TEAM)
    theirs = Reviewed(admin)
    scoped = admin.as_("scoped")

    listed = scoped.get("/v1/action-items", team_id=SCOPED_TEAM,
                        min_position=theirs.last.json()["position"])["items"]
    assert {i["incident_id"] for i in listed} == {mine.incident}
    scoped.get("/v1/action-items", expect=403)
    scoped.get("/v1/action-items", expect=403, team_id=theirs.team)
    scoped.get(f"/v1/incidents/{theirs.incident}", expect=403)
    scoped.post(f"/v1/incidents/{theirs.incident}/action-items/{theirs.alert}/cancel",
                {"reason": "not ours"}, expect=403)
    scoped.post(f"/v1/incidents/{theirs.incident}/action-items",
                {"title": "x", "owner_id": theirs.ada, "due": day(3)}, expect=403)
    scoped.post(f"/v1/incidents/{mine.incident}/action-items/{mine.alert}/cancel",
                {"reason": "ours"}, expect=200)
    assert theirs.items()[theirs.alert]["status"] == "open"


def test_an_auditor_reads_but_does_not_change_items(reviewed: Reviewed) -> None:
    auditor = reviewed.api.as_("auditor")

    auditor.post(f"/v1/incidents/{reviewed.incident}/action-items/{reviewed.alert}/cancel",
                 {"reason": "no"}, expect=403)
    assert len(auditor.get("/v1/action-items", min_position=reviewed.last.json()["position"],
                           team_id=reviewed.team)["items"]) == 2
