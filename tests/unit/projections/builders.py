"""Events and projections for fold specifications: given these events, then this document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.envelope import EventEnvelope, event_id, wire_type
from projections.engine import DocKey, fold_events
from projections.fold import Document, public
from projections.registry import ALL_FOLDS


def ev(
    context: str, name: str, subject: str, version: int, position: int, time: str, /,
    actor: str = "user:alice", recorded_at: str | None = None, **data: Any,
) -> EventEnvelope:
    """An event as the ledger would publish it (positional-only, so ``name`` etc. can
    also be event data): it happened at ``time``, and was recorded then unless
    ``recorded_at`` says otherwise."""
    return EventEnvelope(
        id=event_id(subject, version), type=wire_type(context, name, 1), context=context,
        name=name, subject=subject, stream_version=version, position=position,
        occurred_at=time, recorded_at=recorded_at or time, actor=actor,
        correlation_id=f"corr-{position}", causation_id=f"cause-{position}",
        schema_version=1, data=data,
    )


class Store:
    """Documents as a store would hold them, fed batch by batch through the engine."""

    def __init__(self) -> None:
        self.docs: dict[DocKey, Document] = {}

    def apply(self, events: Iterable[EventEnvelope]) -> dict[DocKey, Document]:
        changed = fold_events(events, ALL_FOLDS, read=lambda c, i: self.docs.get((c, i)))
        self.docs.update(changed)
        return changed

    def get(self, collection: str, doc_id: str) -> Document | None:
        return public(self.docs.get((collection, doc_id)))

    def all(self, collection: str) -> list[Document]:
        """A collection's documents (without bookkeeping), sorted by id."""
        return [
            public(doc) for (c, _), doc in sorted(self.docs.items()) if c == collection
        ]  # type: ignore[misc]


def project(*events: EventEnvelope) -> Store:
    """A fresh store after one batch of ``events``."""
    store = Store()
    store.apply(events)
    return store


def project_once(*events: EventEnvelope) -> dict[DocKey, Document]:
    """The engine's answer for one batch from nothing, as the brief's fold_events call."""
    return fold_events(events, ALL_FOLDS, read=lambda c, i: None)


# -- a small world --------------------------------------------------------------------

TEAM = "team-1"
ADA = "member-ada"
BOB = "member-bob"
GOAL = "goal-1"
INCIDENT = "incident-1"
FEEDBACK = "feedback-1"


def team_formed(version: int = 1, position: int = 1, time: str = "2026-11-02T09:00:00Z",
                **kw: Any) -> EventEnvelope:
    return ev("teams", "TeamFormed", TEAM, version, position, time,
              name="SRE", mission="Keep it up", **kw)


def joined(member_id: str, name: str, email: str, role: str, version: int, position: int,
           time: str, **kw: Any) -> EventEnvelope:
    return ev("teams", "MemberJoined", TEAM, version, position, time, member_id=member_id,
              name=name, email=email, role=role, responsibilities=["on-call"], **kw)


def a_team() -> list[EventEnvelope]:
    """SRE team with Ada (engineer) and Bob (engineer): team versions 1..3."""
    return [
        team_formed(),
        joined(ADA, "Ada", "ada.l@example.com", "engineer", 2, 2, "2026-11-02T09:05:00Z"),
        joined(BOB, "Bob", "bob@example.com", "engineer", 3, 3, "2026-11-02T09:10:00Z"),
    ]


def reviewed_incident(action_items: list[dict[str, str]],
                      *follow_ups: tuple[str, str, dict[str, Any]]) -> list[EventEnvelope]:
    """A SEV2 opened on 2026-11-27, resolved that day and reviewed on 2026-11-30 with
    ``action_items``, then ``follow_ups`` (name, time, data): versions 1, 2, ..."""
    events = [
        ev("incidents", "IncidentOpened", INCIDENT, 1, 1, "2026-11-27T09:00:00Z",
           team_id=TEAM, severity="SEV2", service="payments-api", summary="5xx"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 2, "2026-11-27T09:05:00Z"),
        ev("incidents", "IncidentResolved", INCIDENT, 3, 3, "2026-11-27T10:00:00Z",
           summary="rolled back", root_cause="bad deploy"),
        ev("incidents", "PostmortemPublished", INCIDENT, 4, 4, "2026-11-30T10:00:00Z",
           causes=["bad deploy"], action_items=action_items),
    ]
    for version, (name, time, data) in enumerate(follow_ups, start=5):
        events.append(ev("incidents", name, INCIDENT, version, version, time, **data))
    return events
