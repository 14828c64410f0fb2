"""The risks context's entries in the performance timelines (:mod:`.performance_timeline`):
what a member did for the register and its plans, and what the team did.

- a risk identified: the owner's entry (``risk_owned``) and the team's
  (``risk_identified``);
- an acceptance approved: the approver's (``risk_acceptance_approved``) and the team's
  (``risk_accepted``);
- a plan drafted: the owner's (``plan_owned``) and the team's (``plan_drafted``);
- a drill: one entry for every participant and one for the team (``drill``), at the
  time it was held.

Entries have the timeline's shape and ids (``member:<id>:<event id>``,
``team:<id>:<event id>``). A drill names several members, so this fold computes each
document by its id (``Fold.evolve_at``) rather than one member per event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.envelope import EventEnvelope
from projections.fold import Document, Fold, Lookup
from projections.performance_timeline import COLLECTION, told, told_types

CONTEXT = "risks"


@dataclass(frozen=True)
class Entries:
    """What an event of the risks context means for the timelines."""

    summary: str
    team_id: str | None
    team_kind: str
    member_kind: str
    member_ids: tuple[str, ...]
    details: dict[str, Any] = field(default_factory=dict)


Teller = Callable[[EventEnvelope, Lookup], Entries | None]


def _risk_identified(e: EventEnvelope, lookup: Lookup) -> Entries:
    d = e.data
    score = int(d.get("likelihood") or 0) * int(d.get("impact") or 0)
    return Entries(
        f"Risk identified: {d.get('title')} ({d.get('category')}, score {score})",
        d.get("team_id"), "risk_identified", "risk_owned", (str(d.get("owner_id")),),
        {"risk_id": e.subject, "title": d.get("title"), "inherent_score": score},
    )


def _risk_accepted(e: EventEnvelope, lookup: Lookup) -> Entries:
    risk = lookup("risks", e.subject) or {}
    return Entries(
        f"Acceptance of risk '{risk.get('title') or e.subject}' approved: "
        f"{e.data.get('reason')}",
        e.data.get("team_id"), "risk_accepted", "risk_acceptance_approved",
        (str(e.data.get("approver_id")),),
        {"risk_id": e.subject, "owner_id": risk.get("owner_id"),
         "residual_score": risk.get("residual_score")},
    )


def _plan_drafted(e: EventEnvelope, lookup: Lookup) -> Entries:
    d = e.data
    return Entries(
        f"Contingency plan drafted: {d.get('title')} ({len(d.get('steps') or [])} steps)",
        d.get("team_id"), "plan_drafted", "plan_owned", (str(d.get("owner_id")),),
        {"plan_id": e.subject, "title": d.get("title"), "risk_ids": d.get("risk_ids")},
    )


def _plan_exercised(e: EventEnvelope, lookup: Lookup) -> Entries:
    plan = lookup("contingency_plans", e.subject) or {}
    d = e.data
    return Entries(
        f"Drill of '{plan.get('title') or e.subject}' (version {d.get('plan_version')}): "
        f"{d.get('outcome')}",
        d.get("team_id"), "drill", "drill",
        tuple(str(p) for p in d.get("participants") or []),
        {"plan_id": e.subject, "plan_version": d.get("plan_version"),
         "held_at": d.get("held_at"), "outcome": d.get("outcome")},
    )


TELLERS: dict[tuple[str, str], Teller] = {
    (CONTEXT, "RiskIdentified"): _risk_identified,
    (CONTEXT, "RiskAccepted"): _risk_accepted,
    (CONTEXT, "PlanDrafted"): _plan_drafted,
    (CONTEXT, "PlanExercised"): _plan_exercised,
}


def _owners(entries: Entries) -> dict[str, tuple[str, str | None]]:
    """Each entry's owner, with its kind and the member it concerns."""
    owners: dict[str, tuple[str, str | None]] = {
        f"member:{member_id}": (entries.member_kind, member_id)
        for member_id in entries.member_ids if member_id and member_id != "None"}
    if entries.team_id:
        owners[f"team:{entries.team_id}"] = (entries.team_kind, None)
    return owners


def timeline_fold(tellers: dict[tuple[str, str], Teller]) -> Fold:
    """The fold of the timeline entries ``tellers`` tell (also the ``people``
    context's, :mod:`.people_timeline`)."""

    entries_of, entries_told = told(tellers)

    def route(event: EventEnvelope, lookup: Lookup) -> list[str]:
        entries = entries_of(event, lookup)
        return [] if entries is None else [f"{owner}:{event.id}" for owner in _owners(entries)]

    def evolve_at(doc_id: str, doc: Document | None, event: EventEnvelope,
                  lookup: Lookup) -> Document | None:
        entries = entries_told(event, lookup)
        owner = doc_id.removesuffix(f":{event.id}")
        found = None if entries is None else _owners(entries).get(owner)
        if entries is None or found is None:
            return doc
        kind, member_id = found
        return {
            "id": doc_id, "owner": owner, "member_id": member_id, "team_id": entries.team_id,
            "time": event.occurred_at, "position": event.position, "kind": kind,
            "summary": entries.summary, "event_id": event.id, "details": dict(entries.details),
        }

    return Fold(COLLECTION, route, _by_id_only, evolve_at=evolve_at, append_only=True,
                **told_types(tellers))


def _by_id_only(doc: Document | None, event: EventEnvelope, lookup: Lookup) -> Document | None:
    raise TypeError("a timeline fold of several members per event evolves an entry by its "
                    "id (Fold.evolve_at)")


FOLD = timeline_fold(TELLERS)
