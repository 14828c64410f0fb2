"""Every bounded context and every public event class, in one place.

Importing this module registers each event class in
:data:`domain.aggregate.EVENT_CLASSES`, so schemas, decoding and the relay see them all.
"""

from __future__ import annotations

from domain.access import events as access
from domain.compliance import finding_events as compliance_findings
from domain.compliance import policy_events as compliance_policies
from domain.feedback import events as feedback
from domain.goals import events as goals
from domain.imports import events as imports
from domain.incidents import events as incidents
from domain.people import events as people
from domain.privacy import events as privacy
from domain.risks import events as risks
from domain.teams import events as teams

_MODULES = (teams, goals, incidents, feedback, access, imports, compliance_policies,
            compliance_findings, risks, people, privacy)

CONTEXTS: tuple[str, ...] = (
    "teams", "goals", "incidents", "feedback", "access", "imports", "compliance", "risks",
    "people", "privacy")
"""One Kafka topic each: ``opsledger.<context>.events``."""

ALL_EVENTS: tuple[type, ...] = tuple(event for m in _MODULES for event in m.EVENTS)
"""Every public event class, grouped by context in the order above."""
