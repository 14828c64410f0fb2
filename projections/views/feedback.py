"""The feedback view: one document per feedback item (customer, peer or manager),
its triage and its resolution."""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.views.view import View, existing, fold_of


def _feedback_doc(e: EventEnvelope, kind: str, channel: str | None) -> Document:
    d = e.data
    return {
        "id": e.subject, "kind": kind, "team_id": d.get("team_id"),
        "subject_member_id": d.get("subject_member_id"), "channel": channel,
        "score": d.get("score"), "text": d.get("text"), "status": "received",
        "priority": None, "owner_id": None, "resolution": None,
        "received_at": e.occurred_at, "triaged_at": None, "resolved_at": None,
    }


def _customer_feedback_received(doc: Document | None, e: EventEnvelope) -> Document:
    feedback = _feedback_doc(e, "customer", e.data.get("channel"))
    feedback["customer"] = e.data.get("customer")
    return feedback


def _peer_feedback_given(doc: Document | None, e: EventEnvelope) -> Document:
    return _feedback_doc(e, e.data.get("kind") or "peer", None)


def _feedback_triaged(doc: Document | None, e: EventEnvelope) -> Document:
    feedback = existing(doc)
    feedback["status"] = "triaged"
    feedback["priority"] = e.data.get("priority")
    feedback["owner_id"] = e.data.get("owner_id")
    feedback["triaged_at"] = e.occurred_at
    return feedback


def _feedback_resolved(doc: Document | None, e: EventEnvelope) -> Document:
    feedback = existing(doc)
    feedback["status"] = "resolved"
    feedback["resolution"] = e.data.get("resolution")
    feedback["resolved_at"] = e.occurred_at
    return feedback


FEEDBACK = View(
    collection="feedback",
    context="feedback",
    handlers={
        "CustomerFeedbackReceived": _customer_feedback_received,
        "PeerFeedbackGiven": _peer_feedback_given,
        "FeedbackTriaged": _feedback_triaged,
        "FeedbackResolved": _feedback_resolved,
    },
    creating=frozenset({"CustomerFeedbackReceived", "PeerFeedbackGiven"}),
    shallow_copies=True,
)


FOLD = fold_of(FEEDBACK)
