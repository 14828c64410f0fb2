"""The goals view: one document per goal, its check-ins, target revisions and
progress towards the target."""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.views.view import Handler, View, existing, fold_of


def progress_pct(
    baseline: float | None, target: float | None, current: float | None
) -> float | None:
    """How far ``current`` is from ``baseline`` towards ``target``, in percent."""
    if current is None or baseline is None or target is None or target == baseline:
        return None
    return round((current - baseline) / (target - baseline) * 100, 1)


def _with_progress(goal: Document) -> Document:
    goal["progress_pct"] = progress_pct(goal["baseline"], goal["target"], goal["current_value"])
    return goal


def _goal_set(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    return {
        "id": e.subject, "team_id": d.get("team_id"), "owner_id": d.get("owner_id"),
        "title": d.get("title"), "metric": d.get("metric"), "baseline": d.get("baseline"),
        "target": d.get("target"), "unit": d.get("unit"), "deadline": d.get("deadline"),
        "status": "open", "current_value": None, "progress_pct": None,
        "check_ins": [], "target_revisions": [], "set_at": e.occurred_at, "closed_at": None,
        "closing_note": None,
    }


def _progress_checked_in(doc: Document | None, e: EventEnvelope) -> Document:
    goal = existing(doc)
    goal["current_value"] = e.data.get("value")
    goal["check_ins"] = [*goal["check_ins"], {
        "value": e.data.get("value"), "note": e.data.get("note", ""), "at": e.occurred_at,
        "actor": e.actor, "event_id": e.id,
    }]
    return _with_progress(goal)


def _target_revised(doc: Document | None, e: EventEnvelope) -> Document:
    goal = existing(doc)
    goal["target"] = e.data.get("new_target")
    goal["target_revisions"] = [*goal["target_revisions"], {
        "old_target": e.data.get("old_target"), "new_target": e.data.get("new_target"),
        "reason": e.data.get("reason"), "at": e.occurred_at, "actor": e.actor, "event_id": e.id,
    }]
    return _with_progress(goal)


def _goal_closed(status: str) -> Handler:
    def close(doc: Document | None, e: EventEnvelope) -> Document:
        goal = existing(doc)
        goal["status"] = status
        goal["closed_at"] = e.occurred_at
        goal["closing_note"] = e.data.get("note")
        return goal

    return close


GOALS = View(
    collection="goals",
    context="goals",
    handlers={
        "GoalSet": _goal_set,
        "ProgressCheckedIn": _progress_checked_in,
        "TargetRevised": _target_revised,
        "GoalAchieved": _goal_closed("achieved"),
        "GoalMissed": _goal_closed("missed"),
        "GoalAbandoned": _goal_closed("abandoned"),
    },
    creating=frozenset({"GoalSet"}),
    shallow_copies=True,
)


FOLD = fold_of(GOALS)
