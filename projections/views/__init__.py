"""Entity views: one document per team, member, goal, incident and feedback item.

Each view is a fold of one context's events, one small function per event name.
``entity_state`` evolves the state of any entity by its context (the team document
for a team): compliance history records it at every version.

A view that holds an aggregate (teams, goals, incidents, feedback) keeps that
aggregate's ``version`` (for ``If-Match``) and the ids of every event applied
(``event_ids``, evidence for compliance findings). An event name the view does not
know changes none of its fields but those two, so a client never sees a stale
version because the domain learnt a new event before the projections did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.envelope import EventEnvelope
from projections.fold import Document, Fold, Lookup, copy_doc, no_lookup

Handler = Callable[[Document | None, EventEnvelope], Document]
"""Next state of a document; it may mutate and return the one it is given."""


class MissingDocumentError(LookupError):
    """An event arrived for a document that an earlier event should have created.

    Raised rather than skipped: a projector must stop and replay, never skip.
    """


def parse_time(value: str) -> datetime:
    """An event time (ISO 8601, ``Z`` or an offset; naive means UTC) as a datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def seconds_between(start: str, end: str) -> float:
    return (parse_time(end) - parse_time(start)).total_seconds()


@dataclass(frozen=True)
class View:
    """The fold of one context's events into one document per entity."""

    collection: str
    context: str
    handlers: Mapping[str, Handler]
    creating: frozenset[str]
    versioned: bool = True

    def evolve(
        self, doc: Document | None, event: EventEnvelope, lookup: Lookup = no_lookup
    ) -> Document | None:
        if event.context != self.context:
            return doc
        handler = self.handlers.get(event.name)
        if handler is None:
            return self._bookkeep(doc, event) if doc is not None else None
        if doc is None and event.name not in self.creating:
            raise MissingDocumentError(
                f"{event.name} (stream version {event.stream_version}) for "
                f"{self.collection} of {event.subject}, which no earlier event created"
            )
        return self._bookkeep(handler(doc, event), event)

    def _bookkeep(self, doc: Document, event: EventEnvelope) -> Document:
        if self.versioned:
            doc["version"] = event.stream_version
            doc["event_ids"] = [*doc.get("event_ids", []), event.id]
        return doc


def _subject_route(context: str) -> Callable[[EventEnvelope, Lookup], list[str]]:
    def route(event: EventEnvelope, lookup: Lookup) -> list[str]:
        return [event.subject] if event.context == context else []

    return route


def _fold(view: View, route: Callable[[EventEnvelope, Lookup], list[str]] | None = None,
          *, shared: bool = False) -> Fold:
    return Fold(view.collection, route or _subject_route(view.context), view.evolve,
                shared=shared)


def _existing(doc: Document | None) -> Document:
    """The document a non-creating handler is given (``View.evolve`` checked it)."""
    if doc is None:  # pragma: no cover - guarded by View.evolve
        raise MissingDocumentError("no document to update")
    return doc


# -- teams ----------------------------------------------------------------------------


def _team_formed(doc: Document | None, e: EventEnvelope) -> Document:
    return {
        "id": e.subject, "name": e.data.get("name"), "mission": e.data.get("mission", ""),
        "lead_id": None, "formed_at": e.time, "roster": [],
    }


def _roster_entry(team: Document, member_id: str) -> dict[str, Any]:
    for entry in team["roster"]:
        if entry["member_id"] == member_id:
            return entry
    raise MissingDocumentError(f"member {member_id} is not on the roster of team {team['id']}")


def _member_joined_team(doc: Document | None, e: EventEnvelope) -> Document:
    team = _existing(doc)
    d = e.data
    team["roster"] = [m for m in team["roster"] if m["member_id"] != d["member_id"]]
    team["roster"].append({
        "member_id": d["member_id"], "name": d.get("name"), "email": d.get("email"),
        "role": d.get("role"), "responsibilities": list(d.get("responsibilities") or []),
        "since": e.time, "active": True, "left_at": None,
    })
    return team


def _role_assigned_in_team(doc: Document | None, e: EventEnvelope) -> Document:
    team = _existing(doc)
    entry = _roster_entry(team, e.data["member_id"])
    entry["role"] = e.data.get("role")
    entry["responsibilities"] = list(e.data.get("responsibilities") or [])
    return team


def _team_lead_changed(doc: Document | None, e: EventEnvelope) -> Document:
    team = _existing(doc)
    team["lead_id"] = e.data["member_id"]
    return team


def _member_left_team(doc: Document | None, e: EventEnvelope) -> Document:
    team = _existing(doc)
    entry = _roster_entry(team, e.data["member_id"])
    entry["active"] = False
    entry["left_at"] = e.time
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


