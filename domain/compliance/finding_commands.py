"""What can be decided on a finding: imperative, validated at the edge, checked by the
aggregate (:mod:`domain.compliance.finding`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WaiveFinding:
    finding_id: str
    reason: str
    until: datetime | None = None


@dataclass(frozen=True)
class AcceptFindingRisk:
    finding_id: str
    reason: str
    until: datetime


@dataclass(frozen=True)
class ReopenFinding:
    finding_id: str
    reason: str
