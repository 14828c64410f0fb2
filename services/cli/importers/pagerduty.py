"""Mapping a PagerDuty incident, with its log entries, to OpsLedger's incident commands.

The file holds the ``incidents`` array that PagerDuty's REST API v2 answers for
``GET /incidents``, each incident with the ``log_entries`` that
``GET /incidents/{id}/log_entries`` answers for it, and optionally the ``users``
array of ``GET /users`` (their emails). The mapping, documented in docs/IMPORT.md:

- the ``trigger_log_entry`` (else the incident's ``created_at``) opens the incident;
- the first ``acknowledge_log_entry`` acknowledges it;
- each ``assign_log_entry`` assigns its ``assignees`` who are OpsLedger members by
  email; the others are listed as unknown people, never invented;
- each ``annotate_log_entry`` is a timeline note;
- the ``resolve_log_entry`` resolves it (an incident resolved without an
  acknowledgement is acknowledged at the same moment: OpsLedger needs one first);
- every other log entry type is counted as not mapped.

Each command happens at its log entry's ``created_at``. Pure: the directory of
OpsLedger teams and members is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.cli.importers.plan import (
    Request,
    Unit,
    UnknownPerson,
    entity_id,
    idempotency_key,
    utc_time,
)

SOURCE = "pagerduty"
MAX_LOG_ENTRIES = 10_000
_PRIORITY = re.compile(r"^\s*(?:P|SEV)[-\s]?([0-9])\s*$", re.IGNORECASE)
URGENCY_SEVERITY = {"high": "SEV2", "low": "SEV3"}
"""Without a P1-P5 priority, an incident's urgency sets its severity."""
_ORDER = {"trigger_log_entry": 0, "assign_log_entry": 1, "acknowledge_log_entry": 2,
          "annotate_log_entry": 3, "resolve_log_entry": 4}
"""Log entries of one second apply in the order they can have happened."""
_CREATED = "created"
"""The key part of an opening without a trigger log entry (from ``created_at``)."""


@dataclass(frozen=True)
class Directory:
    """What the mapping needs to know of OpsLedger and of the file's users."""

    team_id: str | None = None
    """``--team-id``: every incident goes to this team."""
    teams_by_name: dict[str, list[str]] = field(default_factory=dict)
    """OpsLedger team ids by :func:`team_name_key` of their names."""
    members_by_email: dict[str, str] = field(default_factory=dict)
    """OpsLedger member ids by lower-cased email."""
    emails_by_user: dict[str, str] = field(default_factory=dict)
    """PagerDuty user id -> email, from the file's ``users`` array."""


class Malformed(ValueError):
    """Why an incident is refused before anything of it is sent."""


def team_name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def severity_of(incident: dict[str, Any]) -> str:
    """P1 -> SEV1, P2 -> SEV2, P3 -> SEV3, P4 and P5 -> SEV4 (also ``SEV-2`` style
    names); without such a priority, urgency ``high`` -> SEV2, ``low`` -> SEV3."""
    priority = incident.get("priority")
    if isinstance(priority, dict):
        for name in (priority.get("name"), priority.get("summary")):
            match = _PRIORITY.match(name) if isinstance(name, str) else None
            if match:
                return f"SEV{min(max(int(match.group(1)), 1), 4)}"
    urgency = incident.get("urgency")
    if urgency in URGENCY_SEVERITY:
        return URGENCY_SEVERITY[str(urgency)]
    raise Malformed("no priority (P1-P5) and no urgency (high or low) to take a severity from")


def _label(value: Any) -> str:
    """A PagerDuty object's name: ``name`` for full objects, ``summary`` for references."""
    if isinstance(value, dict):
        for key in ("name", "summary"):
            text = value.get(key)
            if isinstance(text, str) and text.strip():
                return text.strip()
    return ""


