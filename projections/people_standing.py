"""Where each member stands on a team's trainings, computed at query time: the training
matrix (member x training: assigned, due, done, expired) and who is on a team since
when. Pure: documents in, values out (the controls in :mod:`.people_controls` and the
API's matrix both read it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from projections.fold import Document
from projections.times import parse_time


def end_of(day: object) -> datetime | None:
    """When something due on ``day`` (a date) is late: the next day, 00:00 UTC."""
    try:
        due = date.fromisoformat(str(day)[:10])
    except ValueError:
        return None
    return datetime.combine(due + timedelta(days=1), datetime.min.time(), UTC)


def expires_at(training: Document, completed_at: str | None) -> datetime | None:
    """When a completion stops being valid (00:00 UTC of the day it expires), None for
    good (or not completed)."""
    days = training.get("valid_for_days")
    if completed_at is None or not isinstance(days, int):
        return None
    day = parse_time(completed_at).date() + timedelta(days=days)
    return datetime.combine(day, datetime.min.time(), UTC)


def on_team_since(member: Document, team_id: str) -> datetime | None:
    """Since when ``member`` is an active member of ``team_id`` (its latest tenure
    there), None if it is not now."""
    if member.get("team_id") != team_id or not member.get("active"):
        return None
    since = [t.get("since") for t in member.get("teams") or [] if t.get("team_id") == team_id]
    found = since[-1] if since else member.get("since")
    return parse_time(str(found)) if found else None


def latest_assignments(training: Document) -> dict[str, Document]:
    """Each member's latest assignment of ``training``."""
    return {str(a["member_id"]): a for a in training.get("assignments") or []}


def cell(training: Document, member: Document, now: datetime) -> dict[str, Any]:
    """One member x training: ``assigned``, ``due``, ``done``, ``expired`` (and whether
    the role requires it, when it was completed, until when it is valid, overdue)."""
    assignment = latest_assignments(training).get(str(member["id"]))
    required = member.get("role") in (training.get("required_for_roles") or [])
    if assignment is None:
        return {"training_id": training["id"], "title": training.get("title"),
                "required": required, "assigned": False, "due": None, "done": False,
                "completed_at": None, "valid_until": None, "expired": False,
                "overdue": False}
    completed = assignment.get("completed_at")
    until = expires_at(training, completed)
    deadline = end_of(assignment.get("due"))
    return {
        "training_id": training["id"], "title": training.get("title"), "required": required,
        "assigned": True, "due": assignment.get("due"), "done": completed is not None,
        "completed_at": completed, "evidence": assignment.get("evidence"),
        "valid_until": None if until is None else until.date().isoformat(),
        "expired": until is not None and until <= now,
        "overdue": completed is None and deadline is not None and now >= deadline,
    }


def matrix(trainings: Iterable[Document], members: Iterable[Document], team_id: str,
           now: datetime) -> list[dict[str, Any]]:
    """The team's active members, each with one cell per training of the team."""
    docs = list(trainings)
    return [{"member_id": m["id"], "name": m.get("name"), "role": m.get("role"),
             "trainings": [cell(t, m, now) for t in docs]}
            for m in members if on_team_since(m, team_id) is not None]
