"""Compliance controls: findings computed from the read models, with evidence.

``evaluate`` is pure: given the documents and a clock reading it names every breach,
open (still breached) or resolved (put right, but late). Finding ids are stable, so
an auditor can follow one finding across evaluations.

Controls:

- ``ack_sla``: a SEV1/SEV2 incident not acknowledged within its SLA. The clock of a
  severity starts when the incident got it (opening or escalation); the earliest
  deadline of the severities it had before its acknowledgement applies.
- ``postmortem_overdue``: a SEV1/SEV2 incident without a postmortem published within
  N working days (Mon-Fri, same time of day) of its resolution.
- ``action_item_overdue``: a postmortem action item whose due date passed while it
  was open (id ``action_item_overdue:<incident>:<item id>``). It resolves when the
  item is completed or cancelled, late by then; a due date moved after it had passed
  is evidence on the finding (``late_due_changes``), never a reset.
- ``target_revised_after_deadline``: a goal whose target was revised after the day
  of its deadline.
- ``self_role_change``: segregation of duties; a role assigned by the member who
  receives it (``user:<x>`` where x is the member's email, its local part, or name).
- ``backdated_entry``: an event recorded more than the backdate tolerance (minutes)
  after it happened, outside an import run (a declared backfill); its evidence is
  the event, both its times and its actor. Nothing can put it right: it stays open.

The risks context's controls (``risk_review_overdue``, ``high_risk_untreated``,
``plan_not_exercised``, ``risk_accepted_by_owner``) are :mod:`.risk_controls`, with
the same finding shape; the API calls both.

Thresholds have a history (:class:`~projections.control_policies.Policies`): a fact is
judged by the version of its control's policy in force when it happened (business
time), so a later change never re-judges it. ``ack_sla`` takes the version in force
when the incident got each severity, ``postmortem_overdue`` the one at the
resolution, ``backdated_entry`` the one when the event happened. A summary names the
version when it is not the settings' (version 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from projections.control_policies import Policies, PolicyVersion, Thresholds, as_policies
from projections.fold import Document
from projections.times import parse_time
from projections.views.action_items import items_of

__all__ = ["Policies", "Thresholds", "evaluate"]  # the policies' types, re-exported

Finding = dict[str, Any]


NEEDS_POSTMORTEM = frozenset({"SEV1", "SEV2"})


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def add_working_days(moment: datetime, days: int) -> datetime:
    """``moment`` moved ``days`` working days (Mon-Fri) later, at the same time of day."""
    result, counted = moment, 0
    while counted < days:
        result += timedelta(days=1)
        if result.weekday() < 5:
            counted += 1
    return result


def _finding(
    control: str, subject_id: str, team_id: str | None, *, opened_at: str,
    resolved_at: str | None, summary: str, evidence: Iterable[str | None],
    severity: str | None = None, breached_by_seconds: float | None = None,
    extra: str | None = None,
) -> Finding:
    return {
        "id": f"{control}:{subject_id}" + (f":{extra}" if extra else ""),
        "control": control,
        "subject_id": subject_id,
        "team_id": team_id,
        "status": "open" if resolved_at is None else "resolved",
        "opened_at": opened_at,
        "resolved_at": resolved_at,
        "summary": summary,
        "evidence_event_ids": [event_id for event_id in evidence if event_id],
        "severity": severity,
        "breached_by_seconds": breached_by_seconds,
    }


def _moments(incident: Document, *types: str) -> list[dict[str, Any]]:
    return [m for m in incident.get("timeline") or [] if m.get("type") in types]


# -- incidents ------------------------------------------------------------------------


def _severity_changes(incident: Document) -> list[tuple[str, datetime, str | None]]:
    """(severity, since, event id) for the opening and every escalation."""
    changes: list[tuple[str, datetime, str | None]] = []
    for moment in _moments(incident, "IncidentOpened", "IncidentEscalated"):
        details = moment.get("details") or {}
        severity = details.get("severity") or details.get("to_severity")
        changes.append((str(severity), parse_time(moment["at"]), moment.get("event_id")))
    if not changes:
        changes.append((str(incident.get("severity")), parse_time(incident["opened_at"]), None))
    return changes


def _under(version: PolicyVersion) -> str:
    """How a summary names the policy version that judged, when not the settings'."""
    return "" if version.effective_from is None else f" (policy version {version.version})"