# -- members (fed by the teams context, one document per member id) -------------------
#
# A member moved between teams is fed by two teams' streams, which Kafka does not
# order against each other, so the member document is a merge that any interleaving
# of those streams folds to the same result. Its ``teams`` list holds one tenure per
# join or move-in, keyed by the global position that started it: every team event
# about the member belongs to the latest tenure of its team that started before it,
# and only events of the member's latest tenure change its current fields (team,
# role, lead, active, principal). History entries (``roles``, ``teams``) are kept in
# position order whatever the delivery order.


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
        "team_id": e.subject, "since": e.time, "until": None, "reason": reason,
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
        "role": e.data.get("role"), "since": e.time, "effective_date": None,
        "reason": "joined", "position": e.position,
    })
    return member


def _member_moved_in(doc: Document | None, e: EventEnvelope) -> Document:
    return _start_tenure(doc, e, e.data.get("reason") or "moved")


def _member_moved_out(doc: Document | None, e: EventEnvelope) -> Document:
    member = _existing(doc)
    index = _tenure_of(member, e)
    if index is not None:
        member["teams"][index]["until"] = e.time
    return member


def _member_role_assigned(doc: Document | None, e: EventEnvelope) -> Document:
    member = _existing(doc)
    d = e.data
    if _is_current(member, e):
        member["role"] = d.get("role")
        member["responsibilities"] = list(d.get("responsibilities") or [])
    _insert_by_position(member["roles"], {
        "role": d.get("role"), "since": e.time, "effective_date": d.get("effective_date"),
        "reason": d.get("reason"), "position": e.position,
    })
    return member


def _member_lead_changed(doc: Document | None, e: EventEnvelope) -> Document:
    member = _existing(doc)
    if _is_current(member, e):
        member["is_lead"] = member["id"] == e.data["member_id"]
    return member


def _member_left(doc: Document | None, e: EventEnvelope) -> Document:
    member = _existing(doc)
    index = _tenure_of(member, e)
    if index is not None:
        member["teams"][index]["until"] = e.time
    if _is_current(member, e):
        member["active"] = False
        member["left_at"] = e.time
        member["is_lead"] = False
    return member


def _member_principal_bound(doc: Document | None, e: EventEnvelope) -> Document:
    member = _existing(doc)
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


# -- goals ----------------------------------------------------------------------------


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
        "check_ins": [], "target_revisions": [], "set_at": e.time, "closed_at": None,
        "closing_note": None,
    }


def _progress_checked_in(doc: Document | None, e: EventEnvelope) -> Document:
    goal = _existing(doc)
    goal["current_value"] = e.data.get("value")
    goal["check_ins"].append({
        "value": e.data.get("value"), "note": e.data.get("note", ""), "at": e.time,
        "actor": e.actor, "event_id": e.id,
    })
    return _with_progress(goal)


def _target_revised(doc: Document | None, e: EventEnvelope) -> Document:
    goal = _existing(doc)
    goal["target"] = e.data.get("new_target")
    goal["target_revisions"].append({
        "old_target": e.data.get("old_target"), "new_target": e.data.get("new_target"),
        "reason": e.data.get("reason"), "at": e.time, "actor": e.actor, "event_id": e.id,
    })
    return _with_progress(goal)


def _goal_closed(status: str) -> Handler:
    def close(doc: Document | None, e: EventEnvelope) -> Document:
        goal = _existing(doc)
        goal["status"] = status
        goal["closed_at"] = e.time
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
)


# -- incidents ------------------------------------------------------------------------


def _moment(e: EventEnvelope, **extra: Any) -> dict[str, Any]:
    """An incident timeline entry."""
    return {"at": e.time, "type": e.name, "actor": e.actor, "event_id": e.id, **extra}


def _incident_opened(doc: Document | None, e: EventEnvelope) -> Document:
    d = e.data
    return {
        "id": e.subject, "team_id": d.get("team_id"), "severity": d.get("severity"),
        "service": d.get("service"), "summary": d.get("summary"), "status": "open",
        "opened_at": e.time, "acknowledged_at": None, "mitigated_at": None,
        "resolved_at": None, "closed_at": None, "responders": [], "root_cause": None,
        "postmortem": None, "mtta_seconds": None, "mttr_seconds": None,
        "timeline": [_moment(
            e, summary=d.get("summary"),
            details={"severity": d.get("severity"), "service": d.get("service")},
        )],
    }


def _incident_acknowledged(doc: Document | None, e: EventEnvelope) -> Document:
    incident = _existing(doc)
    incident["status"] = "acknowledged"
    incident["acknowledged_at"] = e.time
    incident["mtta_seconds"] = seconds_between(incident["opened_at"], e.time)
    incident["timeline"].append(_moment(e))
    return incident


def _responder_assigned(doc: Document | None, e: EventEnvelope) -> Document:
    incident = _existing(doc)
    responder = e.data.get("responder_id")
    if responder not in incident["responders"]:
        incident["responders"].append(responder)
    incident["timeline"].append(_moment(e, details={"responder_id": responder}))
    return incident


