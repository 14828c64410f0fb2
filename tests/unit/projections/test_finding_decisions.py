"""The decisions on findings, folded: given these compliance events, then the finding's
decisions document, its compliance history under the finding id, and audit records of
its team."""

from __future__ import annotations

from domain.compliance.finding import finding_aggregate_id
from projections.compliance_history import record_id
from projections.fold import Document
from projections.team_scope import team_of_stream
from tests.unit.projections.builders import INCIDENT, TEAM, ev, project

FINDING = f"ack_sla:{INCIDENT}"
STREAM = str(finding_aggregate_id(FINDING))


def tracked(position: int = 30, time: str = "2026-11-24T09:00:00Z") -> object:
    return ev("compliance", "FindingTracked", STREAM, 1, position, time, actor="user:audrey",
              finding_id=FINDING, control="ack_sla", subject_id=INCIDENT, team_id=TEAM)


def decided(name: str, version: int, time: str, actor: str = "user:audrey",
            **data: object) -> object:
    return ev("compliance", name, STREAM, version, 29 + version, time, actor=actor,
              finding_id=FINDING, team_id=TEAM, **data)


def waived_then_reopened() -> list:
    return [
        tracked(),
        decided("FindingWaived", 2, "2026-11-24T09:00:00Z", reason="flaky pager",
                until="2026-12-24T09:00:00.000000Z"),
        decided("FindingReopened", 3, "2026-11-30T10:00:00Z", actor="user:admin",
                reason="pager fixed"),
    ]


def decisions_of(*events: object) -> Document | None:
    return project(*events).get("finding_decisions", FINDING)  # type: ignore[arg-type]


def test_a_first_decision_makes_the_findings_document_with_it() -> None:
    doc = decisions_of(*waived_then_reopened()[:2])

    assert doc is not None
    assert {k: doc[k] for k in ("id", "finding_id", "control", "subject_id", "team_id")} == {
        "id": FINDING, "finding_id": FINDING, "control": "ack_sla", "subject_id": INCIDENT,
        "team_id": TEAM}
    waiver = {"kind": "waived", "by": "user:audrey", "at": "2026-11-24T09:00:00Z",
              "recorded_at": "2026-11-24T09:00:00Z", "reason": "flaky pager",
              "until": "2026-12-24T09:00:00.000000Z",
              "event_id": waived_then_reopened()[1].id}  # type: ignore[attr-defined]
    assert doc["decision"] == waiver
    assert doc["decisions"] == [waiver]


def test_every_decision_is_kept_oldest_first_and_the_latest_is_the_decision() -> None:
    doc = decisions_of(*waived_then_reopened())

    assert doc is not None
    assert [(d["kind"], d["by"], d["reason"]) for d in doc["decisions"]] == [
        ("waived", "user:audrey", "flaky pager"), ("reopened", "user:admin", "pager fixed")]
    assert doc["decision"]["kind"] == "reopened" and doc["decision"]["until"] is None
    assert doc["version"] == 3


def test_an_accepted_risk_is_a_decision_of_its_own_kind() -> None:
    doc = decisions_of(tracked(), decided("FindingRiskAccepted", 2, "2026-11-24T09:00:00Z",
                                          reason="vendor fix", until="2027-01-01T00:00:00Z"))

    assert doc is not None
    assert (doc["decision"]["kind"], doc["decision"]["until"]) == (
        "risk_accepted", "2027-01-01T00:00:00Z")


def test_the_history_of_a_finding_is_kept_under_its_finding_id() -> None:
    store = project(*waived_then_reopened())

    records = [r for r in store.all("compliance_history") if r["entity_id"] == FINDING]
    assert [r["id"] for r in records] == [record_id(FINDING, v) for v in (1, 2, 3)]
    assert [(r["event_name"], r["actor"], r["team_id"]) for r in records] == [
        ("FindingTracked", "user:audrey", TEAM), ("FindingWaived", "user:audrey", TEAM),
        ("FindingReopened", "user:admin", TEAM)]
    assert records[-1]["state"] == store.get("finding_decisions", FINDING)
    assert not [r for r in store.all("compliance_history") if r["entity_id"] == STREAM]


def test_the_history_continues_across_batches() -> None:
    events = waived_then_reopened()
    store = project(*events[:2])
    store.apply(events[2:])

    assert store.docs == project(*events).docs


def test_every_decision_is_audited_in_its_findings_team() -> None:
    store = project(*waived_then_reopened())

    records = sorted((r for r in store.all("audit_trail") if r["context"] == "compliance"),
                     key=lambda r: r["position"])
    assert [(r["name"], r["team_id"], r["entity_id"], r["reason"]) for r in records] == [
        ("FindingTracked", TEAM, STREAM, None), ("FindingWaived", TEAM, STREAM, "flaky pager"),
        ("FindingReopened", TEAM, STREAM, "pager fixed")]
    assert all(r["data"]["finding_id"] == FINDING for r in records)


def test_the_events_feed_finds_a_findings_team_from_its_creating_event() -> None:
    assert team_of_stream("compliance", STREAM, tracked().data) == TEAM  # type: ignore[attr-defined]
    assert team_of_stream("compliance", "policy-stream", {"control": "ack_sla"}) is None


def test_compliance_events_that_name_no_finding_feed_no_findings_document() -> None:
    policy = ev("compliance", "ControlPolicyVersionAdded", "policy-1", 1, 40,
                "2026-11-24T09:00:00Z", control="ack_sla")

    store = project(policy)

    assert store.all("finding_decisions") == []
    [record] = [r for r in store.all("audit_trail") if r["entity_id"] == "policy-1"]
    assert record["team_id"] is None
