"""Which team an event, and so its audit and history records, belongs to.

Team scope (a token naming some teams reads only those teams' records) is decided by
one rule, kept here so the folds and the events feed agree:

- ``teams`` context: the team is the event's subject (the Team aggregate). Every
  event of that context, a member moving between teams included, is on the
  aggregate of the team it concerns (``MemberMovedOut`` on the source team,
  ``MemberMovedIn`` on the destination).
- ``goals``, ``incidents``, ``feedback``: the ``team_id`` of the stream's creating
  event (``GoalSet``, ``IncidentOpened``, ``CustomerFeedbackReceived`` /
  ``PeerFeedbackGiven``); a later event belongs to the team of its entity (none of
  these entities changes team).
- ``compliance``: the ``team_id`` the event names itself (every decision on a finding
  carries its finding's team; a control policy names none, so it is of no team).
- ``risks``: the ``team_id`` the event names itself, too (every event of a risk or a
  contingency plan carries its team: the context has two aggregates, so no one view
  answers for its streams).
- ``people``: likewise (every event of a training or a policy names its team; its
  assignments and acknowledgements are of members of that team).
- ``privacy``: the ``team_id`` an erasure names (the erased member's team; a
  customer's erasure names none, so only a token for all teams sees it).
- anything else (the ``access`` context of API tokens, contexts not known yet): no
  team. Only a token for all teams (``"*"``) sees such records.

Pure: no I/O; ``lookup`` reads the entity views, already up to date with the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.envelope import EventEnvelope
from projections.fold import Lookup
from projections.views import ENTITY_VIEWS

TEAM_CONTEXT = "teams"
SELF_NAMING = frozenset({"compliance", "risks", "people", "privacy"})
"""Contexts whose every event names its own team (``team_id``), if it has one."""


def owned_by_a_team(context: str) -> bool:
    """Whether the events of ``context`` belong to a team."""
    return context in ENTITY_VIEWS or context in SELF_NAMING


def _named_team(data: Mapping[str, Any]) -> str | None:
    team = data.get("team_id")
    return team if isinstance(team, str) and team else None


def team_of_stream(context: str, subject: str, creating_data: Mapping[str, Any]) -> str | None:
    """The team of a stream, given the data of its creating event (version 1)."""
    if context == TEAM_CONTEXT:
        return subject or None
    if not owned_by_a_team(context):
        return None
    return _named_team(creating_data)


def team_of(event: EventEnvelope, lookup: Lookup) -> str | None:
    """The team ``event`` belongs to (None: no team)."""
    if event.context in SELF_NAMING:
        return _named_team(event.data)
    if event.context == TEAM_CONTEXT or event.stream_version <= 1:
        return team_of_stream(event.context, event.subject, event.data)
    view = ENTITY_VIEWS.get(event.context)
    if view is None:
        return None
    entity = lookup(view.collection, event.subject)
    team = entity.get("team_id") if entity else None
    return team if isinstance(team, str) and team else None
