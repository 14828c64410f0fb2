"""The public wire names of decisions on findings (topic ``opsledger.compliance.events``)."""

from __future__ import annotations

from domain.compliance.finding import Finding

CONTEXT = Finding.CONTEXT
EVENTS = (
    Finding.FindingTracked, Finding.FindingWaived, Finding.FindingRiskAccepted,
    Finding.FindingReopened,
)
