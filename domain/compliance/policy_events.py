"""The public wire names of the control policies (topic ``opsledger.compliance.events``)."""

from __future__ import annotations

from domain.compliance.policy import ControlPolicy

CONTEXT = ControlPolicy.CONTEXT
EVENTS = (ControlPolicy.ControlPolicyCreated, ControlPolicy.ControlPolicyRevised)
