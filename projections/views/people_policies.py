"""A team's policies: one document per policy, its version in force
(``current_version``, ``document``, ``sha256``) and every version (``versions``: when
each was published and superseded, and each member's acknowledgement of it).

Fed by the policies' events of the ``people`` context (every one named
``Policy...``). Not the controls' policies (:mod:`.policies`, ``control_policies``):
these are the documents a team asks its members to read and accept.
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.views.view import View, existing, fold_of

COLLECTION = "policies"
CONTEXT = "people"


def _version(e: EventEnvelope) -> Document:
    d = e.data
    return {"version": d.get("version"), "document": d.get("document"),
            "sha256": d.get("sha256"), "published_at": e.occurred_at, "actor": e.actor,
            "event_id": e.id, "supersedes": d.get("supersedes"), "superseded_at": None,
            "acknowledgements": []}


def _current(policy: Document, version: Document) -> Document:
    # ``current_version``: the document's ``version`` is the aggregate's (If-Match).
    policy["current_version"] = version["version"]
    for name in ("document", "sha256", "published_at"):
        policy[name] = version[name]
    return policy


def _published(doc: Document | None, e: EventEnvelope) -> Document:
    version = _version(e)
    return _current({"id": e.subject, "team_id": e.data.get("team_id"),
                     "title": e.data.get("title"), "versions": [version],
                     "first_published_at": e.occurred_at}, version)


def _version_published(doc: Document | None, e: EventEnvelope) -> Document:
    policy = existing(doc)
    for earlier in policy["versions"]:
        if earlier["superseded_at"] is None:
            earlier["superseded_at"] = e.occurred_at
    version = _version(e)
    policy["versions"].append(version)
    return _current(policy, version)


def _acknowledged(doc: Document | None, e: EventEnvelope) -> Document:
    policy = existing(doc)
    for version in policy["versions"]:
        if version["version"] == e.data.get("version"):
            version["acknowledgements"].append({
                "member_id": e.data.get("member_id"), "at": e.occurred_at, "actor": e.actor,
                "event_id": e.id})
    return policy


POLICIES = View(
    collection=COLLECTION,
    context=CONTEXT,
    event_prefix="Policy",
    handlers={
        "PolicyPublished": _published,
        "PolicyVersionPublished": _version_published,
        "PolicyAcknowledged": _acknowledged,
    },
    creating=frozenset({"PolicyPublished"}),
)


FOLD = fold_of(POLICIES)