def ack_sla(incident: Document, now: datetime, policies: Policies) -> list[Finding]:
    acked = incident.get("acknowledged_at")
    # A page closed as a duplicate before anyone acknowledged it needs no
    # acknowledgement of its own (its original does): the wait ends at that close.
    as_duplicate = not acked and bool(incident.get("duplicate_of"))
    if as_duplicate:
        acked = incident.get("closed_at")
    acked_at = parse_time(acked) if acked else None
    # (due, severity, evidence, minutes, the policy version that set them)
    deadline: tuple[datetime, str, list[str | None], int, PolicyVersion] | None = None
    evidence: list[str | None] = []
    for severity, since, event_id in _severity_changes(incident):
        if acked_at is not None and since > acked_at:
            break
        evidence.append(event_id)
        # The SLA in force when the incident got this severity, whatever it is now.
        version = policies.version_at("ack_sla", since)
        minutes = policies.thresholds_at("ack_sla", since).ack_minutes(severity)
        if minutes is None:
            continue
        due = since + timedelta(minutes=minutes)
        if deadline is None or due < deadline[0]:
            deadline = (due, severity, list(evidence), minutes, version)
    if deadline is None:
        return []
    due, severity, evidence, limit, version = deadline
    end = acked_at or now
    if end <= due:
        return []
    if acked_at is not None:
        ending = (_moments(incident, "IncidentMarkedDuplicate") if as_duplicate
                  else _moments(incident, "IncidentAcknowledged"))
        evidence += [m.get("event_id") for m in ending]
    late_minutes = round((end - due).total_seconds() / 60)
    state = f"acknowledged {late_minutes} min late" if acked_at else "not acknowledged"
    if as_duplicate and acked_at is not None:
        state = f"closed as a duplicate {late_minutes} min late, never acknowledged"
    return [_finding(
        "ack_sla", incident["id"], incident.get("team_id"), opened_at=iso(due),
        resolved_at=acked, severity=severity,
        breached_by_seconds=(end - due).total_seconds(), evidence=evidence,
        summary=f"{severity} incident on {incident.get('service')} {state}; "
                f"the SLA is {limit} minutes{_under(version)}",
    )]


def postmortem_overdue(incident: Document, now: datetime, policies: Policies) -> list[Finding]:
    resolved = incident.get("resolved_at")
    severity = incident.get("severity")
    if not resolved or severity not in NEEDS_POSTMORTEM:
        return []
    resolved_at = parse_time(resolved)
    version = policies.version_at("postmortem_overdue", resolved_at)
    days = policies.thresholds_at("postmortem_overdue", resolved_at).postmortem_working_days
    due = add_working_days(resolved_at, days)
    postmortem = incident.get("postmortem")
    published = postmortem.get("published_at") if postmortem else None
    end = parse_time(published) if published else now
    if end <= due:
        return []
    evidence = [m.get("event_id") for m in _moments(
        incident, "IncidentResolved", "PostmortemPublished"
    )]
    state = "published late" if published else "missing"
    return [_finding(
        "postmortem_overdue", incident["id"], incident.get("team_id"), opened_at=iso(due),
        resolved_at=published, severity=severity,
        breached_by_seconds=(end - due).total_seconds(), evidence=evidence,
        summary=f"Postmortem of {severity} incident on {incident.get('service')} {state}; "
                f"due {days} working days after resolution{_under(version)}",
    )]


def _deadline(due: object) -> datetime | None:
    """When an item due on ``due`` (a date) becomes overdue: the next day, UTC."""
    try:
        day = date.fromisoformat(str(due)[:10])
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)


def _first_breach(item: Document, end: datetime) -> tuple[datetime, str] | None:
    """(deadline, due date) of the first due date that passed while it was in force."""
    moves = item.get("due_history") or []
    dues = [moves[0].get("from_due") if moves else item.get("due"),
            *(move.get("due") for move in moves)]
    untils = [*(parse_time(move["at"]) for move in moves), end]
    for due, until in zip(dues, untils, strict=True):
        deadline = _deadline(due)
        if deadline is not None and deadline < until:
            return deadline, str(due)
    return None


def action_item_overdue(incident: Document, item: Document, now: datetime) -> Finding | None:
    """An item past its due date: open until it is completed or cancelled (then
    resolved, late). A due date moved after it had passed is evidence, not a reset."""
    closed = item.get("completed_at") or item.get("cancelled_at")
    end = parse_time(closed) if closed else now
    breach = _first_breach(item, end)
    if breach is None:
        return None
    deadline, due = breach
    late_moves = [move for move in item.get("due_history") or []
                  if parse_time(move["at"]) >= deadline]
    event_ids = item.get("event_ids") or []
    state = "still open"
    if closed:
        state = f"{'completed' if item.get('completed_at') else 'cancelled'} on {closed[:10]}"
    moved = "".join(
        f"; its due date was moved from {move.get('from_due')} to {move.get('due')} on "
        f"{str(move.get('at'))[:10]} (event {move.get('event_id')}), after it had passed"
        for move in late_moves)
    finding = _finding(
        "action_item_overdue", incident["id"], incident.get("team_id"),
        opened_at=iso(deadline), resolved_at=closed, severity=incident.get("severity"),
        # Known once it is put right; while open it would change with every reading.
        breached_by_seconds=(end - deadline).total_seconds() if closed else None,
        extra=str(item.get("id")),
        evidence=[event_ids[0] if event_ids else None,
                  *(move.get("event_id") for move in late_moves),
                  event_ids[-1] if closed and len(event_ids) > 1 else None],
        summary=f"Action item '{item.get('title')}' (owner {item.get('owner_id')}) was due "
                f"{due}; {state}{moved}",
    )
    return {**finding, "item_id": item.get("id"), "late_due_changes": [
        {k: move.get(k) for k in ("event_id", "from_due", "due", "at", "reason", "actor")}
        for move in late_moves]}


