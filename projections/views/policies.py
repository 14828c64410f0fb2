"""The control policies view: one document per control whose policy gained a version.

Each document lists the versions added through the API (version 1, the settings', is
never an event and is not stored here): the thresholds, from when they apply, who
decided and why, and when the ledger recorded it. Controls only the settings govern
have no document. :class:`projections.control_policies.Policies` reads these.
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.views.view import View, existing, fold_of

COLLECTION = "control_policies"
CONTEXT = "compliance"


def _version(e: EventEnvelope) -> Document:
    d = e.data
    return {
        "version": d.get("policy_version"), "thresholds": dict(d.get("thresholds") or {}),
        "effective_from": d.get("effective_from"), "by": e.actor,
        "recorded_at": e.recorded_at, "occurred_at": e.occurred_at,
        "reason": d.get("reason"), "event_id": e.id,
        "import_run_id": e.import_run_id or None,
    }


def _created(doc: Document | None, e: EventEnvelope) -> Document:
    return {"id": e.subject, "control": e.data.get("control"), "versions": [_version(e)]}


def _revised(doc: Document | None, e: EventEnvelope) -> Document:
    policy = existing(doc)
    policy["versions"] = [*policy.get("versions", []), _version(e)]
    return policy


POLICIES = View(
    collection=COLLECTION,
    context=CONTEXT,
    event_prefix="ControlPolicy",
    handlers={"ControlPolicyCreated": _created, "ControlPolicyRevised": _revised},
    creating=frozenset({"ControlPolicyCreated"}),
    shallow_copies=True,
)



FOLD = fold_of(POLICIES)
