"""Performance timeline: a dated stream of what each member and each team did.

Entries are keyed by owner and event id (``member:<id>:<event id>``,
``team:<id>:<event id>``), so a redelivered event rewrites nothing. An event makes
at most one member entry (the member it concerns) and one team entry, both from one
story of the event, each computed by its id (``Fold.evolve_at``).

A team's per-period figures are :mod:`projections.team_metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from domain.envelope import EventEnvelope
from projections.fold import Document, Fold, Lookup

COLLECTION = "timeline"

KINDS = (
    "check_in", "goal_set", "goal_closed", "incident_responder", "incident_opened",
    "incident_resolved", "feedback_received", "feedback_about", "role_changed", "joined",
    "left", "lead_changed", "review", "moved", "moved_out", "moved_in",
)


_NO_DETAILS: Mapping[str, Any] = MappingProxyType({})


class Story(NamedTuple):
    """What an event means for the timelines: who it concerns, under which kind.

    A named tuple, not a frozen dataclass: one is made per event a timeline folds,
    twice per batch (the projector's prefetch routes it too), and a frozen dataclass
    sets each field through ``object.__setattr__`` (twice the cost)."""

    summary: str
    team_id: str | None
    team_kind: str | None = None
    member_id: str | None = None
    member_kind: str | None = None
    details: Mapping[str, Any] = _NO_DETAILS


Teller = Callable[[EventEnvelope, Lookup], Story | None]
T = TypeVar("T")


def _num(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _member_name(lookup: Lookup, member_id: str) -> str:
    member = lookup("members", member_id)
    return (member or {}).get("name") or member_id


def _scored(text: str, score: Any) -> str:
    return text if score is None else f"{text} (score {score})"


# -- teams ----------------------------------------------------------------------------


def _joined(e: EventEnvelope, lookup: Lookup) -> Story:
    d = e.data
    return Story(
        f"{d.get('name') or d['member_id']} joined as {d.get('role')}", e.subject,
        "joined", d["member_id"], "joined",
        {"role": d.get("role"), "responsibilities": d.get("responsibilities") or []},
    )


def _role_changed(e: EventEnvelope, lookup: Lookup) -> Story:
    d = e.data
    name = _member_name(lookup, d["member_id"])
    return Story(
        f"{name}'s role changed from {d.get('previous_role')} to {d.get('role')}: "
        f"{d.get('reason')}",
        e.subject, "role_changed", d["member_id"], "role_changed",
        {key: d.get(key) for key in (
            "role", "previous_role", "responsibilities", "effective_date", "reason"
        )},
    )


def _lead_changed(e: EventEnvelope, lookup: Lookup) -> Story:
    d = e.data
    return Story(
        f"{_member_name(lookup, d['member_id'])} became team lead: {d.get('reason')}",
        e.subject, "lead_changed", d["member_id"], "lead_changed",
        {"previous_lead_id": d.get("previous_lead_id"), "reason": d.get("reason")},
    )


def _left(e: EventEnvelope, lookup: Lookup) -> Story:
    d = e.data
    return Story(
        f"{_member_name(lookup, d['member_id'])} left the team: {d.get('reason')}",
        e.subject, "left", d["member_id"], "left", {"reason": d.get("reason")},
    )


def _moved_out(e: EventEnvelope, lookup: Lookup) -> Story:
    d = e.data
    return Story(
        f"{_member_name(lookup, d['member_id'])} moved to team {d.get('to_team_id')}: "
        f"{d.get('reason')}",
        e.subject, "moved_out",
        details={"member_id": d["member_id"], "to_team_id": d.get("to_team_id"),
                 "reason": d.get("reason")},
    )


def _moved_in(e: EventEnvelope, lookup: Lookup) -> Story:
    # The member's one entry for a move: the event carries the name, and it is the
    # destination's (the member's timeline is read by its current team).
    d = e.data
    return Story(
        f"{d.get('name') or d['member_id']} moved from team {d.get('from_team_id')}: "
        f"{d.get('reason')}",
        e.subject, "moved_in", d["member_id"], "moved",
        {"from_team_id": d.get("from_team_id"), "role": d.get("role"),
         "reason": d.get("reason")},
    )


# -- goals ----------------------------------------------------------------------------


def _goal_set(e: EventEnvelope, lookup: Lookup) -> Story:
    d = e.data
    return Story(
        f"Goal set: {d.get('title')} ({d.get('metric')} from {_num(d.get('baseline'))} to "
        f"{_num(d.get('target'))} {d.get('unit')} by {d.get('deadline')})",
        d.get("team_id"), "goal_set", d.get("owner_id"), "goal_set",
        {"goal_id": e.subject, "title": d.get("title"), "deadline": d.get("deadline")},
    )


def _checked_in(e: EventEnvelope, lookup: Lookup) -> Story | None:
    goal = lookup("goals", e.subject)
    if goal is None:
        return None
    value, pct = e.data.get("value"), goal.get("progress_pct")
    progress = "" if pct is None else f", {_num(pct)}% of the way"
    return Story(
        f"Checked in {_num(value)} {goal.get('unit')} on '{goal.get('title')}'{progress}",
        goal.get("team_id"), "check_in", goal.get("owner_id"), "check_in",
        {"goal_id": e.subject, "value": value, "note": e.data.get("note", ""),
         "progress_pct": pct},
    )


def _goal_closed(outcome: str) -> Teller:
    def tell(e: EventEnvelope, lookup: Lookup) -> Story | None:
        goal = lookup("goals", e.subject)
        if goal is None:
            return None
        return Story(
            f"Goal '{goal.get('title')}' {outcome}", goal.get("team_id"), "goal_closed",
            goal.get("owner_id"), "goal_closed",
            {"goal_id": e.subject, "outcome": outcome, "note": e.data.get("note"),
             "progress_pct": goal.get("progress_pct")},
        )

    return tell


# -- incidents ------------------------------------------------------------------------


def _incident_opened(e: EventEnvelope, lookup: Lookup) -> Story:
    d = e.data
    return Story(
        f"{d.get('severity')} incident opened on {d.get('service')}: {d.get('summary')}",
        d.get("team_id"), "incident_opened",
        details={"incident_id": e.subject, "severity": d.get("severity"),
                 "service": d.get("service")},
    )


def _responder_assigned(e: EventEnvelope, lookup: Lookup) -> Story | None:
    incident = lookup("incidents", e.subject)
    if incident is None:
        return None
    responder = e.data.get("responder_id")
    return Story(
        # Not the responder's name: that lives in another aggregate's stream, which
        # Kafka does not order against this one (the entry would depend on delivery).
        f"responding to {incident.get('severity')} "
        f"incident on {incident.get('service')}: {incident.get('summary')}",
        incident.get("team_id"), "incident_responder", responder, "incident_responder",
        {"incident_id": e.subject, "severity": incident.get("severity"),
         "service": incident.get("service")},
    )


def _incident_resolved(e: EventEnvelope, lookup: Lookup) -> Story | None:
    incident = lookup("incidents", e.subject)
    if incident is None:
        return None
    return Story(
        f"{incident.get('severity')} incident on {incident.get('service')} resolved: "
        f"{e.data.get('summary')}",
        incident.get("team_id"), "incident_resolved",
        details={"incident_id": e.subject, "severity": incident.get("severity"),
                 "root_cause": e.data.get("root_cause"),
                 "mttr_seconds": incident.get("mttr_seconds")},
    )


# -- feedback -------------------------------------------------------------------------


def _customer_feedback(e: EventEnvelope, lookup: Lookup) -> Story:
    d = e.data
    subject = d.get("subject_member_id")
    return Story(
        _scored(f"Customer feedback via {d.get('channel')}", d.get("score")),
        d.get("team_id"), "feedback_received", subject,
        "feedback_about" if subject else None,
        {"feedback_id": e.subject, "kind": "customer", "score": d.get("score"),
         "channel": d.get("channel")},
    )


def _peer_feedback(e: EventEnvelope, lookup: Lookup) -> Story:
    d = e.data
    kind = d.get("kind") or "peer"
    label = "Manager review" if kind == "manager" else "Peer feedback"
    return Story(
        _scored(label, d.get("score")), d.get("team_id"), "feedback_received",
        d.get("subject_member_id"), "review" if kind == "manager" else "feedback_about",
        {"feedback_id": e.subject, "kind": kind, "score": d.get("score")},
    )


TELLERS: dict[tuple[str, str], Teller] = {
    ("teams", "MemberJoined"): _joined,
    ("teams", "RoleAssigned"): _role_changed,
    ("teams", "TeamLeadChanged"): _lead_changed,
    ("teams", "MemberLeft"): _left,
    ("teams", "MemberMovedOut"): _moved_out,
    ("teams", "MemberMovedIn"): _moved_in,
    ("goals", "GoalSet"): _goal_set,
    ("goals", "ProgressCheckedIn"): _checked_in,
    ("goals", "GoalAchieved"): _goal_closed("achieved"),
    ("goals", "GoalMissed"): _goal_closed("missed"),
    ("goals", "GoalAbandoned"): _goal_closed("abandoned"),
    ("incidents", "IncidentOpened"): _incident_opened,
    ("incidents", "ResponderAssigned"): _responder_assigned,
    ("incidents", "IncidentResolved"): _incident_resolved,
    ("feedback", "CustomerFeedbackReceived"): _customer_feedback,
    ("feedback", "PeerFeedbackGiven"): _peer_feedback,
}


def story_of(event: EventEnvelope, lookup: Lookup) -> Story | None:
    teller = TELLERS.get((event.context, event.name))
    return teller(event, lookup) if teller is not None else None


# -- the two folds --------------------------------------------------------------------


def _entry(
    story: Story, event: EventEnvelope, owner: str, kind: str
) -> Document:
    return {
        "id": f"{owner}:{event.id}", "owner": owner, "member_id": story.member_id,
        "team_id": story.team_id, "time": event.occurred_at, "position": event.position,
        "kind": kind, "summary": story.summary, "event_id": event.id,
        "details": dict(story.details),
    }


def _member_owner(story: Story | None) -> tuple[str, str] | None:
    if story is None or not story.member_id or not story.member_kind:
        return None
    return f"member:{story.member_id}", story.member_kind


def _team_owner(story: Story | None) -> tuple[str, str] | None:
    if story is None or not story.team_id or not story.team_kind:
        return None
    return f"team:{story.team_id}", story.team_kind


Tell = Callable[[EventEnvelope, Lookup], T | None]


def told(tellers: Mapping[tuple[str, str], Tell[T]]) -> tuple[Tell[T], Tell[T]]:
    """What ``tellers`` tell of an event, as two functions: the first works it out (a
    fold's route), the second answers what the first last worked out for the same
    event and lookup (the evolve of each document the route named: the engine asks
    them right after the route, with the same lookup, and a timeline fold never looks
    up its own documents, so the answer cannot have changed), else works it out too.
    One tuple, replaced whole, so a fold on another thread never sees half of another
    event's."""
    last: list[tuple[object, object, T | None]] = [(None, None, None)]

    def tell(event: EventEnvelope, lookup: Lookup) -> T | None:
        teller = tellers.get((event.context, event.name))
        answer = teller(event, lookup) if teller is not None else None
        last[0] = (event, lookup, answer)
        return answer

    def recall(event: EventEnvelope, lookup: Lookup) -> T | None:
        seen = last[0]
        if seen[0] is event and seen[1] is lookup:
            return seen[2]
        return tell(event, lookup)

    return tell, recall


def told_types(tellers: Mapping[tuple[str, str], object]) -> dict[str, Any]:
    """A timeline fold's ``contexts`` and ``accepts``: the types ``tellers`` tell."""
    types = frozenset(tellers)
    return {"contexts": frozenset(context for context, _ in types),
            "accepts": lambda context, name: (context, name) in types}


def _owners(story: Story | None) -> list[tuple[str, str]]:
    """The entries ``story`` makes: the member's, then the team's (owner, kind)."""
    return [owner for owner in (_member_owner(story), _team_owner(story)) if owner is not None]


_Routed = tuple[object, object, "Story | None", dict[str, tuple[str, str]]]
_routed: list[_Routed] = [(None, None, None, {})]
"""The last event routed, with its lookup, story and entries (id: owner and kind): the
engine evolves each entry right after the route, with the same lookup, and a timeline
fold never looks up its own documents, so they cannot have changed. One tuple,
replaced whole, so a fold on another thread never sees half of another event's."""


def _routed_entries(event: EventEnvelope, lookup: Lookup) -> _Routed:
    story = story_of(event, lookup)
    entries = {f"{owner}:{event.id}": (owner, kind) for owner, kind in _owners(story)}
    routed = _routed[0] = (event, lookup, story, entries)
    return routed


def _route(event: EventEnvelope, lookup: Lookup) -> list[str]:
    return list(_routed_entries(event, lookup)[3])


def _evolve_at(doc_id: str, doc: Document | None, event: EventEnvelope,
               lookup: Lookup) -> Document | None:
    routed = _routed[0]
    if routed[0] is not event or routed[1] is not lookup:
        routed = _routed_entries(event, lookup)
    story, found = routed[2], routed[3].get(doc_id)
    if story is None or found is None:
        return doc
    return _entry(story, event, *found)


def _by_id_only(doc: Document | None, event: EventEnvelope, lookup: Lookup) -> Document | None:
    raise TypeError("the timeline fold evolves an entry by its id (Fold.evolve_at)")


FOLDS: list[Fold] = [Fold(COLLECTION, _route, _by_id_only, evolve_at=_evolve_at,
                          append_only=True, **told_types(TELLERS))]
"""One fold for both kinds of owner: an event's member entry and its team entry, each
computed by its id (``Fold.evolve_at``) from one story."""