def action_items_overdue(incident: Document, now: datetime) -> list[Finding]:
    found = (action_item_overdue(incident, item, now) for item in items_of(incident))
    return [finding for finding in found if finding is not None]


# -- goals ----------------------------------------------------------------------------


def target_revised_after_deadline(goal: Document) -> list[Finding]:
    try:
        deadline = date.fromisoformat(str(goal.get("deadline"))[:10])
    except ValueError:
        return []
    late = [
        revision for revision in goal.get("target_revisions") or []
        if parse_time(revision["at"]).astimezone(UTC).date() > deadline
    ]
    if not late:
        return []
    first_event = (goal.get("event_ids") or [None])[0]
    return [_finding(
        "target_revised_after_deadline", goal["id"], goal.get("team_id"),
        opened_at=late[0]["at"], resolved_at=None,
        evidence=[first_event, *(revision.get("event_id") for revision in late)],
        summary=f"Target of goal '{goal.get('title')}' revised "
                f"{len(late)} time(s) after its deadline {deadline.isoformat()}",
    )]


# -- teams ----------------------------------------------------------------------------


def is_own_principal(actor: str, member: Document) -> bool:
    """Whether principal ``actor`` (``user:<x>``) is ``member``: the principal bound to
    the member when there is one (named on the join or bound later, by an admin
    only, and carried along when the member moves); else a match of ``<x>`` with the
    member's email, its local part or the name (members never bound to a principal)."""
    if member.get("principal"):
        return actor == str(member["principal"])
    kind, _, name = actor.partition(":")
    if kind != "user" or not name:
        return False
    name = name.strip().lower()
    email = (member.get("email") or "").strip().lower()
    local_part = email.split("@", 1)[0]
    member_name = (member.get("name") or "").strip().lower()
    return name in {email, local_part, member_name} - {""}


def self_role_changes(
    role_changes: Iterable[Document], members: dict[str, Document]
) -> list[Finding]:
    findings = []
    for record in role_changes:
        member_id = (record.get("data") or {}).get("member_id")
        member = members.get(member_id or "")
        if member_id is None or member is None or not is_own_principal(
                record.get("actor") or "", member):
            continue
        role = record["data"].get("role")
        findings.append(_finding(
            "self_role_change", member_id, record.get("entity_id"),
            opened_at=record["time"], resolved_at=None, evidence=[record["id"]],
            extra=record["id"],
            summary=f"{record.get('actor')} assigned the role {role} to themselves "
                    f"({member.get('name')})",
        ))
    return findings


# -- late entries ---------------------------------------------------------------------


def backdated_entries(records: Iterable[Document], policies: Policies) -> list[Finding]:
    """Audit records (``recorded_late`` ones suffice) of events recorded more than the
    tolerance in force when they happened after they happened, outside an import run."""
    findings = []
    for record in records:
        recorded = record.get("recorded_at")
        if not recorded or record.get("import_run_id"):
            continue
        happened = parse_time(record["time"])
        version = policies.version_at("backdated_entry", happened)
        minutes = policies.thresholds_at("backdated_entry", happened).backdate_tolerance_minutes
        tolerance = timedelta(minutes=minutes)
        late = parse_time(recorded) - happened
        if late <= tolerance:
            continue
        actor = record.get("actor")
        finding = _finding(
            "backdated_entry", record["entity_id"], record.get("team_id"),
            opened_at=recorded, resolved_at=None, evidence=[record["id"]],
            extra=record["id"], breached_by_seconds=(late - tolerance).total_seconds(),
            summary=f"{record.get('name')} of {record.get('context')} entity "
                    f"{record['entity_id']} happened at {record['time']} and was recorded "
                    f"by {actor} at {recorded}, {round(late.total_seconds() / 60)} min "
                    f"later, outside an import run; the tolerance is "
                    f"{minutes} minutes{_under(version)}",
        )
        findings.append({**finding, "occurred_at": record["time"], "recorded_at": recorded,
                         "actor": actor})
    return findings


# -- all of them ----------------------------------------------------------------------


def evaluate(
    incidents: Iterable[Document], goals: Iterable[Document],
    role_changes: Iterable[Document], members: Iterable[Document], now_iso: str,
    policies: Policies | Thresholds | None = None, late_records: Iterable[Document] = (),
) -> list[Finding]:
    """Every finding of every control as of ``now_iso``, oldest first, each fact judged
    by the policy version in force when it happened (``policies``: the history; one
    :class:`Thresholds` or None stand for the settings' version alone). ``late_records``
    are the audit records the ``backdated_entry`` control looks at."""
    history = as_policies(policies)
    now = parse_time(now_iso)
    findings: list[Finding] = []
    for incident in incidents:
        findings += ack_sla(incident, now, history)
        findings += postmortem_overdue(incident, now, history)
        findings += action_items_overdue(incident, now)
    for goal in goals:
        findings += target_revised_after_deadline(goal)
    findings += self_role_changes(role_changes, {m["id"]: m for m in members})
    findings += backdated_entries(late_records, history)
    return sorted(findings, key=lambda f: (parse_time(f["opened_at"]), f["id"]))