def _incident_escalated(doc: Document | None, e: EventEnvelope) -> Document:
    incident = _existing(doc)
    incident["severity"] = e.data.get("to_severity")
    incident["timeline"].append(_moment(e, details={
        "from_severity": e.data.get("from_severity"), "to_severity": e.data.get("to_severity"),
        "reason": e.data.get("reason"),
    }))
    return incident


def _timeline_note_added(doc: Document | None, e: EventEnvelope) -> Document:
    incident = _existing(doc)
    incident["timeline"].append(_moment(e, text=e.data.get("text")))
    return incident


def _incident_mitigated(doc: Document | None, e: EventEnvelope) -> Document:
    incident = _existing(doc)
    incident["status"] = "mitigated"
    incident["mitigated_at"] = e.time
    incident["timeline"].append(_moment(e, summary=e.data.get("summary")))
    return incident


def _incident_resolved(doc: Document | None, e: EventEnvelope) -> Document:
    incident = _existing(doc)
    incident["status"] = "resolved"
    incident["resolved_at"] = e.time
    incident["root_cause"] = e.data.get("root_cause")
    incident["mttr_seconds"] = seconds_between(incident["opened_at"], e.time)
    incident["timeline"].append(_moment(
        e, summary=e.data.get("summary"), details={"root_cause": e.data.get("root_cause")}
    ))
    return incident


def _postmortem_published(doc: Document | None, e: EventEnvelope) -> Document:
    incident = _existing(doc)
    incident["postmortem"] = {
        "causes": list(e.data.get("causes") or []),
        "action_items": [dict(item) for item in e.data.get("action_items") or []],
        "published_at": e.time,
    }
    incident["timeline"].append(_moment(e, details={
        "causes": list(e.data.get("causes") or []),
        "action_items": len(e.data.get("action_items") or []),
    }))
    return incident


def _incident_closed(doc: Document | None, e: EventEnvelope) -> Document:
    incident = _existing(doc)
    incident["status"] = "closed"
    incident["closed_at"] = e.time
    incident["timeline"].append(_moment(e))
    return incident


INCIDENTS = View(
    collection="incidents",
    context="incidents",
    handlers={
        "IncidentOpened": _incident_opened,
        "IncidentAcknowledged": _incident_acknowledged,
        "ResponderAssigned": _responder_assigned,
        "IncidentEscalated": _incident_escalated,
        "TimelineNoteAdded": _timeline_note_added,
        "IncidentMitigated": _incident_mitigated,
        "IncidentResolved": _incident_resolved,
        "PostmortemPublished": _postmortem_published,
        "IncidentClosed": _incident_closed,
    },
    creating=frozenset({"IncidentOpened"}),
)


# -- feedback -------------------------------------------------------------------------


def _feedback_doc(e: EventEnvelope, kind: str, channel: str | None) -> Document:
    d = e.data
    return {
        "id": e.subject, "kind": kind, "team_id": d.get("team_id"),
        "subject_member_id": d.get("subject_member_id"), "channel": channel,
        "score": d.get("score"), "text": d.get("text"), "status": "received",
        "priority": None, "owner_id": None, "resolution": None,
        "received_at": e.time, "triaged_at": None, "resolved_at": None,
    }


def _customer_feedback_received(doc: Document | None, e: EventEnvelope) -> Document:
    return _feedback_doc(e, "customer", e.data.get("channel"))


def _peer_feedback_given(doc: Document | None, e: EventEnvelope) -> Document:
    return _feedback_doc(e, e.data.get("kind") or "peer", None)


def _feedback_triaged(doc: Document | None, e: EventEnvelope) -> Document:
    feedback = _existing(doc)
    feedback["status"] = "triaged"
    feedback["priority"] = e.data.get("priority")
    feedback["owner_id"] = e.data.get("owner_id")
    feedback["triaged_at"] = e.time
    return feedback


def _feedback_resolved(doc: Document | None, e: EventEnvelope) -> Document:
    feedback = _existing(doc)
    feedback["status"] = "resolved"
    feedback["resolution"] = e.data.get("resolution")
    feedback["resolved_at"] = e.time
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
)


# -- the folds, and the state of any entity -------------------------------------------

FOLDS: list[Fold] = [
    _fold(TEAMS),
    _fold(MEMBERS, _members_route, shared=True),
    _fold(GOALS),
    _fold(INCIDENTS),
    _fold(FEEDBACK),
]

ENTITY_VIEWS: dict[str, View] = {view.context: view for view in (TEAMS, GOALS, INCIDENTS, FEEDBACK)}
"""The view holding each context's aggregates: the state compliance history records."""


def entity_state(doc: Document | None, event: EventEnvelope) -> Document | None:
    """The state of the entity ``event.subject`` after ``event``, given its state before.

    Pure: ``doc`` is not modified. Events of contexts without entities leave it as is.
    """
    state = copy_doc(doc)
    view = ENTITY_VIEWS.get(event.context)
    if view is None:
        return state
    return view.evolve(state, event)
