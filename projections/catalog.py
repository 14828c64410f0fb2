"""The read models' collections and the fields their queries filter and sort by.

Stores create an index per listed field when they start.
"""

from __future__ import annotations

INDEXED_FIELDS: dict[str, tuple[str, ...]] = {
    "audit_trail": ("entity_id", "actor", "type", "time", "recorded_at", "position", "team_id",
                    "name"),
    "compliance_history": ("entity_id", "time", "version", "team_id"),
    "timeline": ("owner", "time"),
    "teams": ("name",),
    "members": ("team_id",),
    "goals": ("team_id", "status"),
    "incidents": ("team_id", "status", "severity", "duplicate_of"),
    "action_items": ("team_id", "owner_id", "status", "due", "incident_id"),
    "feedback": ("team_id", "kind"),
    "tokens": ("principal", "status", "issued_at"),
    "control_policies": ("control",),
    "finding_decisions": ("team_id",),
    "risks": ("team_id", "status", "identified_at"),
    "contingency_plans": ("team_id", "drafted_at"),
    "trainings": ("team_id", "defined_at"),
    "policies": ("team_id", "first_published_at"),
    "legal_holds": ("team_id", "active", "placed_at"),
}
