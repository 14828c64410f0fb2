"""Control policies with history, as fold specifications: given these events, then the
policies view, the history records, and the findings, each fact judged by the version
in force when it happened (a SEV1 of October keeps October's SLA)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain.compliance.policy import policy_id
from domain.envelope import EventEnvelope
from projections.compliance_controls import evaluate
from projections.control_policies import Policies, Thresholds
from projections.fold import Document
from projections.times import parse_time
from tests.unit.projections.builders import INCIDENT, TEAM, ev, project

ACK_SLA = str(policy_id("ack_sla"))
POSTMORTEM = str(policy_id("postmortem_overdue"))
BACKDATE = str(policy_id("backdated_entry"))
NOVEMBER = "2026-11-01T00:00:00.000000Z"


def policy(subject: str, control: str, version: int, effective_from: str,
           thresholds: dict[str, int], position: int = 100,
           recorded_at: str = "2026-10-31T16:00:00.000000Z",
           reason: str = "new support contract") -> EventEnvelope:
    """The ``version``-th version added to ``control``'s policy (the first is number 2)."""
    name = "ControlPolicyCreated" if version == 2 else "ControlPolicyRevised"
    return ev("compliance", name, subject, version - 1, position, recorded_at,
              actor="user:admin", control=control, policy_version=version,
              thresholds=thresholds, effective_from=effective_from, reason=reason)


def sla_from_november(sev1: int) -> EventEnvelope:
    return policy(ACK_SLA, "ack_sla", 2, NOVEMBER,
                  {"sev1_ack_minutes": sev1, "sev2_ack_minutes": 60})


def policies_after(*events: EventEnvelope) -> Policies:
    """The policies the findings route loads: the settings, then the folded view."""
    return Policies.of(Thresholds(), project(*events).all("control_policies"))


def sev1(subject: str, opened_at: str, acked_at: str, position: int) -> list[EventEnvelope]:
    return [
        ev("incidents", "IncidentOpened", subject, 1, position, opened_at, team_id=TEAM,
           severity="SEV1", service="payments-api", summary="5xx spike"),
        ev("incidents", "IncidentAcknowledged", subject, 2, position + 1, acked_at),
    ]


def ack_findings(events: list[EventEnvelope], now: str) -> dict[str, Document]:
    """The ack_sla findings by incident, as the route computes them from the views."""
    store = project(*events)
    found = evaluate(store.all("incidents"), [], [], [], now,
                     Policies.of(Thresholds(), store.all("control_policies")))
    return {f["subject_id"]: f for f in found if f["control"] == "ack_sla"}


# -- the view -------------------------------------------------------------------------


def test_every_version_is_folded_with_who_decided_when_and_why() -> None:
    first = sla_from_november(30)
    second = policy(ACK_SLA, "ack_sla", 3, "2026-12-01T00:00:00.000000Z",
                    {"sev1_ack_minutes": 20, "sev2_ack_minutes": 60}, position=101,
                    recorded_at="2026-11-20T09:00:00.000000Z", reason="agreed with finance")

    doc = project(first, second).get("control_policies", ACK_SLA)

    assert doc == {
        "id": ACK_SLA, "control": "ack_sla", "version": 2, "event_ids": [first.id, second.id],
        "versions": [
            {"version": 2, "thresholds": {"sev1_ack_minutes": 30, "sev2_ack_minutes": 60},
             "effective_from": NOVEMBER, "by": "user:admin",
             "recorded_at": "2026-10-31T16:00:00.000000Z",
             "occurred_at": "2026-10-31T16:00:00.000000Z",
             "reason": "new support contract", "event_id": first.id, "import_run_id": None},
            {"version": 3, "thresholds": {"sev1_ack_minutes": 20, "sev2_ack_minutes": 60},
             "effective_from": "2026-12-01T00:00:00.000000Z", "by": "user:admin",
             "recorded_at": "2026-11-20T09:00:00.000000Z",
             "occurred_at": "2026-11-20T09:00:00.000000Z",
             "reason": "agreed with finance", "event_id": second.id, "import_run_id": None},
        ],
    }


def test_a_version_brought_in_by_an_import_run_names_the_run() -> None:
    run = "00000000-0000-4000-8000-0000000000f1"
    event = replace(sla_from_november(30), import_run_id=run)

    doc = project(event).get("control_policies", ACK_SLA)

    assert doc is not None and doc["versions"][0]["import_run_id"] == run


