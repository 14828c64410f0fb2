"""The members view: one document per member id, fed by the ``teams`` context.

A member moved between teams is fed by two teams' streams, which are not ordered
against each other (each stream is, on its own), so the member document is a merge
that any interleaving of those streams folds to the same result. Its ``teams`` list
holds one tenure per join or move-in, keyed by the global position that started it:
every team event about the member belongs to the latest tenure of its team that
started before it, and only events of the member's latest tenure change its current
fields (team, role, lead, active, principal). History entries (``roles``, ``teams``)
are kept in position order whatever the delivery order.
"""

from __future__ import annotations

from typing import Any

from domain.envelope import EventEnvelope
from projections.fold import Document, Lookup
from projections.views.view import View, existing, fold_of


def _tenures(member: Document) -> list[dict[str, Any]]:
    """The member's tenures; a document made before tenures were kept has one."""
    if "teams" not in member:
        member["teams"] = [{
            "team_id": member.get("team_id"), "since": member.get("since"),
            "until": member.get("left_at"), "reason": "joined", "position": 0,
        }]
    return member["teams"]  # type: ignore[no-any-return]


def _insert_by_position(entries: list[dict[str, Any]], entry: dict[str, Any]) -> int:
    """Insert ``entry`` in position order; returns its index."""
    at = len(entries)
    while at > 0 and entries[at - 1].get("position", 0) > entry["position"]:
        at -= 1
    entries.insert(at, entry)
    return at


def _tenure_of(member: Document, e: EventEnvelope) -> int | None:
    """The index of the tenure event ``e`` (of team ``e.subject``) belongs to."""
    found = None
    for i, tenure in enumerate(_tenures(member)):
        if tenure["team_id"] == e.subject and tenure.get("position", 0) < e.position:
            found = i
    return found


def _is_current(member: Document, e: EventEnvelope) -> bool:
    index = _tenure_of(member, e)
    return index is not None and index == len(_tenures(member)) - 1


def _start_tenure(doc: Document | None, e: EventEnvelope, reason: str) -> Document:
    """A join or a move-in: a new tenure, and the current fields if it is the latest."""
    d = e.data
    member = doc if doc is not None else {"id": d["member_id"], "roles": [], "teams": []}
    tenures = _tenures(member)
    at = _insert_by_position(tenures, {
        "team_id": e.subject, "since": e.occurred_at, "until": None, "reason": reason,
        "position": e.position,
    })
    if at == len(tenures) - 1:
        member.update({
            "team_id": e.subject, "name": d.get("name"), "email": d.get("email"),
            "role": d.get("role"), "responsibilities": list(d.get("responsibilities") or []),
            "active": True, "left_at": None, "is_lead": False,
        })
        member.pop("principal", None)
        if d.get("principal"):  # only when one is bound (events before the field: none)
            member["principal"] = d["principal"]
    member["since"] = tenures[0]["since"]
    return member


def _member_joined(doc: Document | None, e: EventEnvelope) -> Document:
    member = _start_tenure(doc, e, "joined")
    _insert_by_position(member["roles"], {
        "role": e.data.get("role"), "since": e.occurred_at, "effective_date": None,
        "reason": "joined", "position": e.position,
    })
    return member


def _member_moved_in(doc: Document | None, e: EventEnvelope) -> Document:
    return _start_tenure(doc, e, e.data.get("reason") or "moved")


def _member_moved_out(doc: Document | None, e: EventEnvelope) -> Document:
    member = existing(doc)
    index = _tenure_of(member, e)
    if index is not None:
        member["teams"][index]["until"] = e.occurred_at
    return member


def _member_role_assigned(doc: Document | None, e: EventEnvelope) -> Document:
    member = existing(doc)
    d = e.data
    if _is_current(member, e):
        member["role"] = d.get("role")
        member["responsibilities"] = list(d.get("responsibilities") or [])
    _insert_by_position(member["roles"], {
        "role": d.get("role"), "since": e.occurred_at, "effective_date": d.get("effective_date"),
        "reason": d.get("reason"), "position": e.position,
    })
    return member


def _member_lead_changed(doc: Document | None, e: EventEnvelope) -> Document:
    member = existing(doc)
    if _is_current(member, e):
        member["is_lead"] = member["id"] == e.data["member_id"]
    return member


def _member_left(doc: Document | None, e: EventEnvelope) -> Document:
    member = existing(doc)
    index = _tenure_of(member, e)
    if index is not None:
        member["teams"][index]["until"] = e.occurred_at
    if _is_current(member, e):
        member["active"] = False
        member["left_at"] = e.occurred_at
        member["is_lead"] = False
    return member


def _member_principal_bound(doc: Document | None, e: EventEnvelope) -> Document:
    member = existing(doc)
    if _is_current(member, e):
        member["principal"] = e.data.get("principal")
    return member


MEMBERS = View(
    collection="members",
    context="teams",
    handlers={
        "MemberJoined": _member_joined,
        "RoleAssigned": _member_role_assigned,
        "TeamLeadChanged": _member_lead_changed,
        "MemberLeft": _member_left,
        "MemberMovedOut": _member_moved_out,
        "MemberMovedIn": _member_moved_in,
        "PrincipalBound": _member_principal_bound,
    },
    creating=frozenset({"MemberJoined", "MemberMovedIn"}),
    versioned=False,
)


def _members_route(event: EventEnvelope, lookup: Lookup) -> list[str]:
    """The member an event concerns; a lead change also concerns the previous lead."""
    if event.context != "teams" or not event.data.get("member_id"):
        return []
    ids = [event.data["member_id"]]
    previous = event.data.get("previous_lead_id")
    if event.name == "TeamLeadChanged" and previous and previous not in ids:
        ids.append(previous)
    return ids


FOLD = fold_of(MEMBERS, _members_route, shared=True)
