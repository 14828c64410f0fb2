"""The teams view: one document per team, its roster and its lead.

Fed by the ``teams`` context (the Team aggregate); a member who leaves or moves out
stays on the roster, inactive, with when they left (and where to, for a move);
joining again replaces their entry.
"""

from __future__ import annotations

from typing import Any

from domain.envelope import EventEnvelope
from projections.fold import Document
from projections.views.view import MissingDocumentError, View, existing, fold_of


def _team_formed(doc: Document | None, e: EventEnvelope) -> Document:
    return {
        "id": e.subject, "name": e.data.get("name"), "mission": e.data.get("mission", ""),
        "lead_id": None, "formed_at": e.occurred_at, "roster": [],
    }


def _roster_entry(team: Document, member_id: str) -> dict[str, Any]:
    roster: list[dict[str, Any]] = team["roster"]
    for entry in roster:
        if entry["member_id"] == member_id:
            return entry
    raise MissingDocumentError(f"member {member_id} is not on the roster of team {team['id']}")


def _member_joined_team(doc: Document | None, e: EventEnvelope) -> Document:
    team = existing(doc)
    d = e.data
    team["roster"] = [m for m in team["roster"] if m["member_id"] != d["member_id"]]
    team["roster"].append({
        "member_id": d["member_id"], "name": d.get("name"), "email": d.get("email"),
        "role": d.get("role"), "responsibilities": list(d.get("responsibilities") or []),
        "since": e.occurred_at, "active": True, "left_at": None,
    })
    return team


def _role_assigned_in_team(doc: Document | None, e: EventEnvelope) -> Document:
    team = existing(doc)
    entry = _roster_entry(team, e.data["member_id"])
    entry["role"] = e.data.get("role")
    entry["responsibilities"] = list(e.data.get("responsibilities") or [])
    return team


def _team_lead_changed(doc: Document | None, e: EventEnvelope) -> Document:
    team = existing(doc)
    team["lead_id"] = e.data["member_id"]
    return team


def _member_left_team(doc: Document | None, e: EventEnvelope) -> Document:
    team = existing(doc)
    entry = _roster_entry(team, e.data["member_id"])
    entry["active"] = False
    entry["left_at"] = e.occurred_at
    if team.get("lead_id") == e.data["member_id"]:
        team["lead_id"] = None
    return team


def _member_moved_out_of_team(doc: Document | None, e: EventEnvelope) -> Document:
    team = _member_left_team(doc, e)
    _roster_entry(team, e.data["member_id"])["moved_to_team_id"] = e.data.get("to_team_id")
    return team


def _member_moved_into_team(doc: Document | None, e: EventEnvelope) -> Document:
    team = _member_joined_team(doc, e)
    _roster_entry(team, e.data["member_id"])["moved_from_team_id"] = e.data.get("from_team_id")
    return team


TEAMS = View(
    collection="teams",
    context="teams",
    handlers={
        "TeamFormed": _team_formed,
        "MemberJoined": _member_joined_team,
        "RoleAssigned": _role_assigned_in_team,
        "TeamLeadChanged": _team_lead_changed,
        "MemberLeft": _member_left_team,
        "MemberMovedOut": _member_moved_out_of_team,
        "MemberMovedIn": _member_moved_into_team,
    },
    creating=frozenset({"TeamFormed"}),
)


FOLD = fold_of(TEAMS)
