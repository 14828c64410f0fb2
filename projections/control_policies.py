"""The controls' thresholds and their history, as one pure value: :class:`Policies`.

Version 1 of every control's policy is the settings' :class:`Thresholds`, in force from
the beginning of time. Each version added later (an event of the ``compliance``
context, folded by :mod:`projections.views.control_policies`) takes over from its
``effective_from``. A fact is judged by the version in force when it happened
(business time): ``Policies.thresholds_at(control, moment)``. With no version added,
every moment gets the settings, as before policies had a history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.compliance.policy import CONTROLS
from projections.fold import Document
from projections.times import parse_time

SETTINGS_VERSION = 1
SETTINGS_PRINCIPAL = "settings"
"""Who "decided" version 1: the deployment's settings (``OPSLEDGER_*``)."""


@dataclass(frozen=True)
class Thresholds:
    """One value per threshold of every control (defaults: the settings' defaults)."""

    sev1_ack_minutes: int = 15
    sev2_ack_minutes: int = 60
    postmortem_working_days: int = 5
    backdate_tolerance_minutes: int = 60
    untreated_min_score: int = 15
    untreated_days: int = 14
    exercise_min_score: int = 15
    exercise_interval_days: int = 180
    acknowledge_days: int = 14

    def ack_minutes(self, severity: str | None) -> int | None:
        return {"SEV1": self.sev1_ack_minutes, "SEV2": self.sev2_ack_minutes}.get(
            severity or ""
        )

    def of(self, control: str) -> dict[str, int]:
        """The thresholds of ``control``, by name (empty for a control without any)."""
        return {name: getattr(self, name) for name in CONTROLS.get(control, ())}


_FIELDS = frozenset(f.name for f in dataclasses.fields(Thresholds))


@dataclass(frozen=True)
class PolicyVersion:
    """One version of a control's policy, from ``effective_from`` (None: always)."""

    version: int
    thresholds: Mapping[str, int]
    effective_from: datetime | None


@dataclass(frozen=True)
class Policies:
    """Every control's policy: the settings' version 1 and the versions added since."""

    baseline: Thresholds = field(default_factory=Thresholds)
    added: Mapping[str, tuple[PolicyVersion, ...]] = field(default_factory=dict)
    """Per control, the versions added after version 1, in version order."""

    @classmethod
    def of(cls, baseline: Thresholds, documents: Iterable[Document]) -> Policies:
        """The policies given the settings and the ``control_policies`` documents."""
        added = {}
        for doc in documents:
            versions = sorted(doc.get("versions") or [], key=lambda v: int(v["version"]))
            added[str(doc["control"])] = tuple(
                PolicyVersion(int(v["version"]), dict(v.get("thresholds") or {}),
                              parse_time(str(v["effective_from"])))
                for v in versions
            )
        return cls(baseline, added)

    def version_at(self, control: str, moment: datetime) -> PolicyVersion:
        """The version of ``control``'s policy in force at ``moment``: the latest to
        take effect by then (of two taking effect at once, the later version)."""
        current = PolicyVersion(SETTINGS_VERSION, self.baseline.of(control), None)
        for version in self.added.get(control, ()):
            if version.effective_from is not None and version.effective_from <= moment:
                current = version
        return current

    def thresholds_at(self, control: str, moment: datetime) -> Thresholds:
        """Every threshold as at ``moment`` for ``control``: its own from the version
        in force then, the others' as the settings say."""
        version = self.version_at(control, moment)
        known: dict[str, Any] = {k: v for k, v in version.thresholds.items() if k in _FIELDS}
        return dataclasses.replace(self.baseline, **known)


def as_policies(value: Policies | Thresholds | None) -> Policies:
    """Policies from what a caller has: the history, one set of thresholds for all time
    (version 1 only), or nothing (the defaults)."""
    if isinstance(value, Policies):
        return value
    return Policies(value or Thresholds())
