"""A team's policies over HTTP: published in versions (a new version supersedes the
old), acknowledged by members; each version's acknowledgements and who is pending; the
member's timeline; ``policy_unacknowledged`` among the findings, judged by the
threshold version in force; all kept to the token's teams."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.e2e.conftest import SCOPED_TEAM, Api
from tests.e2e.test_business_time import ago
from tests.e2e.test_risks import DAY
from tests.e2e.test_trainings import People

DOC = "https://wiki.example.test/policies/on-call"


def publish(p: People, version: str, text: str, expect: int = 201, api: Api | None = None,
            **extra: Any) -> Any:
    return p.post("/v1/policies", {
        "team_id": p.team, "title": "On-call policy", "version": version, "document": DOC,
        "sha256": hashlib.sha256(text.encode()).hexdigest(), **extra}, expect=expect, api=api)


def test_a_policy_is_published_acknowledged_and_superseded(api: Api) -> None:
    p = People(api)
    policy = publish(p, "1", "v1").json()["id"]
    p.post(f"/v1/members/{p.olu}/policy-acknowledgements", {"policy_id": policy,
                                                            "version": "1"})
    [doc] = p.read("/v1/policies", team_id=p.team)["items"]
    assert (doc["current_version"], doc["versions"][0]["pending"]) == ("1", [p.ria])
    assert [a["member_id"] for a in doc["versions"][0]["acknowledgements"]] == [p.olu]

    assert publish(p, "2", "v2", expect=200).json()["id"] == policy  # same title: a version
    [doc] = p.read("/v1/policies", team_id=p.team)["items"]
    assert [(v["version"], v["supersedes"], v["pending"]) for v in doc["versions"]] == [
        ("1", None, []), ("2", "1", sorted([p.olu, p.ria]))]
    assert doc["versions"][0]["superseded_at"] is not None
    p.post(f"/v1/members/{p.olu}/policy-acknowledgements",
           {"policy_id": policy, "version": "1"}, expect=409)  # superseded
    kinds = [e["kind"] for e in p.read(f"/v1/performance/members/{p.olu}/timeline")["items"]]
    assert "policy_acknowledged" in kinds


def test_bad_policies_are_problems_that_append_nothing(api: Api) -> None:
    p = People(api)
    policy = publish(p, "1", "v1").json()["id"]
    head = api.head()
    publish(p, "1", "other", expect=409)
    publish(p, "2", "v1", expect=409)  # the same document
    publish(p, "3", "v3", expect=422, document="file:///etc/passwd")
    api.post("/v1/policies", {"team_id": p.team, "title": "P", "version": "1",
                              "document": DOC, "sha256": "abc"}, expect=422)
    api.post(f"/v1/members/{p.olu}/policy-acknowledgements",
             {"policy_id": policy, "version": "9"}, expect=422)
    api.post(f"/v1/members/{p.olu}/policy-acknowledgements",
             {"policy_id": p.team, "version": "1"}, expect=404)
    assert api.head() == head


def test_a_member_who_does_not_acknowledge_in_time_is_a_finding(api: Api) -> None:
    p = People(api)
    policy = publish(p, "1", "v1", occurred_at=ago(20 * DAY)).json()["id"]
    p.post(f"/v1/members/{p.olu}/policy-acknowledgements",
           {"policy_id": policy, "version": "1", "occurred_at": ago(19 * DAY)})

    findings = [f for f in p.read("/v1/compliance/findings", team_id=p.team)["items"]
                if f["control"] == "policy_unacknowledged"]
    assert [(f["id"], f["status"]) for f in findings] == [
        (f"policy_unacknowledged:{policy}:{p.ria}:1", "open")]
    assert p.read(f"/v1/compliance/findings/{findings[0]['id']}")["status"] == "open"


def test_the_acknowledgement_window_is_a_versioned_threshold(api: Api) -> None:
    """A publication is judged by the window in force when it was published: a longer
    window set later does not excuse it."""
    p = People(api)
    controls = {c["control"]: c for c in api.get("/v1/compliance/controls")["items"]}
    assert controls["policy_unacknowledged"]["thresholds"] == {"acknowledge_days": 14}
    publish(p, "1", "v1", occurred_at=ago(20 * DAY))
    changed = api.client.put("/v1/compliance/controls/policy_unacknowledged", json={
        "thresholds": {"acknowledge_days": 30}, "reason": "quarterly reading",
        "effective_from": ago(0)},
        headers=api.headers)
    assert changed.status_code == 200, changed.text
    p.position = changed.json()["position"]

    findings = [f for f in p.read("/v1/compliance/findings", team_id=p.team)["items"]
                if f["control"] == "policy_unacknowledged"]
    assert len(findings) == 2 and all("within 14 days" in f["summary"] for f in findings)


def test_policies_are_kept_to_the_tokens_teams(api: Api) -> None:
    mine, theirs = People(api, team_id=SCOPED_TEAM), People(api)
    scoped = api.as_("scoped")
    policy = publish(theirs, "1", "v1").json()["id"]

    publish(theirs, "2", "v2", expect=403, api=scoped)
    mine.post(f"/v1/members/{theirs.olu}/policy-acknowledgements",
              {"policy_id": policy, "version": "1"}, expect=403, api=scoped)
    theirs.read("/v1/policies", api=scoped, expect=403)
    own = publish(mine, "1", "v1").json()["id"]
    assert [x["id"] for x in mine.read("/v1/policies", api=scoped,
                                       team_id=SCOPED_TEAM)["items"]] == [own]


def test_a_member_acknowledges_and_completes_only_for_themselves(api: Api) -> None:
    p = People(api)
    max_id = api.member(p.team, "Max Member", role="SRE", principal="user:max",
                        occurred_at=ago(59 * DAY))
    policy = publish(p, "1", "v1").json()["id"]
    training = p.define(["SRE"])
    as_max = api.as_("member")
    head = api.head()

    # when Max (role member) records Olu's acknowledgement or training: refused, nothing
    p.post(f"/v1/members/{p.olu}/policy-acknowledgements",
           {"policy_id": policy, "version": "1"}, expect=403, api=as_max)
    p.post(f"/v1/members/{p.olu}/trainings/{training}/complete",
           {"completed_at": ago(DAY), "evidence": "https://lms.example.test/c/1"},
           expect=403, api=as_max)
    assert api.head() == head

    # then his own are his to record, and a lead records anyone's
    p.post(f"/v1/members/{max_id}/policy-acknowledgements",
           {"policy_id": policy, "version": "1"}, expect=201, api=as_max)
    p.post(f"/v1/members/{max_id}/trainings/{training}/complete",
           {"completed_at": ago(0), "evidence": "https://lms.example.test/c/2"},
           expect=200, api=as_max)
    p.post(f"/v1/members/{p.olu}/policy-acknowledgements",
           {"policy_id": policy, "version": "1"}, expect=201, api=api.as_("lead"))
