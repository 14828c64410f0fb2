"""The month's compliance decisions outside the follow-ups: the admin's new version of
the ``ack_sla`` policy (:data:`~services.cli.demo.scenario.POLICY_CHANGE`, decided
days before it takes effect, so what happened before keeps the settings' SLA), and the
auditor's waiver of the goal whose target was revised after its deadline.

Both are sent in the import run, in business time: the version's ``effective_from``
lies in the month's past, which only an import run may bring in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from services.cli.demo.clock import iso
from services.cli.demo.scenario import (
    ADMIN,
    AUDITOR,
    DECISION_DAYS,
    GOALS,
    POLICY_CHANGE,
    WAIVER_DAYS,
)
from services.cli.demo.words import WAIVE_REASON

if TYPE_CHECKING:
    from services.cli.demo.plan import Planner


def policy_change(p: Planner) -> None:
    change = POLICY_CHANGE
    effective = p.clock.midnight(change.effective_day)
    p.add("control_policies", "PUT", f"/v1/compliance/controls/{change.control}", {
        "thresholds": dict(change.thresholds), "effective_from": iso(effective),
        "reason": change.reason.format(effective=f"{effective:%A %d %B}"),
    }, ADMIN, p.clock.at(change.day, change.hour))


def late_revision_waived(p: Planner) -> None:
    """The auditor waives the late target revision two days after it was made."""
    for n, goal in enumerate(GOALS):
        if goal.revision is None or goal.revision[0] <= goal.deadline_day:
            continue
        revised = p.revised_at(n, goal.revision[0])
        at = p.clock.at(p.clock.day_of(revised) + DECISION_DAYS, 10)
        if at > p.horizon:
            continue
        finding = f"target_revised_after_deadline:{p.goal_ids[goal.title]}"
        p.add("findings_waived", "POST", f"/v1/compliance/findings/{finding}/waive", {
            "reason": WAIVE_REASON, "until": iso(at + timedelta(days=WAIVER_DAYS)),
        }, AUDITOR, at)
