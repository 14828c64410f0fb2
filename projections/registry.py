"""Every fold, in the order the engine applies them to each event.

Entity views come first: later folds look them up (a check-in's timeline entry
needs its goal's owner and progress, already updated by the same event).
"""

from __future__ import annotations

from projections import (
    audit_trail,
    compliance_history,
    people_timeline,
    performance_timeline,
    risk_timeline,
    views,
)
from projections.fold import Fold
from projections.views import (
    access,
    action_items,
    contingency_plans,
    finding_decisions,
    legal_holds,
    people_policies,
    policies,
    risks,
    trainings,
)

ALL_FOLDS: list[Fold] = [
    *views.FOLDS,
    action_items.FOLD,  # copies its items from the incidents view, so after it
    access.FOLD,
    policies.FOLD,
    finding_decisions.FOLD,
    risks.FOLD,
    contingency_plans.FOLD,
    trainings.FOLD,
    people_policies.FOLD,
    legal_holds.FOLD,
    compliance_history.FOLD,
    audit_trail.FOLD,
    *performance_timeline.FOLDS,
    risk_timeline.FOLD,  # the risks context's entries, several members per drill
    people_timeline.FOLD,  # the people context's: assignments, completions, acknowledgements
]

APPEND_ONLY: frozenset[str] = frozenset(f.collection for f in ALL_FOLDS if f.append_only)
"""Collections whose documents never change once written."""

SHARED: frozenset[str] = frozenset(f.collection for f in ALL_FOLDS if f.shared)
"""Collections whose documents several streams feed (so several writers may fold
them at once)."""
