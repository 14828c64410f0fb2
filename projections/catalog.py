"""The read models' collections and the fields their queries filter and sort by.

Stores create an index per listed field when they start, each ``(field, id)``, and one
per :data:`LIST_ORDERS` entry: a team's list in its order is read off one index, in
order, the page's ``limit`` rows and no more (no scan and sort of the whole team).
"""

from __future__ import annotations

INDEXED_FIELDS: dict[str, tuple[str, ...]] = {
    # recorded_late: the backdated_entry control reads the (few) late records, not
    # the whole trail.
    "audit_trail": ("entity_id", "actor", "type", "time", "recorded_at", "position", "team_id",
                    "name", "recorded_late"),
    "compliance_history": ("entity_id", "time", "version", "team_id"),
    "timeline": ("owner", "time"),
    "teams": ("name",),
    "members": ("team_id",),
    "goals": ("team_id", "status", "set_at"),
    "incidents": ("team_id", "status", "severity", "duplicate_of", "opened_at"),
    "action_items": ("team_id", "owner_id", "status", "due", "incident_id"),
    "feedback": ("team_id", "kind", "received_at"),
    "tokens": ("principal", "status", "issued_at"),
    "control_policies": ("control",),
    "finding_decisions": ("team_id",),
    "risks": ("team_id", "status", "identified_at"),
    "contingency_plans": ("team_id", "drafted_at"),
    "trainings": ("team_id", "defined_at"),
    "policies": ("team_id", "first_published_at"),
    "legal_holds": ("team_id", "active", "placed_at"),
}

LIST_ORDERS: dict[str, tuple[str, str]] = {
    "feedback": ("team_id", "received_at"),
    "goals": ("team_id", "set_at"),
    "incidents": ("team_id", "opened_at"),
    "action_items": ("team_id", "due"),
    "risks": ("team_id", "identified_at"),
    "contingency_plans": ("team_id", "drafted_at"),
    "trainings": ("team_id", "defined_at"),
    "policies": ("team_id", "first_published_at"),
}
"""Compound indexes ``(filter, order, id)``: the lists a team-scoped token reads (it
must name its team) in the order each route answers them."""
