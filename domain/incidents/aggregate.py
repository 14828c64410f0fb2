"""An incident and its response: open → acknowledged → mitigated → resolved → closed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, get_args
from uuid import UUID

from domain.aggregate import LedgerAggregate, require, require_not_before, require_reason
from domain.envelope import iso_time
from domain.errors import OutOfOrderError, ValidationError
from domain.incidents.action_items import (
    ITEM_CANCELLED,
    ITEM_DONE,
    ITEM_OPEN,
    ActionItems,
    checked_item,
    postmortem_item_id,
)
from domain.meta import CommandMeta

Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
"""An incident's severity, most severe first."""
SEVERITIES: tuple[str, ...] = get_args(Severity)
NEEDS_POSTMORTEM = frozenset({"SEV1", "SEV2"})

Status = Literal["open", "acknowledged", "mitigated", "resolved", "closed"]
"""Where an incident is in its response, in the order it gets there."""
STATUSES: tuple[str, ...] = get_args(Status)
OPEN, ACKNOWLEDGED, MITIGATED, RESOLVED, CLOSED = STATUSES


def severity_of(value: str) -> str:
    severity = value.strip().upper()
    if severity not in SEVERITIES:
        raise ValidationError(
            f"severity must be one of {', '.join(SEVERITIES)}, got {value!r}"
        )
    return severity


def more_severe(a: str, b: str) -> bool:
    """Whether severity ``a`` is strictly more severe than ``b`` (SEV1 is the most)."""
    return SEVERITIES.index(a) < SEVERITIES.index(b)


