"""The decisions on each finding: one document per finding id (``ack_sla:<incident
id>``), its latest decision and every decision, oldest first.

Fed by the finding events of the ``compliance`` context (those that name a
``finding_id``; the context's control policies are not findings). Whether a decision
is still in force depends on when it is asked, so the findings query decides that
(:mod:`projections.finding_lifecycle`): the fold stays pure.
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document, Lookup
from projections.views.view import Handler, View, existing, fold_of

COLLECTION = "finding_decisions"
CONTEXT = "compliance"


def is_finding_event(event: EventEnvelope) -> bool:
    """Whether ``event`` is a decision on a finding (or its tracking)."""
    return event.context == CONTEXT and isinstance(event.data.get("finding_id"), str)


def _tracked(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    return {
        "id": d["finding_id"], "finding_id": d["finding_id"], "control": d.get("control"),
        "subject_id": d.get("subject_id"), "team_id": d.get("team_id"),
        "decision": None, "decisions": [],
    }


def _decided(kind: str) -> Handler:
    def decide(doc: Document | None, e: EventEnvelope) -> Document:
        finding = existing(doc)
        decision = {
            "kind": kind, "by": e.actor, "at": e.occurred_at, "recorded_at": e.recorded_at,
            "reason": e.data.get("reason"), "until": e.data.get("until"), "event_id": e.id,
        }
        finding["decision"] = decision
        finding["decisions"] = [*finding["decisions"], dict(decision)]
        return finding

    return decide


FINDING_DECISIONS = View(
    collection=COLLECTION,
    context=CONTEXT,
    handlers={
        "FindingTracked": _tracked,
        "FindingWaived": _decided("waived"),
        "FindingRiskAccepted": _decided("risk_accepted"),
        "FindingReopened": _decided("reopened"),
    },
    creating=frozenset({"FindingTracked"}),
    shallow_copies=True,
)


def _route(event: EventEnvelope, lookup: Lookup) -> list[str]:
    return [event.data["finding_id"]] if is_finding_event(event) else []


FOLD = fold_of(FINDING_DECISIONS, _route)