def test_other_aggregates_of_the_compliance_context_make_no_policy() -> None:
    other = ev("compliance", "FindingWaived", INCIDENT, 1, 1, NOVEMBER, reason="known")

    assert project(other).all("control_policies") == []


def test_each_version_is_in_the_audit_trail_and_the_policys_history() -> None:
    event = sla_from_november(30)

    store = project(event)

    audit = store.get("audit_trail", event.id)
    assert audit is not None
    assert (audit["actor"], audit["reason"], audit["context"], audit["entity_id"],
            audit["team_id"]) == ("user:admin", "new support contract", "compliance",
                                  ACK_SLA, None)
    [record] = store.all("compliance_history")
    assert (record["entity_id"], record["version"], record["event_name"], record["team_id"],
            record["state"]["versions"][0]["thresholds"]) == (
        ACK_SLA, 1, "ControlPolicyCreated", None,
        {"sev1_ack_minutes": 30, "sev2_ack_minutes": 60})


# -- the history as a value -----------------------------------------------------------


def test_without_versions_every_moment_gets_the_settings() -> None:
    settings = Thresholds(sev1_ack_minutes=20)
    policies = Policies.of(settings, [])

    for moment in ("1970-01-01T00:00:00Z", "2026-11-01T00:00:00Z", "2099-01-01T00:00:00Z"):
        assert policies.thresholds_at("ack_sla", parse_time(moment)) == settings
        assert policies.version_at("ack_sla", parse_time(moment)).version == 1


def test_a_version_is_in_force_from_its_effective_time_for_its_control_only() -> None:
    policies = policies_after(sla_from_november(30))

    before, at = parse_time("2026-10-31T23:59:59Z"), parse_time(NOVEMBER)
    assert policies.thresholds_at("ack_sla", before).sev1_ack_minutes == 15
    assert policies.thresholds_at("ack_sla", at).sev1_ack_minutes == 30
    assert policies.version_at("ack_sla", at).version == 2
    assert policies.thresholds_at("postmortem_overdue", at) == Thresholds()


def test_of_two_versions_taking_effect_at_once_the_later_is_in_force() -> None:
    policies = policies_after(
        sla_from_november(30),
        policy(ACK_SLA, "ack_sla", 3, NOVEMBER, {"sev1_ack_minutes": 25,
                                                 "sev2_ack_minutes": 60}, position=101))

    assert policies.thresholds_at("ack_sla", parse_time(NOVEMBER)).sev1_ack_minutes == 25


# -- judged by the version in force when it happened ----------------------------------

OCTOBER_SEV1 = "00000000-0000-4000-8000-0000000000c1"
NOVEMBER_SEV1 = "00000000-0000-4000-8000-0000000000c2"


def test_a_sev1_of_october_keeps_octobers_sla_after_the_sla_changes_in_november() -> None:
    # Given a SEV1 of October acknowledged after 20 minutes: late by the 15-minute SLA.
    october = sev1(OCTOBER_SEV1, "2026-10-14T10:00:00Z", "2026-10-14T10:20:00Z", 1)
    before = ack_findings(october, "2026-10-31T12:00:00Z")
    assert set(before) == {OCTOBER_SEV1}

    # When the SLA becomes 30 minutes from November, and a SEV1 of November is
    # acknowledged after 20 minutes too,
    november = sev1(NOVEMBER_SEV1, "2026-11-10T10:00:00Z", "2026-11-10T10:20:00Z", 3)
    after = ack_findings([*october, sla_from_november(30), *november], "2026-11-20T12:00:00Z")

    # then October's finding stands as it was, and November's incident was in time.
    assert set(after) == {OCTOBER_SEV1}
    assert after[OCTOBER_SEV1] == before[OCTOBER_SEV1]
    assert after[OCTOBER_SEV1]["summary"].endswith("the SLA is 15 minutes")
    assert after[OCTOBER_SEV1]["breached_by_seconds"] == 300.0


def test_a_tighter_sla_from_november_judges_novembers_incidents_only() -> None:
    events = [*sev1(OCTOBER_SEV1, "2026-10-14T10:00:00Z", "2026-10-14T10:12:00Z", 1),
              *sev1(NOVEMBER_SEV1, "2026-11-10T10:00:00Z", "2026-11-10T10:12:00Z", 3),
              sla_from_november(10)]

    found = ack_findings(events, "2026-11-20T12:00:00Z")

    assert set(found) == {NOVEMBER_SEV1}
    assert found[NOVEMBER_SEV1]["summary"].endswith(
        "the SLA is 10 minutes (policy version 2)")
    assert found[NOVEMBER_SEV1]["breached_by_seconds"] == 120.0


