"""Trainings: one document per training, the roles it is required for, its validity,
and every assignment of it (``assignments``, in the order they were made: a member
assigned again after a completion expired has one entry per assignment, each with
its completion, if any).

Fed by the trainings' events of the ``people`` context (the context's policies have
their own view, :mod:`.people_policies`): every event of a training is named
``Training...``.
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.views.view import View, existing, fold_of

COLLECTION = "trainings"
CONTEXT = "people"


def _defined(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    return {
        "id": e.subject, "team_id": d.get("team_id"), "title": d.get("title"),
        "required_for_roles": list(d.get("required_for_roles") or []),
        "valid_for_days": d.get("valid_for_days"), "assignments": [],
        "defined_at": e.occurred_at, "defined_by": e.actor,
    }


def _assigned(doc: Document | None, e: EventEnvelope) -> Document:
    training = existing(doc)
    training["assignments"].append({
        "member_id": e.data.get("member_id"), "due": e.data.get("due"),
        "required_for_role": e.data.get("required_for_role"), "assigned_at": e.occurred_at,
        "actor": e.actor, "event_id": e.id, "completed_at": None, "evidence": None,
        "completion_event_id": None,
    })
    return training


def _completed(doc: Document | None, e: EventEnvelope) -> Document:
    training = existing(doc)
    member_id = e.data.get("member_id")
    for assignment in reversed(training["assignments"]):
        if assignment["member_id"] == member_id:
            assignment.update({"completed_at": e.data.get("completed_at"),
                               "evidence": e.data.get("evidence"),
                               "completion_event_id": e.id, "completed_by": e.actor})
            break
    return training


TRAININGS = View(
    collection=COLLECTION,
    context=CONTEXT,
    event_prefix="Training",
    handlers={
        "TrainingDefined": _defined,
        "TrainingAssigned": _assigned,
        "TrainingCompleted": _completed,
    },
    creating=frozenset({"TrainingDefined"}),
)


FOLD = fold_of(TRAININGS)
