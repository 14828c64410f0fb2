"""Trainings over HTTP: defined for roles (assigning themselves, also on a role change),
assigned, completed with evidence; the trainings, the team's matrix, the member's
timeline, the training controls among the findings; all kept to the token's teams."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import SCOPED_TEAM, Api
from tests.e2e.test_business_time import ago
from tests.e2e.test_risks import DAY, day

EVIDENCE = "https://lms.example.test/certificates/42"


class People:
    """A team formed 60 days ago with Olu (an SRE) and Ria (the lead)."""

    def __init__(self, api: Api, team_id: str | None = None) -> None:
        self.api = api
        formed = ago(60 * DAY)
        self.team = api.team("Payments SRE", occurred_at=formed,
                             **({"team_id": team_id} if team_id else {}))
        self.olu = api.member(self.team, "Olu Owner", role="SRE", occurred_at=formed)
        self.ria = api.member(self.team, "Ria Reviewer", role="Lead", occurred_at=formed)
        self.position = 0

    def post(self, path: str, body: dict[str, Any], expect: int = 201,
             api: Api | None = None, **headers: str) -> Any:
        answer = (api or self.api).post(path, body, expect=expect, **headers)
        if answer.status_code < 300:
            self.position = answer.json()["position"]
        return answer

    def define(self, roles: list[str], valid: int | None = 365, **extra: Any) -> str:
        return str(self.post("/v1/trainings", {
            "team_id": self.team, "title": "Incident command", "required_for_roles": roles,
            "valid_for_days": valid, **extra}).json()["id"])

    def read(self, path: str, api: Api | None = None, expect: int = 200, **params: Any) -> Any:
        return (api or self.api).get(path, expect=expect, min_position=self.position, **params)


def cell(matrix: dict[str, Any], member: str, training: str) -> dict[str, Any]:
    [row] = [r for r in matrix["members"] if r["member_id"] == member]
    [found] = [c for c in row["trainings"] if c["training_id"] == training]
    return found


def test_a_training_assigns_itself_then_is_completed_and_shows_in_the_matrix(
        api: Api) -> None:
    p = People(api)
    training = p.define(["SRE"], valid=365)

    matrix = p.read("/v1/trainings/matrix", team_id=p.team)
    assert {k: cell(matrix, p.olu, training)[k] for k in (
        "required", "assigned", "due", "done", "expired")} == {
        "required": True, "assigned": True, "due": day(30), "done": False, "expired": False}
    assert cell(matrix, p.ria, training)["assigned"] is False

    p.post(f"/v1/members/{p.olu}/trainings/{training}/complete",
           {"completed_at": ago(0), "evidence": EVIDENCE}, expect=200)
    done = cell(p.read("/v1/trainings/matrix", team_id=p.team), p.olu, training)
    assert (done["done"], done["expired"], done["valid_until"]) == (True, False, day(365))
    [listed] = p.read("/v1/trainings", team_id=p.team)["items"]
    assert [a["evidence"] for a in listed["assignments"]] == [EVIDENCE]
    kinds = [e["kind"] for e in p.read(f"/v1/performance/members/{p.olu}/timeline")["items"]]
    assert {"training_assigned", "training_completed"} <= set(kinds)


def test_a_role_change_assigns_the_trainings_the_new_role_requires(api: Api) -> None:
    p = People(api)
    training = p.define(["Incident commander"])
    p.post(f"/v1/teams/{p.team}/members/{p.ria}/role",
           {"role": "Incident commander", "reason": "rotation"}, expect=200)

    assert cell(p.read("/v1/trainings/matrix", team_id=p.team), p.ria, training)[
        "assigned"] is True


def test_assigning_takes_a_due_date_and_is_refused_twice(api: Api) -> None:
    p = People(api)
    training = p.define([])
    body = {"training_id": training, "due": day(10)}
    answer = p.post(f"/v1/members/{p.ria}/trainings", body, **{"Idempotency-Key": "a-1"})
    again = p.post(f"/v1/members/{p.ria}/trainings", body, **{"Idempotency-Key": "a-1"})
    assert again.json() == answer.json()  # a retry gets its first answer
    assert p.post(f"/v1/members/{p.ria}/trainings", body, expect=409).json()["status"] == 409
    p.post(f"/v1/members/{p.olu}/trainings", body, expect=412, **{"If-Match": '"1"'})


def test_bad_input_is_a_problem_that_appends_nothing(api: Api) -> None:
    p = People(api)
    training = p.define([])
    head = api.head()
    for path, body, status in [
        ("/v1/trainings", {"team_id": p.team, "title": "X", "valid_for_days": 0}, 422),
        ("/v1/trainings", {"team_id": p.team, "title": "X", "extra": 1}, 422),
        (f"/v1/members/{p.ria}/trainings", {"training_id": training, "due": day(-1)}, 422),
        (f"/v1/members/{p.ria}/trainings", {"training_id": p.team, "due": day(1)}, 404),
        (f"/v1/members/{p.team}/trainings", {"training_id": training, "due": day(1)}, 404),
        (f"/v1/members/{p.ria}/trainings/{training}/complete",
         {"completed_at": ago(0), "evidence": "not a link"}, 422),
        (f"/v1/members/{p.ria}/trainings/{training}/complete",
         {"completed_at": ago(0), "evidence": EVIDENCE}, 409),
    ]:
        answer = api.post(path, body, expect=status)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert api.head() == head


def test_an_overdue_and_an_expired_training_are_findings(api: Api) -> None:
    p = People(api)
    late = p.define([], valid=None, occurred_at=ago(50 * DAY))
    p.post(f"/v1/members/{p.ria}/trainings", {"training_id": late, "due": day(-40),
                                              "occurred_at": ago(45 * DAY)})
    short = p.define([], valid=10, occurred_at=ago(50 * DAY))
    p.post(f"/v1/members/{p.olu}/trainings", {"training_id": short, "due": day(-40),
                                              "occurred_at": ago(45 * DAY)})
    p.post(f"/v1/members/{p.olu}/trainings/{short}/complete",
           {"completed_at": ago(44 * DAY), "evidence": EVIDENCE}, expect=200)

    findings = p.read("/v1/compliance/findings", team_id=p.team)["items"]
    found = {(f["control"], f["subject_id"], f["status"]) for f in findings}
    assert ("training_overdue", late, "open") in found
    assert ("training_expired", short, "open") in found
    assert not any(f["control"] == "training_overdue" and f["subject_id"] == short
                   for f in findings)  # completed before it was due
    [overdue] = [f for f in findings if f["control"] == "training_overdue"]
    assert p.read(f"/v1/compliance/findings/{overdue['id']}")["id"] == overdue["id"]


def test_trainings_are_kept_to_the_tokens_teams(api: Api) -> None:
    mine, theirs = People(api, team_id=SCOPED_TEAM), People(api)
    scoped = api.as_("scoped")
    training = theirs.define(["SRE"])

    mine.post("/v1/trainings", {"team_id": theirs.team, "title": "X"}, expect=403,
              api=scoped)
    mine.post(f"/v1/members/{theirs.ria}/trainings", {"training_id": training,
                                                      "due": day(3)}, expect=403, api=scoped)
    mine.post(f"/v1/members/{theirs.olu}/trainings/{training}/complete",
              {"completed_at": ago(0), "evidence": EVIDENCE}, expect=403, api=scoped)
    theirs.read("/v1/trainings", api=scoped, expect=403)
    theirs.read("/v1/trainings/matrix", api=scoped, expect=403, team_id=theirs.team)
    own = mine.define(["SRE"])
    assert [t["id"] for t in mine.read("/v1/trainings", api=scoped,
                                       team_id=SCOPED_TEAM)["items"]] == [own]
    findings = mine.read("/v1/compliance/findings", api=scoped)["items"]
    assert all(f["team_id"] == SCOPED_TEAM for f in findings)