def test_an_escalation_is_judged_by_the_sla_in_force_when_it_came() -> None:
    # SEV2 in October (60 min), escalated to SEV1 in November, when SEV1 is 5 minutes.
    events = [
        ev("incidents", "IncidentOpened", OCTOBER_SEV1, 1, 1, "2026-10-31T23:50:00Z",
           team_id=TEAM, severity="SEV2", service="payments-api", summary="slow"),
        ev("incidents", "IncidentEscalated", OCTOBER_SEV1, 2, 2, "2026-11-01T00:10:00Z",
           from_severity="SEV2", to_severity="SEV1", reason="checkout down"),
        policy(ACK_SLA, "ack_sla", 2, NOVEMBER, {"sev1_ack_minutes": 5,
                                                 "sev2_ack_minutes": 60}),
    ]

    [finding] = ack_findings(events, "2026-11-01T00:20:00Z").values()

    assert (finding["severity"], finding["opened_at"]) == ("SEV1", "2026-11-01T00:15:00Z")


def resolved_sev1(subject: str, resolved_at: str, published_at: str,
                  position: int) -> list[EventEnvelope]:
    return [
        ev("incidents", "IncidentOpened", subject, 1, position, resolved_at, team_id=TEAM,
           severity="SEV1", service="payments-api", summary="5xx spike"),
        ev("incidents", "IncidentResolved", subject, 2, position + 1, resolved_at,
           summary="rolled back", root_cause="bad deploy"),
        ev("incidents", "PostmortemPublished", subject, 3, position + 2, published_at,
           summary="bad deploy", action_items=[]),
    ]


def test_a_postmortem_is_judged_by_the_policy_in_force_at_the_resolution() -> None:
    # Both published 3 working days after their resolution; from November, 2 are allowed.
    two_days = policy(POSTMORTEM, "postmortem_overdue", 2, NOVEMBER,
                      {"postmortem_working_days": 2})
    events = [*resolved_sev1(OCTOBER_SEV1, "2026-10-30T10:00:00Z", "2026-11-04T10:00:00Z", 1),
              *resolved_sev1(NOVEMBER_SEV1, "2026-11-02T10:00:00Z", "2026-11-05T10:00:00Z",
                             4), two_days]
    store = project(*events)

    found = [f for f in evaluate(store.all("incidents"), [], [], [], "2026-11-20T12:00:00Z",
                                 Policies.of(Thresholds(), store.all("control_policies")))
             if f["control"] == "postmortem_overdue"]

    assert [f["subject_id"] for f in found] == [NOVEMBER_SEV1]
    assert found[0]["summary"].endswith(
        "due 2 working days after resolution (policy version 2)")


def test_a_late_entry_is_judged_by_the_tolerance_in_force_when_it_happened() -> None:
    def formed(team: str, occurred: str, recorded: str, position: int) -> EventEnvelope:
        return ev("teams", "TeamFormed", team, 1, position, occurred, recorded_at=recorded,
                  name="SRE")

    # Both recorded 13 hours late, in November: one happened in October.
    october = formed("00000000-0000-4000-8000-00000000000b", "2026-10-31T20:00:00Z",
                     "2026-11-01T09:00:00Z", 1)
    november = formed("00000000-0000-4000-8000-00000000000c", "2026-11-01T20:00:00Z",
                      "2026-11-02T09:00:00Z", 2)
    tolerance = policy(BACKDATE, "backdated_entry", 2, NOVEMBER,
                       {"backdate_tolerance_minutes": 24 * 60})
    store = project(october, november, tolerance)
    late = [r for r in store.all("audit_trail") if r.get("recorded_late")]

    found = evaluate([], [], [], [], "2026-11-20T12:00:00Z",
                     Policies.of(Thresholds(), store.all("control_policies")),
                     late_records=late)

    assert [f["subject_id"] for f in found] == [october.subject]
    assert found[0]["summary"].endswith("the tolerance is 60 minutes")


def test_a_single_set_of_thresholds_still_judges_all_time() -> None:
    events: list[Any] = sev1(OCTOBER_SEV1, "2026-10-14T10:00:00Z", "2026-10-14T10:20:00Z", 1)
    store = project(*events)

    assert evaluate(store.all("incidents"), [], [], [], "2026-11-20T12:00:00Z",
                    Thresholds(sev1_ack_minutes=30)) == []
    assert evaluate(store.all("incidents"), [], [], [], "2026-11-20T12:00:00Z",
                    Policies(Thresholds(sev1_ack_minutes=30))) == []
