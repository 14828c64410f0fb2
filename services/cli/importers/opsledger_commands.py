"""The named commands of the ``opsledger`` import format, each mapped to its route.

A line names its command (``incident.open``) and the entities it touches by the
source's own ids, as *references* at the top of the line (``"incident": "INC-42"``).
Each reference goes into the route's path or into one field of the body, as an
OpsLedger id (:func:`services.cli.importers.plan.entity_id`); everything else of the
body is sent as it is. ``docs/IMPORT.md`` documents this table for users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REFERENCE_KINDS = {
    "team": "team", "to_team": "team",
    "member": "member", "owner": "member", "responder": "member", "subject": "member",
    "goal": "goal", "incident": "incident", "of_incident": "incident", "feedback": "feedback",
    "action_item": "action_item",
}
"""Every reference a line may carry, and the kind of entity it names (two references
of one kind name the same entity when they carry the same source id)."""

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Command:
    """A route (always ``POST``), the references in its path, and those in its body
    (reference -> body field). Path references are required; body ones are required
    unless listed in ``optional``."""

    path: str
    body_refs: dict[str, str] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()
    by_place: bool = False
    """The ``action_item`` reference may be given as ``postmortem_item`` instead."""

    @property
    def path_refs(self) -> list[str]:
        return _PLACEHOLDER.findall(self.path)

    @property
    def refs(self) -> set[str]:
        return {*self.path_refs, *self.body_refs}

    @property
    def required(self) -> set[str]:
        return self.refs - self.optional


_MEMBER = "/v1/teams/{team}/members/{member}"
_INCIDENT = "/v1/incidents/{incident}"
_ITEM = "/v1/incidents/{incident}/action-items/{action_item}"

COMMANDS: dict[str, Command] = {
    # teams and members
    "team.form": Command("/v1/teams", {"team": "team_id"}),
    "team.lead": Command("/v1/teams/{team}/lead", {"member": "member_id"}),
    "member.join": Command("/v1/teams/{team}/members", {"member": "member_id"}),
    "member.role": Command(f"{_MEMBER}/role"),
    "member.leave": Command(f"{_MEMBER}/leave"),
    "member.move": Command(f"{_MEMBER}/move", {"to_team": "to_team_id"}),
    "member.principal": Command("/v1/members/{member}/principal"),
    # goals
    "goal.set": Command("/v1/goals", {"goal": "goal_id", "team": "team_id",
                                      "owner": "owner_id"}),
    "goal.check_in": Command("/v1/goals/{goal}/check-ins"),
    "goal.target": Command("/v1/goals/{goal}/target"),
    "goal.close": Command("/v1/goals/{goal}/close"),
    # incidents
    "incident.open": Command("/v1/incidents", {"incident": "incident_id", "team": "team_id"}),
    "incident.acknowledge": Command(f"{_INCIDENT}/acknowledge"),
    "incident.assign": Command(f"{_INCIDENT}/assign", {"responder": "responder_id"}),
    "incident.escalate": Command(f"{_INCIDENT}/escalate"),
    "incident.note": Command(f"{_INCIDENT}/notes"),
    "incident.mitigate": Command(f"{_INCIDENT}/mitigate"),
    "incident.resolve": Command(f"{_INCIDENT}/resolve"),
    "incident.postmortem": Command(f"{_INCIDENT}/postmortem"),
    "incident.close": Command(f"{_INCIDENT}/close"),
    "incident.impact": Command(f"{_INCIDENT}/impact"),
    "incident.reopen": Command(f"{_INCIDENT}/reopen"),
    "incident.duplicate": Command(f"{_INCIDENT}/duplicate", {"of_incident": "of_incident_id"}),
    # a postmortem's follow-ups
    "action_item.add": Command(f"{_INCIDENT}/action-items", {"action_item": "item_id",
                                                             "owner": "owner_id"}),
    "action_item.complete": Command(f"{_ITEM}/complete", by_place=True),
    "action_item.reassign": Command(f"{_ITEM}/reassign", {"owner": "owner_id"}, by_place=True),
    "action_item.due": Command(f"{_ITEM}/due", by_place=True),
    "action_item.cancel": Command(f"{_ITEM}/cancel", by_place=True),
    # feedback
    "feedback.give": Command("/v1/feedback", {"feedback": "feedback_id", "team": "team_id",
                                              "subject": "subject_member_id"},
                             optional=frozenset({"subject"})),
    "feedback.triage": Command("/v1/feedback/{feedback}/triage", {"owner": "owner_id"}),
    "feedback.resolve": Command("/v1/feedback/{feedback}/resolve"),
}

ACTION_ITEM_OWNER = ("action_items", "owner", "owner_id")
"""Inside ``incident.postmortem``'s body, each action item names its ``owner`` by source
id too; it is sent as ``owner_id``."""
POSTMORTEM_ITEM = "postmortem_item"
"""An item published with the postmortem has no source id of its own in OpsLedger: a
follow-up names it by its place in the postmortem's ``action_items`` (from 1), and
is sent to the id OpsLedger derives from the incident and that place."""
