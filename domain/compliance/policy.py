"""A control's policy: the thresholds it judges by, as versions with an effective time.

One aggregate per control (a stable id, :func:`policy_id`). Version 1 of every
policy is the settings' thresholds, in force from the beginning of time; it is not
an event. Each version added through the API is an event that says which thresholds
apply from when, who decided it and why; a fact is then judged by the version in
force when it happened (``projections.control_policies``).

Changing a threshold must never silently re-judge facts already judged: a version
may not take effect earlier than the one before it, nor more than
:data:`PAST_GRACE` before it is recorded, unless it is brought in by an import run
(a declared backfill, e.g. a team's history with the SLA it had then).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from domain.aggregate import LedgerAggregate, require_reason
from domain.envelope import iso_time
from domain.errors import DomainError, NotFoundError, ValidationError
from domain.meta import CommandMeta

CONTROLS: dict[str, tuple[str, ...]] = {
    "ack_sla": ("sev1_ack_minutes", "sev2_ack_minutes"),
    "postmortem_overdue": ("postmortem_working_days",),
    "action_item_overdue": (),
    "target_revised_after_deadline": (),
    "self_role_change": (),
    "backdated_entry": ("backdate_tolerance_minutes",),
    "risk_review_overdue": (),
    "high_risk_untreated": ("untreated_min_score", "untreated_days"),
    "plan_not_exercised": ("exercise_min_score", "exercise_interval_days"),
    "risk_accepted_by_owner": (),
    "training_overdue": (),
    "training_expired": (),
    "policy_unacknowledged": ("acknowledge_days",),
}
"""Every compliance control and the names of its thresholds (none: nothing to set)."""

MAX_THRESHOLD = 1_000_000
"""The largest threshold a version may set (minutes, days, working days or a score; a
score above 25, the largest a risk can have, makes nothing high)."""

PAST_GRACE = timedelta(minutes=5)
"""How far before its recording a version may take effect outside an import run:
room for a request in flight, never enough to re-judge what was already judged."""

_NAMESPACE = UUID("5d6c1f0e-3b1a-4c38-9a53-0c8f1f7e2b41")


def policy_id(control: str) -> UUID:
    """The policy aggregate of ``control``: the same id in every deployment."""
    return uuid5(_NAMESPACE, f"control-policy:{control}")


class UnknownControlError(NotFoundError):
    """No control has this name (404)."""


class VersionOrderError(DomainError):
    """A version would take effect before the version it follows (409)."""


def threshold_names(control: str) -> tuple[str, ...]:
    """The thresholds of ``control`` (:class:`UnknownControlError` if there is no such
    control; :class:`ValidationError` if it has none to set)."""
    if control not in CONTROLS:
        raise UnknownControlError(
            f"control {control!r} does not exist; the controls are {', '.join(CONTROLS)}",
            control=control)
    names = CONTROLS[control]
    if not names:
        raise ValidationError(f"control {control} has no thresholds to set", control=control)
    return names


def checked_thresholds(control: str, thresholds: Mapping[str, Any]) -> dict[str, int]:
    """``thresholds`` if they name exactly the control's thresholds, each a whole
    number from 1 to :data:`MAX_THRESHOLD` (:class:`ValidationError` otherwise)."""
    names = threshold_names(control)
    unknown = sorted(set(thresholds) - set(names))
    missing = [name for name in names if name not in thresholds]
    if unknown or missing:
        problems = []
        if unknown:
            problems.append(f"unknown {', '.join(unknown)}")
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        raise ValidationError(
            f"the thresholds of {control} are exactly {', '.join(names)} ({'; '.join(problems)})",
            expected=list(names))
    checked = {}
    for name in names:
        value = thresholds[name]
        if isinstance(value, bool) or not isinstance(value, int) or not (
                1 <= value <= MAX_THRESHOLD):
            raise ValidationError(
                f"{name} must be a whole number from 1 to {MAX_THRESHOLD}, got {value!r}")
        checked[name] = value
    return checked


class ControlPolicy(LedgerAggregate):
    """The versions of one control's thresholds added after the settings' version 1."""

    CONTEXT = "compliance"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        control: str
        versions: list[dict[str, Any]]

    class ControlPolicyCreated(LedgerAggregate.Created):
        """The first version of a control's policy after the settings' version 1: its
        thresholds from ``effective_from`` on, and why."""

        control: str
        policy_version: int
        thresholds: dict[str, int]
        effective_from: str
        reason: str

        def apply(self, policy: ControlPolicy) -> None:
            policy.control = self.control
            policy.versions = []
            policy.add(self)

    class ControlPolicyRevised(LedgerAggregate.Event):
        """A later version of a control's policy: its thresholds from ``effective_from``
        on, and why (the earlier versions keep judging what happened before)."""

        control: str
        policy_version: int
        thresholds: dict[str, int]
        effective_from: str
        reason: str

        def apply(self, policy: ControlPolicy) -> None:
            policy.add(self)

    def add(self, event: ControlPolicyCreated | ControlPolicyRevised) -> None:
        self.versions.append({
            "version": event.policy_version, "thresholds": dict(event.thresholds),
            "effective_from": event.effective_from, "reason": event.reason,
        })

    # -- commands -------------------------------------------------------------

    @classmethod
    def create(cls, control: str, thresholds: Mapping[str, Any], effective_from: datetime,
               reason: str, meta: CommandMeta) -> ControlPolicy:
        data = _version(control, thresholds, effective_from, reason, meta, None)
        return cls._start(cls.ControlPolicyCreated, policy_id(control), meta,
                          control=control, policy_version=2, **data)

    def revise(self, thresholds: Mapping[str, Any], effective_from: datetime, reason: str,
               meta: CommandMeta) -> None:
        data = _version(self.control, thresholds, effective_from, reason, meta,
                        self.versions[-1])
        self._record(self.ControlPolicyRevised, meta, control=self.control,
                     policy_version=self.versions[-1]["version"] + 1, **data)

    def describe(self) -> str:
        return f"the policy of control {self.control}"


def _version(control: str, thresholds: Mapping[str, Any], effective_from: datetime,
             reason: str, meta: CommandMeta, previous: dict[str, Any] | None) -> dict[str, Any]:
    checked = checked_thresholds(control, thresholds)
    reason = require_reason(reason, f"a new version of the {control} policy")
    effective = iso_time(effective_from)
    if previous is not None and effective < previous["effective_from"]:
        raise VersionOrderError(
            f"version {previous['version']} of the {control} policy takes effect at "
            f"{previous['effective_from']}; a later version can't take effect before it "
            f"({effective})",
            previous_version=previous["version"],
            previous_effective_from=previous["effective_from"])
    if effective_from < meta.now - PAST_GRACE and not meta.import_run_id:
        minutes = int(PAST_GRACE.total_seconds() // 60)
        raise ValidationError(
            f"effective_from {effective} is more than {minutes} minutes before now "
            f"({iso_time(meta.now)}): a new threshold can't re-judge what already happened; "
            "bring past policies in with an import run (OpsLedger-Import-Run)",
            effective_from=effective, recorded_at=iso_time(meta.now))
    return {"thresholds": checked, "effective_from": effective, "reason": reason}
