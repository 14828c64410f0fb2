"""Contingency plans: one document per plan, its steps now and every version of them,
every drill, and the incidents it was used for.

Fed by the plans' events of the ``risks`` context. ``version`` is the aggregate's (for
``If-Match``); the plan's own versions are ``plan_version`` and ``versions`` (1 is the
draft, each revision adds one, none is ever dropped).
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.views.view import View, existing, fold_of

COLLECTION = "contingency_plans"
CONTEXT = "risks"


def _steps(e: EventEnvelope) -> list[Document]:
    return [dict(step) for step in e.data.get("steps") or []]


def _drafted(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    return {
        "id": e.subject, "team_id": d.get("team_id"), "title": d.get("title"),
        "risk_ids": list(d.get("risk_ids") or []), "owner_id": d.get("owner_id"),
        "plan_version": 1, "steps": _steps(e),
        "versions": [{"plan_version": 1, "steps": _steps(e), "reason": None,
                      "at": e.occurred_at, "actor": e.actor, "event_id": e.id}],
        "exercises": [], "last_exercised_at": None, "incidents": [],
        "drafted_at": e.occurred_at,
    }


def _revised(doc: Document | None, e: EventEnvelope) -> Document:
    plan = existing(doc)
    plan["plan_version"] = e.data.get("plan_version")
    plan["steps"] = _steps(e)
    plan["versions"].append({
        "plan_version": e.data.get("plan_version"), "steps": _steps(e),
        "reason": e.data.get("reason"), "at": e.occurred_at, "actor": e.actor,
        "event_id": e.id,
    })
    return plan


def _exercised(doc: Document | None, e: EventEnvelope) -> Document:
    plan = existing(doc)
    d = e.data
    plan["exercises"].append({
        "held_at": d.get("held_at"), "plan_version": d.get("plan_version"),
        "participants": list(d.get("participants") or []), "outcome": d.get("outcome"),
        "lessons": d.get("lessons", ""), "actor": e.actor, "recorded_at": e.recorded_at,
        "event_id": e.id,
    })
    plan["last_exercised_at"] = max(str(x["held_at"]) for x in plan["exercises"])
    return plan


def _incident_linked(doc: Document | None, e: EventEnvelope) -> Document:
    plan = existing(doc)
    plan["incidents"].append({
        "incident_id": e.data.get("incident_id"), "risk_id": e.data.get("risk_id"),
        "plan_followed": e.data.get("plan_followed"), "at": e.occurred_at, "actor": e.actor,
        "event_id": e.id,
    })
    return plan


PLANS = View(
    collection=COLLECTION,
    context=CONTEXT,
    event_prefix="Plan",
    handlers={
        "PlanDrafted": _drafted,
        "PlanRevised": _revised,
        "PlanExercised": _exercised,
        "PlanIncidentLinked": _incident_linked,
    },
    creating=frozenset({"PlanDrafted"}),
)


FOLD = fold_of(PLANS)
