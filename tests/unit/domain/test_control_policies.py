"""Control policies, as specifications: a version names exactly its control's thresholds,
takes effect no earlier than the version before it, and never re-judges the past
(more than 5 minutes back only in an import run); every version is an event with its
actor and reason; a refused one appends nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.compliance.policies import PolicyService
from domain.compliance.policy import (
    CONTROLS,
    ControlPolicy,
    UnknownControlError,
    VersionOrderError,
    policy_id,
)
from domain.compliance.policy_commands import SetControlThresholds
from domain.errors import DomainError, OutOfOrderError, StaleVersionError, ValidationError
from domain.imports.service import ImportService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from tests.unit.domain.test_business_time import public_events
from tests.unit.domain.test_ledger import RetryingLedger

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
SLA = {"sev1_ack_minutes": 10, "sev2_ack_minutes": 45}


def ctx(*, now: datetime = NOW, run: UUID | None = None, key: str | None = None,
        if_match: int | None = None, occurred_at: datetime | None = None) -> CommandContext:
    return CommandContext(
        CommandMeta(actor="user:admin", now=now, occurred_at=occurred_at,
                    import_run_id=str(run) if run else ""),
        idempotency_key=key, fingerprint="same request", if_match=if_match)


def set_sla(ledger: Ledger, effective_from: datetime = NOVEMBER, thresholds: Any = None,
            reason: str = "new support contract", context: CommandContext | None = None,
            control: str = "ack_sla") -> Any:
    return PolicyService(ledger).set_thresholds(SetControlThresholds(
        control, SLA if thresholds is None else thresholds, effective_from, reason),
        context or ctx())


def test_the_first_version_after_the_settings_creates_the_policy_of_the_control(
        ledger: Ledger) -> None:
    result = set_sla(ledger)

    assert result.id == policy_id("ack_sla") and result.version == 1
    [event] = public_events(ledger)
    assert type(event).__name__ == "ControlPolicyCreated"
    assert (event.control, event.policy_version, event.thresholds, event.effective_from,
            event.reason, event.meta["actor"]) == (
        "ack_sla", 2, SLA, "2026-11-03T00:00:00.000000Z", "new support contract",
        "user:admin")


def test_a_later_version_revises_it_and_counts_up(ledger: Ledger) -> None:
    set_sla(ledger)

    set_sla(ledger, DECEMBER, {"sev1_ack_minutes": 5, "sev2_ack_minutes": 30}, "tighter")

    event = public_events(ledger)[-1]
    assert type(event).__name__ == "ControlPolicyRevised"
    assert (event.policy_version, event.thresholds, event.reason) == (
        3, {"sev1_ack_minutes": 5, "sev2_ack_minutes": 30}, "tighter")
    policy = ledger.load(ControlPolicy, policy_id("ack_sla"))
    assert [v["version"] for v in policy.versions] == [2, 3]


def test_each_control_has_its_own_stable_policy_id() -> None:
    ids = {policy_id(control) for control in CONTROLS}
    assert len(ids) == len(CONTROLS)
    assert policy_id("ack_sla") == policy_id("ack_sla")
    assert str(policy_id("ack_sla")) == "5122db1b-ce48-5637-a330-d261fea0815c"


def test_an_unknown_control_is_not_found_and_appends_nothing(ledger: Ledger) -> None:
    with pytest.raises(UnknownControlError, match="does not exist"):
        set_sla(ledger, control="mtta")
    assert public_events(ledger) == []


def test_a_control_without_thresholds_has_nothing_to_set(ledger: Ledger) -> None:
    with pytest.raises(ValidationError, match="has no thresholds"):
        set_sla(ledger, control="self_role_change", thresholds={})
    assert public_events(ledger) == []


@pytest.mark.parametrize(("thresholds", "message"), [
    ({"sev1_ack_minutes": 10}, "missing sev2_ack_minutes"),
    ({**SLA, "sev3_ack_minutes": 120}, "unknown sev3_ack_minutes"),
    ({"sev1_ack_minutes": 0, "sev2_ack_minutes": 45}, "whole number from 1"),
    ({"sev1_ack_minutes": -5, "sev2_ack_minutes": 45}, "whole number from 1"),
    ({"sev1_ack_minutes": True, "sev2_ack_minutes": 45}, "whole number from 1"),
    ({"sev1_ack_minutes": 10.5, "sev2_ack_minutes": 45}, "whole number from 1"),
    ({"sev1_ack_minutes": 10, "sev2_ack_minutes": 1_000_001}, "whole number from 1"),
])
def test_thresholds_are_exactly_the_controls_each_a_positive_whole_number(
        ledger: Ledger, thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        set_sla(ledger, thresholds=thresholds)
    assert public_events(ledger) == []


def test_a_version_needs_a_reason(ledger: Ledger) -> None:
    with pytest.raises(DomainError, match="needs a reason"):
        set_sla(ledger, reason="  ")
    assert public_events(ledger) == []


def test_a_version_cannot_take_effect_before_the_previous_one(ledger: Ledger) -> None:
    set_sla(ledger, DECEMBER)

    with pytest.raises(VersionOrderError, match="version 2 of the ack_sla policy takes "
                                                "effect at 2026-12-01") as refused:
        set_sla(ledger, NOVEMBER)
    assert refused.value.details == {"previous_version": 2,
                                     "previous_effective_from": "2026-12-01T00:00:00.000000Z"}
    assert len(public_events(ledger)) == 1


def test_two_versions_may_take_effect_at_the_same_moment(ledger: Ledger) -> None:
    set_sla(ledger, DECEMBER)
    set_sla(ledger, DECEMBER, {"sev1_ack_minutes": 12, "sev2_ack_minutes": 45}, "typo fixed")

    assert [type(e).__name__ for e in public_events(ledger)] == [
        "ControlPolicyCreated", "ControlPolicyRevised"]


def test_a_version_cannot_reach_back_more_than_five_minutes(ledger: Ledger) -> None:
    with pytest.raises(ValidationError, match="can't re-judge what already happened"):
        set_sla(ledger, NOW - timedelta(minutes=5, seconds=1))
    assert public_events(ledger) == []

    set_sla(ledger, NOW - timedelta(minutes=5))  # a request in flight
    assert len(public_events(ledger)) == 1


def test_an_import_run_may_bring_in_a_version_of_the_past(ledger: Ledger) -> None:
    run = ImportService(ledger).open("pagerduty export", "2025 with its SLA", ctx()).id
    long_ago = datetime(2025, 1, 1, tzinfo=UTC)

    set_sla(ledger, long_ago, context=ctx(run=run, occurred_at=long_ago))

    event = public_events(ledger)[-1]
    assert (event.effective_from, event.meta["import_run_id"]) == (
        "2025-01-01T00:00:00.000000Z", str(run))


def test_versions_are_recorded_in_the_order_they_were_decided(ledger: Ledger) -> None:
    set_sla(ledger, DECEMBER, context=ctx(now=NOW + timedelta(hours=1)))

    with pytest.raises(OutOfOrderError):
        set_sla(ledger, DECEMBER, context=ctx(occurred_at=NOW))
    assert len(public_events(ledger)) == 1


def test_a_repeated_idempotency_key_returns_the_first_answer_and_appends_nothing() -> None:
    ledger = RetryingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    first = set_sla(ledger, context=ctx(key="k-1"))
    later = ctx(key="k-1", now=NOW + timedelta(hours=1))  # its effective_from is past now

    assert set_sla(ledger, context=later) == first
    assert len(public_events(ledger)) == 1


def test_if_match_names_the_version_the_change_expects(ledger: Ledger) -> None:
    with pytest.raises(StaleVersionError):
        set_sla(ledger, context=ctx(if_match=1))  # nothing added yet: version 0
    set_sla(ledger, context=ctx(if_match=0))
    with pytest.raises(StaleVersionError):
        set_sla(ledger, DECEMBER, context=ctx(if_match=0))
    set_sla(ledger, DECEMBER, context=ctx(if_match=1))
    assert len(public_events(ledger)) == 2
