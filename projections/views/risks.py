"""The risk register: one document per risk, its inherent and residual ratings and
scores, every assessment (each a review: the date it was due by and the next one's),
the scores it had since it was identified (``scores``), its treatment (and every
earlier one), the approval of its acceptance (and every
approval, also those a later treatment withdrew), and the incidents it foresaw.

Fed by the risks' own events of the ``risks`` context (the context's contingency
plans have their own view, :mod:`.contingency_plans`). Which plans cover a risk is
read from the plans when a risk is asked for: a plan's stream is not ordered against
its risks', so a fold writing it here would race their events.
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.views.view import View, existing, fold_of

COLLECTION = "risks"
CONTEXT = "risks"


def _scored(risk: Document) -> Document:
    risk["inherent_score"] = risk["likelihood"] * risk["impact"]
    risk["residual_score"] = risk["residual_likelihood"] * risk["residual_impact"]
    return risk


def _score_point(risk: Document, e: EventEnvelope) -> Document:
    return {"inherent_score": risk["inherent_score"], "residual_score": risk["residual_score"],
            "at": e.occurred_at, "event_id": e.id}


def _identified(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    risk = _scored({
        "id": e.subject, "team_id": d.get("team_id"), "title": d.get("title"),
        "category": d.get("category"), "owner_id": d.get("owner_id"), "status": "open",
        "likelihood": d.get("likelihood"), "impact": d.get("impact"),
        "residual_likelihood": d.get("likelihood"), "residual_impact": d.get("impact"),
        "review_by": d.get("review_by"), "reviewed_at": None, "assessments": [],
        "treatment": None, "treatments": [], "acceptance": None, "acceptances": [],
        "incidents": [], "identified_at": e.occurred_at, "identified_by": e.actor,
        "closed_at": None, "closing_reason": None, "closing_event_id": None,
    })
    risk["scores"] = [_score_point(risk, e)]
    return risk


def _assessed(doc: Document | None, e: EventEnvelope) -> Document:
    risk = existing(doc)
    d = e.data
    for name in ("likelihood", "impact", "residual_likelihood", "residual_impact"):
        risk[name] = d.get(name)
    _scored(risk)
    # The review this assessment was: the date it was due by, and the next one's.
    risk["assessments"].append({
        "likelihood": d.get("likelihood"), "impact": d.get("impact"),
        "residual_likelihood": d.get("residual_likelihood"),
        "residual_impact": d.get("residual_impact"),
        "inherent_score": risk["inherent_score"], "residual_score": risk["residual_score"],
        "note": d.get("note", ""), "due_by": risk["review_by"],
        "review_by": d.get("review_by"), "at": e.occurred_at, "actor": e.actor,
        "event_id": e.id,
    })
    risk["review_by"] = d.get("review_by")
    risk["reviewed_at"] = e.occurred_at
    risk["scores"].append(_score_point(risk, e))
    return risk


def _treated(doc: Document | None, e: EventEnvelope) -> Document:
    risk = existing(doc)
    treatment = {
        "treatment": e.data.get("treatment"), "plan": e.data.get("plan"),
        "reason": e.data.get("reason"), "at": e.occurred_at, "actor": e.actor,
        "event_id": e.id,
    }
    risk["treatment"] = treatment
    risk["treatments"].append(dict(treatment))
    risk["acceptance"] = None  # a new treatment is a new decision, to approve anew
    risk["status"] = "treated"
    return risk


def _accepted(doc: Document | None, e: EventEnvelope) -> Document:
    risk = existing(doc)
    acceptance = {
        "approver_id": e.data.get("approver_id"), "reason": e.data.get("reason"),
        "at": e.occurred_at, "actor": e.actor, "event_id": e.id,
        # What was accepted: the treatment and the residual score then.
        "treatment_event_id": (risk["treatment"] or {}).get("event_id"),
        "residual_score": risk["residual_score"],
    }
    risk["acceptance"] = acceptance
    risk["acceptances"].append(dict(acceptance))  # every approval, also once withdrawn
    risk["status"] = "accepted"
    return risk


def _closed(doc: Document | None, e: EventEnvelope) -> Document:
    risk = existing(doc)
    risk["status"] = "closed"
    risk["closed_at"] = e.occurred_at
    risk["closing_reason"] = e.data.get("reason")
    risk["closing_event_id"] = e.id
    return risk


def _incident_linked(doc: Document | None, e: EventEnvelope) -> Document:
    risk = existing(doc)
    risk["incidents"].append({
        "incident_id": e.data.get("incident_id"), "plan_id": e.data.get("plan_id"),
        "plan_followed": e.data.get("plan_followed"), "at": e.occurred_at, "actor": e.actor,
        "event_id": e.id,
    })
    return risk


RISKS = View(
    collection=COLLECTION,
    context=CONTEXT,
    event_prefix="Risk",
    handlers={
        "RiskIdentified": _identified,
        "RiskAssessed": _assessed,
        "RiskTreated": _treated,
        "RiskAccepted": _accepted,
        "RiskClosed": _closed,
        "RiskIncidentLinked": _incident_linked,
    },
    creating=frozenset({"RiskIdentified"}),
)


FOLD = fold_of(RISKS)
