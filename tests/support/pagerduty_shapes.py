"""PagerDuty REST API v2 shapes for tests: a user reference, a log entry and an
incident as ``GET /incidents`` and ``GET /incidents/{id}/log_entries`` answer them
(made up here, field names from PagerDuty's public API reference)."""

from __future__ import annotations

from typing import Any


def user(user_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "type": "user_reference", "summary": name, **extra}


def entry(entry_id: str, kind: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"id": entry_id, "type": kind, "created_at": at, "summary": f"{kind} summary",
            **extra}


def incident(*entries: dict[str, Any], pd_id: str = "PT4KHLK", number: int = 1234,
             team: str = "Payments SRE", **extra: Any) -> dict[str, Any]:
    return {"id": pd_id, "type": "incident", "incident_number": number,
            "title": "The server is on fire.", "summary": f"[#{number}] The server is on fire.",
            "created_at": "2024-05-01T09:00:00Z", "urgency": "high",
            "service": {"id": "PWIXJZS", "type": "service_reference", "summary": "Mail"},
            "teams": [{"id": "PQ9K7I8", "type": "team_reference", "summary": team}],
            "log_entries": list(entries), **extra}
