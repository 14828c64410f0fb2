"""A team's roster as it stood at a business time: who was on it, in which role.

Membership (joins, leaves, moves, the lead) is the team's state at its latest history
version that had happened by then (:mod:`projections.compliance_history`). Roles follow
their ``effective_date``: a role change recorded on the 20th effective the 1st counts
from the 1st, one effective the 30th not before then. So each member's role at E is
read from the team's audit-trail records, not from the state, which applied the change
when it was recorded.

Dates are UTC days. A change effective the day it happened counts from when it
happened, not from midnight: the domain defaults ``effective_date`` to that day, and a
change made at 15:00 did not hold at 10:00.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from projections.fold import Document, copy_doc
from projections.times import parse_time

_STARTS = frozenset({"MemberJoined", "MemberMovedIn"})
"""The events that start a member's time on the team, and give its first role."""


def _effective(record: Document, tenure_start: datetime) -> datetime:
    """From when a role change counts: its ``effective_date`` (a UTC day), but never
    before the member's time on the team began."""
    happened = parse_time(str(record["time"]))
    text = (record.get("data") or {}).get("effective_date")
    if not text:  # events stored before the field: from when it happened
        return happened
    day = date.fromisoformat(str(text))
    start = happened if day == happened.date() else datetime(day.year, day.month, day.day,
                                                              tzinfo=UTC)
    return max(start, tenure_start)


def roles_in_force(audit: Iterable[Document], effective_at: str) -> dict[str, dict[str, Any]]:
    """Each member's role (and its responsibilities) in force at ``effective_at``: of
    the role changes of its time on the team then, the one counting from the latest
    moment by then (ties: the later recorded).

    ``audit`` is the team's audit-trail records in position order.
    """
    moment = parse_time(effective_at)
    tenure_start: dict[str, datetime] = {}
    held: dict[str, tuple[datetime, int, dict[str, Any]]] = {}
    later_tenure: set[str] = set()
    for record in audit:
        data = record.get("data") or {}
        member_id = data.get("member_id")
        if not isinstance(member_id, str) or member_id in later_tenure:
            continue
        name = record.get("name")
        position = int(record["position"])
        if name in _STARTS:
            started = parse_time(str(record["time"]))
            if started > moment:  # a later time on the team: its changes do not count
                later_tenure.add(member_id)
                continue
            tenure_start[member_id] = started
            held[member_id] = (started, position, data)
        elif name == "RoleAssigned" and member_id in held:
            counts_from = _effective(record, tenure_start[member_id])
            if counts_from <= moment and (counts_from, position) >= held[member_id][:2]:
                held[member_id] = (counts_from, position, data)
    return {m: {"role": d.get("role"), "responsibilities": list(d.get("responsibilities") or [])}
            for m, (_, _, d) in held.items()}


def team_at(history: Iterable[Document], audit: Iterable[Document],
            effective_at: str) -> Document | None:
    """The team document (roster, lead, version) in force at ``effective_at``, with
    each member in the role that held then; None if the team had not been formed.

    ``history`` is the team's history records sorted by version, ``audit`` its
    audit-trail records in position order.
    """
    moment = parse_time(effective_at)
    state = None
    for record in history:
        if parse_time(str(record["time"])) <= moment:
            state = record.get("state")
    if state is None:
        return None
    team: Document = copy_doc(state)
    roles = roles_in_force(audit, effective_at)
    for entry in team.get("roster") or []:
        entry.update(roles.get(entry["member_id"], {}))
    return team