class Incident(LedgerAggregate):
    CONTEXT = "incidents"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        team_id: str
        severity: str
        service: str
        summary: str
        status: str
        responders: list[str]
        notes: list[dict[str, Any]]
        escalations: list[dict[str, Any]]
        mitigation: str
        resolution: str
        root_cause: str
        postmortem: dict[str, Any] | None
        opened_at: datetime
        acknowledged_at: datetime | None
        mitigated_at: datetime | None
        resolved_at: datetime | None
        closed_at: datetime | None
        impact_started_at: datetime | None
        duplicate_of: str | None
        action_items: dict[str, dict[str, Any]]

    class IncidentOpened(LedgerAggregate.Created):
        team_id: str
        severity: str
        service: str
        summary: str

        def apply(self, incident: Incident) -> None:
            incident.team_id = self.team_id
            incident.severity = self.severity
            incident.service = self.service
            incident.summary = self.summary
            incident.status = OPEN
            incident.responders = []
            incident.notes = []
            incident.escalations = []
            incident.mitigation = ""
            incident.resolution = ""
            incident.root_cause = ""
            incident.postmortem = None
            incident.opened_at = self.occurred_at
            incident.acknowledged_at = None
            incident.mitigated_at = None
            incident.resolved_at = None
            incident.closed_at = None
            incident.impact_started_at = None
            incident.duplicate_of = None
            incident.action_items = {}

    class IncidentAcknowledged(LedgerAggregate.Event):
        def apply(self, incident: Incident) -> None:
            incident.status = ACKNOWLEDGED
            incident.acknowledged_at = self.occurred_at

    class ResponderAssigned(LedgerAggregate.Event):
        responder_id: str

        def apply(self, incident: Incident) -> None:
            incident.responders.append(self.responder_id)

    class IncidentEscalated(LedgerAggregate.Event):
        from_severity: str
        to_severity: str
        reason: str

        def apply(self, incident: Incident) -> None:
            incident.severity = self.to_severity
            incident.escalations.append({
                "from_severity": self.from_severity, "to_severity": self.to_severity,
                "reason": self.reason, "at": self.occurred_at,
            })

    class TimelineNoteAdded(LedgerAggregate.Event):
        text: str

        def apply(self, incident: Incident) -> None:
            incident.notes.append({"text": self.text, "at": self.occurred_at})

    class IncidentMitigated(LedgerAggregate.Event):
        summary: str

        def apply(self, incident: Incident) -> None:
            incident.status = MITIGATED
            incident.mitigation = self.summary
            incident.mitigated_at = self.occurred_at

    class IncidentResolved(LedgerAggregate.Event):
        summary: str
        root_cause: str

        def apply(self, incident: Incident) -> None:
            incident.status = RESOLVED
            incident.resolution = self.summary
            incident.root_cause = self.root_cause
            incident.resolved_at = self.occurred_at

    class PostmortemPublished(LedgerAggregate.Event):
        causes: list[str]
        action_items: list[dict[str, str]]

        def apply(self, incident: Incident) -> None:
            incident.postmortem = {
                "causes": list(self.causes),
                "action_items": [dict(item) for item in self.action_items],
                "published_at": self.occurred_at,
            }
            for n, item in enumerate(self.action_items, start=1):
                incident.action_items[postmortem_item_id(incident.id, n)] = {
                    **item, "status": ITEM_OPEN}

    class IncidentClosed(LedgerAggregate.Event):
        def apply(self, incident: Incident) -> None:
            incident.status = CLOSED
            incident.closed_at = self.occurred_at

    class ImpactStartRecorded(LedgerAggregate.Event):
        """The impact began at ``started_at``, at or before the opening (the event itself
        happened when it was learnt, often at the review)."""

        started_at: str
        reason: str

        def apply(self, incident: Incident) -> None:
            incident.impact_started_at = datetime.fromisoformat(self.started_at)

    class IncidentReopened(LedgerAggregate.Event):
        reason: str

        def apply(self, incident: Incident) -> None:
            # The first acknowledgement and mitigation stay what they were; the
            # resolution did not hold, so there is none until the next one.
            incident.status = OPEN
            incident.resolved_at = None
            incident.closed_at = None

    class IncidentMarkedDuplicate(LedgerAggregate.Event):
        of_incident_id: str
        reason: str

        def apply(self, incident: Incident) -> None:
            incident.status = CLOSED
            incident.duplicate_of = self.of_incident_id
            incident.closed_at = self.occurred_at

    class ActionItemAdded(LedgerAggregate.Event):
        """An action item added after the postmortem, with its own id."""

        item_id: str
        title: str
        owner_id: str
        due: str

        def apply(self, incident: Incident) -> None:
            incident.action_items[self.item_id] = {
                "title": self.title, "owner_id": self.owner_id, "due": self.due,
                "status": ITEM_OPEN}

    class ActionItemCompleted(LedgerAggregate.Event):
        item_id: str
        note: str
        link: str | None

        def apply(self, incident: Incident) -> None:
            incident.action_items[self.item_id]["status"] = ITEM_DONE

    class ActionItemReassigned(LedgerAggregate.Event):
        item_id: str
        from_owner_id: str
        owner_id: str
        reason: str

        def apply(self, incident: Incident) -> None:
            incident.action_items[self.item_id]["owner_id"] = self.owner_id

    class ActionItemRescheduled(LedgerAggregate.Event):
        """The item's due date moved from ``from_due`` to ``due``."""

        item_id: str
        from_due: str
        due: str
        reason: str

        def apply(self, incident: Incident) -> None:
            incident.action_items[self.item_id]["due"] = self.due

    class ActionItemCancelled(LedgerAggregate.Event):
        item_id: str
        reason: str

        def apply(self, incident: Incident) -> None:
            incident.action_items[self.item_id]["status"] = ITEM_CANCELLED

    def owning_team(self) -> str | None:
        return self.team_id

    # -- commands -------------------------------------------------------------

    @classmethod
    def open(
        cls, incident_id: UUID, team_id: UUID, severity: str, service: str, summary: str,
        meta: CommandMeta,
    ) -> Incident:
        severity = severity_of(severity)
        require(bool(service.strip()), "an incident needs the affected service")
        require(bool(summary.strip()), "an incident needs a summary")
        return cls._start(
            cls.IncidentOpened, incident_id, meta, team_id=str(team_id), severity=severity,
            service=service.strip(), summary=summary.strip(),
        )

    def acknowledge(self, meta: CommandMeta) -> None:
        self._require_not_closed("be acknowledged")
        require(self.status == OPEN,
                f"incident {self.id} is already {self.status}; only an open one is acknowledged")
        require_not_before(meta.business_time, self.opened_at,
                           f"acknowledge incident {self.id}", "it was opened")
        self._record(self.IncidentAcknowledged, meta)

    def assign_responder(self, responder_id: UUID, meta: CommandMeta) -> None:
        self._require_not_closed("get responders")
        require(str(responder_id) not in self.responders,
                f"{responder_id} already responds to incident {self.id}")
        self._record(self.ResponderAssigned, meta, responder_id=str(responder_id))

    def escalate(self, severity: str, reason: str, meta: CommandMeta) -> None:
        self._require_not_closed("be escalated")
        require(self.status in {OPEN, ACKNOWLEDGED, MITIGATED},
                f"incident {self.id} is {self.status} and can't be escalated")
        reason = require_reason(reason, "an escalation")
        severity = severity_of(severity)
        require(more_severe(severity, self.severity),
                f"escalation must raise severity above {self.severity}, got {severity}")
        self._record(
            self.IncidentEscalated, meta, from_severity=self.severity, to_severity=severity,
            reason=reason,
        )

    def add_note(self, text: str, meta: CommandMeta) -> None:
        self._require_not_closed("take notes")
        require(bool(text.strip()), "a timeline note needs text")
        self._record(self.TimelineNoteAdded, meta, text=text.strip())

    def mitigate(self, summary: str, meta: CommandMeta) -> None:
        self._require_not_closed("be mitigated")
        require(self.status != OPEN, f"incident {self.id} must be acknowledged first")
        require(self.status == ACKNOWLEDGED,
                f"incident {self.id} is already {self.status} and can't be mitigated")
        require(bool(summary.strip()), "a mitigation needs a summary")
        require_not_before(meta.business_time, self.acknowledged_at,
                           f"mitigate incident {self.id}", "it was acknowledged")
        self._record(self.IncidentMitigated, meta, summary=summary.strip())

    def resolve(self, summary: str, root_cause: str, meta: CommandMeta) -> None:
        self._require_not_closed("be resolved")
        require(self.status != OPEN, f"incident {self.id} must be acknowledged first")
        require(self.status in {ACKNOWLEDGED, MITIGATED},
                f"incident {self.id} is already {self.status}")
        require(bool(summary.strip()), "a resolution needs a summary")
        require_not_before(meta.business_time, self.acknowledged_at,
                           f"resolve incident {self.id}", "it was acknowledged")
        require_not_before(meta.business_time, self.mitigated_at,
                           f"resolve incident {self.id}", "it was mitigated")
        self._record(
            self.IncidentResolved, meta, summary=summary.strip(), root_cause=root_cause.strip()
        )

    def publish_postmortem(
        self, causes: list[str], action_items: list[dict[str, Any]], meta: CommandMeta,
    ) -> None:
        self._require_not_closed("get a postmortem")
        require(self.status == RESOLVED,
                f"incident {self.id} is {self.status}; a postmortem follows its resolution")
        require(self.postmortem is None,
                f"incident {self.id} already has a published postmortem")
        cleaned = [str(cause).strip() for cause in causes]
        cleaned = [cause for cause in cleaned if cause]
        require(bool(cleaned), "a postmortem needs at least one cause")
        items = [checked_item(item, f"action item {n}")
                 for n, item in enumerate(action_items, start=1)]
        require_not_before(meta.business_time, self.resolved_at,
                           f"publish the postmortem of incident {self.id}", "it was resolved")
        self._record(self.PostmortemPublished, meta, causes=cleaned, action_items=items)

    def close(self, meta: CommandMeta) -> None:
        self._require_not_closed("be closed again")
        require(self.status == RESOLVED,
                f"incident {self.id} is {self.status}; only a resolved incident is closed")
        require(self.severity not in NEEDS_POSTMORTEM or self.postmortem is not None,
                f"a {self.severity} incident needs a published postmortem before it is closed")
        require_not_before(meta.business_time, self.resolved_at,
                           f"close incident {self.id}", "it was resolved")
        self._record(self.IncidentClosed, meta)

    def record_impact_start(self, started_at: datetime, reason: str, meta: CommandMeta) -> None:
        """State when the impact began: at or before the opening (a 409 otherwise), in
        any status, since it is often learnt after the incident is closed."""
        reason = require_reason(reason, "an impact start")
        if started_at.tzinfo is None:
            raise ValidationError("started_at needs an offset (RFC 3339)")
        if started_at > self.opened_at:
            raise OutOfOrderError(
                f"the impact of incident {self.id} can't have started at "
                f"{iso_time(started_at)}, after it was opened at {iso_time(self.opened_at)}; "
                "impact starts at or before the opening",
                started_at=iso_time(started_at), opened_at=iso_time(self.opened_at),
            )
        self._record(self.ImpactStartRecorded, meta, started_at=iso_time(started_at),
                     reason=reason)

    def reopen(self, reason: str, meta: CommandMeta) -> None:
        require(self.duplicate_of is None,
                f"incident {self.id} was closed as a duplicate of {self.duplicate_of}; "
                "the original is the one to reopen")
        require(self.status in {RESOLVED, CLOSED},
                f"incident {self.id} is {self.status}; only a resolved or closed incident "
                "is reopened")
        reason = require_reason(reason, "a reopening")
        self._record(self.IncidentReopened, meta, reason=reason)

    def mark_duplicate(self, original: Incident, reason: str, meta: CommandMeta) -> None:
        """Close this incident as a duplicate of ``original`` (another incident, not
        itself one), whatever its status; its figures are the original's."""
        self._require_not_closed("be closed as a duplicate")
        if original.id == self.id:
            raise ValidationError(f"incident {self.id} can't be a duplicate of itself")
        require(original.duplicate_of is None,
                f"incident {original.id} is itself a duplicate of {original.duplicate_of}; "
                "name that one")
        reason = require_reason(reason, "a duplicate")
        original.require_existed(meta, f"a duplicate of incident {original.id}")
        self._record(self.IncidentMarkedDuplicate, meta, of_incident_id=str(original.id),
                     reason=reason)

    # Follow-ups go on after the close: the incident is over, its lessons are not.

    def add_action_item(self, item_id: UUID, title: str, owner_id: UUID, due: str,
                        meta: CommandMeta) -> None:
        require(self.postmortem is not None,
                f"incident {self.id} has no published postmortem; action items follow it")
        data = self._items().new(item_id, title, owner_id, due, meta)
        self._record(self.ActionItemAdded, meta, **data)

    def complete_action_item(self, item_id: UUID, note: str, link: str | None,
                             meta: CommandMeta) -> None:
        self._record(self.ActionItemCompleted, meta,
                     **self._items().completion(item_id, note, link))

    def reassign_action_item(self, item_id: UUID, owner_id: UUID, reason: str,
                             meta: CommandMeta) -> None:
        self._record(self.ActionItemReassigned, meta,
                     **self._items().reassignment(item_id, owner_id, reason))

    def reschedule_action_item(self, item_id: UUID, due: str, reason: str,
                               meta: CommandMeta) -> None:
        self._record(self.ActionItemRescheduled, meta,
                     **self._items().rescheduling(item_id, due, reason, meta))

    def cancel_action_item(self, item_id: UUID, reason: str, meta: CommandMeta) -> None:
        self._record(self.ActionItemCancelled, meta,
                     **self._items().cancellation(item_id, reason))

    def _items(self) -> ActionItems:
        return ActionItems(self.id, self.action_items)

    def _require_not_closed(self, action: str) -> None:
        require(self.status != CLOSED, f"incident {self.id} is closed and can't {action}")
