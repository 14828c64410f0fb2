"""Reading a PagerDuty export: ``{"incidents": [...], "users": [...]}``.

``incidents`` is what ``GET /incidents`` answers (a bare array is read too), each
incident carrying its ``log_entries``; ``users`` (optional) is what ``GET /users``
answers, so an assignee known only by its user reference gets its email. A file
that is not such a document is a usage error: nothing is imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_INCIDENTS = 100_000


class ExportError(ValueError):
    """The file is not a PagerDuty export."""


@dataclass(frozen=True)
class Export:
    incidents: list[Any]
    emails_by_user: dict[str, str]


def read_export(text: str) -> Export:
    try:
        document = json.loads(text)
    except ValueError as e:
        raise ExportError(f"not JSON ({e})") from None
    if isinstance(document, list):
        document = {"incidents": document}
    if not isinstance(document, dict) or not isinstance(document.get("incidents"), list):
        raise ExportError('no "incidents" array: expected the answer of GET /incidents, '
                          "each incident with its log_entries")
    incidents = document["incidents"]
    if len(incidents) > MAX_INCIDENTS:
        raise ExportError(f"more than {MAX_INCIDENTS:,} incidents: split the file")
    users = document.get("users")
    users = [] if users is None else users
    if not isinstance(users, list):
        raise ExportError('"users" is not an array (the answer of GET /users)')
    emails = {
        user["id"]: user["email"].strip() for user in users
        if isinstance(user, dict) and isinstance(user.get("id"), str)
        and isinstance(user.get("email"), str) and user["email"].strip()
    }
    return Export(incidents=incidents, emails_by_user=emails)


def load_export(path: Path) -> Export:
    return read_export(path.read_text(encoding="utf-8"))
