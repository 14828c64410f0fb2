"""Entity views: one document per team, member, goal, incident and feedback item.

One module per context, as in ``domain/<context>/``: :mod:`.teams` and
:mod:`.members` (both fed by the teams context), :mod:`.goals`, :mod:`.incidents`,
:mod:`.feedback`, :mod:`.access` (API tokens), :mod:`.policies` (the controls'
policies, in the ``compliance`` context), and :mod:`.risks` and
:mod:`.contingency_plans` (the two aggregates of the ``risks`` context), and
:mod:`.trainings` and :mod:`.people_policies` (the two of the ``people`` context).
Each view is a fold of one context's events, one small function per event name
(:class:`View`, in :mod:`.view`).

``entity_state`` evolves the state of any entity by its context (the team document
for a team): compliance history records it at every version. A decision on a finding
(:mod:`.finding_decisions`) is an entity's change too: the entity is the finding
(``entity_of``: its finding id, not the aggregate's uuid), its state the decisions.
"""

from __future__ import annotations

from domain.envelope import EventEnvelope
from projections.fold import Document, Fold, copy_doc
from projections.views import (
    contingency_plans,
    feedback,
    finding_decisions,
    goals,
    incidents,
    legal_holds,
    members,
    people_policies,
    policies,
    risks,
    teams,
    trainings,
)
from projections.views.view import Handler, MissingDocumentError, View

__all__ = ["ENTITY_VIEWS", "FOLDS", "Handler", "MissingDocumentError", "View", "entity_of",
           "entity_state", "may_have_a_view", "state_in", "view_of", "view_of_type"]

FOLDS: list[Fold] = [teams.FOLD, members.FOLD, goals.FOLD, incidents.FOLD, feedback.FOLD]
"""The entity views' folds, the documents later folds look up. The tokens view
(:data:`.access.FOLD`) and the control policies' (:data:`.policies.FOLD`) are
registered on their own: no other fold reads them, and they belong to no team."""

ENTITY_VIEWS: dict[str, View] = {
    view.context: view
    for view in (teams.TEAMS, goals.GOALS, incidents.INCIDENTS, feedback.FEEDBACK)
}
"""The view holding each context's aggregates: the state compliance history records."""

SHARED_CONTEXT_VIEWS: tuple[View, ...] = (
    risks.RISKS, contingency_plans.PLANS, trainings.TRAININGS, people_policies.POLICIES,
    policies.POLICIES, legal_holds.LEGAL_HOLDS)
"""The views of contexts with several aggregates, each holding the events named after its
aggregate (:attr:`View.event_prefix`)."""


def view_of(event: EventEnvelope) -> View | None:
    """The view holding the entity ``event`` changes (None: no entity's): its
    context's entity view; for the ``compliance`` context, whose two aggregates have
    two views, the finding decisions' or the control policies' (no team owns a policy,
    so its history is for readers of every team); for the ``risks`` context, the risks'
    or the contingency plans'; for the ``people`` context, the trainings' or the
    policies'."""
    if finding_decisions.is_finding_event(event):
        return finding_decisions.FINDING_DECISIONS
    return view_of_type(event.context, event.name)


_VIEW_OF_TYPE: dict[tuple[str, str], View | None] = {}


def view_of_type(context: str, name: str) -> View | None:
    """The view holding the entity an event of this type changes, unless the event is a
    decision on a finding (which its data tells, :func:`view_of`): found once per type."""
    key = (context, name)
    if key in _VIEW_OF_TYPE:
        return _VIEW_OF_TYPE[key]
    found = next((v for v in SHARED_CONTEXT_VIEWS
                  if v.context == context and name.startswith(v.event_prefix)),
                 ENTITY_VIEWS.get(context))
    if len(_VIEW_OF_TYPE) < _MAX_TYPES:  # bounded: event types are few, names untrusted
        _VIEW_OF_TYPE[key] = found
    return found


_MAX_TYPES = 4096


def may_have_a_view(context: str, name: str) -> bool:
    """Whether some event of this type may change an entity of a view."""
    return context == finding_decisions.CONTEXT or view_of_type(context, name) is not None


def entity_of(event: EventEnvelope) -> str:
    """The id of the entity ``event`` changes, as compliance history names it: its
    aggregate, or for a decision on a finding, the finding (``ack_sla:<incident id>``),
    so an auditor asks for a finding's history by the id the findings answer."""
    if finding_decisions.is_finding_event(event):
        return str(event.data["finding_id"])
    return event.subject


def entity_state(doc: Document | None, event: EventEnvelope) -> Document | None:
    """The state of the entity :func:`entity_of` ``event`` after ``event``, given its
    state before.

    Pure: ``doc`` is not modified. Events of contexts without entities leave it as is.
    """
    return state_in(view_of(event), doc, event)


def state_in(view: View | None, doc: Document | None, event: EventEnvelope) -> Document | None:
    """:func:`entity_state`, given ``view_of(event)``."""
    if view is None:
        state: Document | None = copy_doc(doc)
        return state
    return view.evolve(view.copied(doc), event)