def team_of(incident: dict[str, Any], directory: Directory) -> str:
    if directory.team_id:
        return directory.team_id
    teams = incident.get("teams") or []
    names = [_label(t) for t in teams if _label(t)] if isinstance(teams, list) else []
    if not names:
        raise Malformed("it names no PagerDuty team: pass --team-id")
    for name in names:
        found = directory.teams_by_name.get(team_name_key(name), [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise Malformed(f"{len(found)} OpsLedger teams are named {name!r}: pass --team-id")
    listed = ", ".join(repr(n) for n in names)
    raise Malformed(f"no OpsLedger team is named {listed}: form it, or pass --team-id")


def where_of(index: int, incident: Any) -> str:
    if isinstance(incident, dict) and isinstance(incident.get("id"), str) and incident["id"]:
        number = incident.get("incident_number")
        return f"incident {incident['id']}" + (f" (#{number})" if isinstance(number, int)
                                               else "")
    return f"incident #{index} of the file"


def map_incident(index: int, incident: Any, directory: Directory) -> Unit:
    """The incident's commands in the order they happened, or its refusal."""
    where = where_of(index, incident)
    try:
        return _Mapping(where, incident, directory).run()
    except Malformed as e:
        return Unit.refused(where, str(e))


class _Mapping:
    def __init__(self, where: str, incident: Any, directory: Directory) -> None:
        if not isinstance(incident, dict):
            raise Malformed("not a JSON object")
        pd_id = incident.get("id")
        if not isinstance(pd_id, str) or not pd_id.strip():
            raise Malformed("no id")
        self.where, self.incident, self.directory, self.pd_id = where, incident, directory, pd_id
        self.incident_id = entity_id(SOURCE, "incident", pd_id)
        self.unit = Unit(where=where, dependent=True)
        self.acknowledged = self.resolved = False
        self.responders: set[str] = set()

    def run(self) -> Unit:
        entries = self._entries()
        triggers = [e for e in entries if e[1]["type"] == "trigger_log_entry"]
        opened_at, trigger_id = (triggers[0][0], triggers[0][1]["id"]) if triggers else (
            self._time(self.incident.get("created_at"), "created_at"), _CREATED)
        self._open(opened_at, trigger_id)
        for at, entry in entries:
            if triggers and entry is triggers[0][1]:
                continue
            self._entry(at, entry)
        return self.unit

    def _entries(self) -> list[tuple[str, dict[str, Any]]]:
        raw = self.incident.get("log_entries")
        if not isinstance(raw, list):
            raise Malformed("no log_entries array (GET /incidents/{id}/log_entries)")
        if len(raw) > MAX_LOG_ENTRIES:
            raise Malformed(f"more than {MAX_LOG_ENTRIES:,} log entries")
        entries = []
        for n, entry in enumerate(raw):
            if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
                raise Malformed(f"log entry #{n} is not an object with a type")
            if not isinstance(entry.get("id"), str) or not entry["id"].strip():
                raise Malformed(f"log entry #{n} has no id")
            at = self._time(entry.get("created_at"), f"log entry {entry['id']}'s created_at")
            entries.append((at, _ORDER.get(entry["type"], 9), n, entry))
        entries.sort(key=lambda e: (e[0], e[1], e[2]))
        return [(at, entry) for at, _, _, entry in entries]

    @staticmethod
    def _time(value: Any, what: str) -> str:
        try:
            return utc_time(value)
        except ValueError as e:
            raise Malformed(f"{what}: {e}") from None

    def _add(self, kind: str, path: str, body: dict[str, Any], at: str, entry_id: str,
             *more: str) -> None:
        """A command of log entry ``entry_id`` (``created``: the incident's own opening);
        ``more`` tells apart several commands of one entry (each assignee)."""
        where = self.where if entry_id == _CREATED else f"{self.where}, log entry {entry_id}"
        self.unit.requests.append(Request(
            kind=kind, method="POST", path=path, body={**body, "occurred_at": at},
            key=idempotency_key(SOURCE, self.pd_id, entry_id, *more), where=where))

    def _open(self, at: str, entry_id: str) -> None:
        service = _label(self.incident.get("service"))
        if not service:
            raise Malformed("no service (its summary or name)")
        summary = next((s.strip() for s in (self.incident.get("summary"),
                                            self.incident.get("title"))
                        if isinstance(s, str) and s.strip()), "")
        if not summary:
            raise Malformed("no summary or title")
        body = {"team_id": team_of(self.incident, self.directory),
                "severity": severity_of(self.incident), "service": service[:200],
                "summary": summary[:10_000], "incident_id": self.incident_id}
        self._add("open", "/v1/incidents", body, at, entry_id)

    def _path(self, action: str) -> str:
        return f"/v1/incidents/{self.incident_id}/{action}"

    def _entry(self, at: str, entry: dict[str, Any]) -> None:
        kind, entry_id = entry["type"], entry["id"]
        if kind == "acknowledge_log_entry" and not (self.acknowledged or self.resolved):
            self.acknowledged = True
            self._add("acknowledge", self._path("acknowledge"), {}, at, entry_id)
        elif kind == "assign_log_entry" and not self.resolved:
            self._assign(at, entry)
        elif kind == "annotate_log_entry" and _note(entry):
            self._add("note", self._path("notes"), {"text": _note(entry)}, at, entry_id)
        elif kind == "resolve_log_entry" and not self.resolved:
            if not self.acknowledged:  # resolved from triggered: OpsLedger needs an ack
                self.acknowledged = True
                self._add("acknowledge", self._path("acknowledge"), {}, at, entry_id, "ack")
            self.resolved = True
            summary = (_text(entry.get("note")) or _text(entry.get("summary"))
                       or "Resolved in PagerDuty")
            self._add("resolve", self._path("resolve"), {"summary": summary}, at, entry_id)
        else:
            self.unit.not_mapped[kind] = self.unit.not_mapped.get(kind, 0) + 1

    def _assign(self, at: str, entry: dict[str, Any]) -> None:
        assignees = entry.get("assignees")
        if not isinstance(assignees, list):
            raise Malformed(f"log entry {entry['id']}: assignees is not an array")
        for person in assignees:
            if not isinstance(person, dict):
                raise Malformed(f"log entry {entry['id']}: an assignee is not an object")
            user_id = _text(person.get("id"))
            email = _text(person.get("email")) or self.directory.emails_by_user.get(user_id, "")
            name = _label(person) or user_id or "someone"
            member = self.directory.members_by_email.get(email.lower()) if email else None
            if member is None:
                why = (f"no OpsLedger member has the email {email}" if email else
                       f"PagerDuty user {user_id or '?'} has no email in the file "
                       "(add the users array of GET /users)")
                who = f"{name} <{email}>" if email else name
                self.unit.unknown_people.append(UnknownPerson(who, why))
                continue
            if member in self.responders:
                continue
            self.responders.add(member)
            self._add("assign", self._path("assign"), {"responder_id": member}, at,
                      entry["id"], user_id or member)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _note(entry: dict[str, Any]) -> str:
    """An annotation's text: the entry's ``note``, else its ``note`` channel's ``summary``."""
    channel = entry.get("channel")
    return _text(entry.get("note")) or (_text(channel.get("summary"))
                                       if isinstance(channel, dict) else "")
