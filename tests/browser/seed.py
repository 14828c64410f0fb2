"""What the browser tests' server holds, made through the HTTP API: two teams (the
scoped user's and another), members with a role change, a goal with check-ins, three
weeks of incidents acknowledged and resolved (business time, so the weekly charts
have lines), feedback with scores, and open incidents to acknowledge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx

ADMIN_TOKEN = "browser-admin-token-0123456789"
MEMBER_TOKEN = "browser-member-token-012345678"
SCOPED_TOKEN = "browser-scoped-token-012345678"


@dataclass
class Seeded:
    sre: str = field(default_factory=lambda: str(uuid4()))
    payments: str = field(default_factory=lambda: str(uuid4()))
    open_incidents: list[str] = field(default_factory=list)

    def tokens(self) -> dict[str, Any]:
        """The configured tokens: an admin, a member of every team, and a lead scoped
        to the payments team."""
        return {
            ADMIN_TOKEN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]},
            MEMBER_TOKEN: {"principal": "user:max", "roles": ["member"], "teams": ["*"]},
            SCOPED_TOKEN: {"principal": "user:pia", "roles": ["lead"],
                           "teams": [self.payments]},
        }


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Api:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post(self, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        r = self.client.post(path, json=body, headers=headers)
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        answer: dict[str, Any] = r.json()
        return answer


def seed(client: httpx.Client, seeded: Seeded) -> Seeded:
    api = _Api(client)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=21)
    for team_id, name, mission in ((seeded.sre, "Site Reliability", "Keep checkout up"),
                                   (seeded.payments, "Payments", "Money moves safely")):
        api.post("/v1/teams", {"team_id": team_id, "name": name, "mission": mission,
                               "occurred_at": _at(start)})
    ada = api.post(f"/v1/teams/{seeded.sre}/members", {
        "name": "Ada Lovelace", "email": "ada@example.com", "role": "SRE",
        "occurred_at": _at(start)})["id"]
    api.post(f"/v1/teams/{seeded.sre}/members", {
        "name": "Grace Hopper", "email": "grace@example.com", "role": "SRE",
        "occurred_at": _at(start)})
    api.post(f"/v1/teams/{seeded.sre}/members/{ada}/role", {
        "role": "Senior SRE", "reason": "promoted after the Q3 review",
        "occurred_at": _at(start + timedelta(days=7))})
    api.post(f"/v1/teams/{seeded.sre}/lead", {"member_id": ada, "reason": "new lead"})
    api.post(f"/v1/teams/{seeded.payments}/members", {
        "name": "Pia Payer", "email": "pia@example.com", "role": "Engineer",
        "occurred_at": _at(start)})
    goal = api.post("/v1/goals", {
        "team_id": seeded.sre, "owner_id": ada, "title": "Cut checkout MTTR",
        "metric": "median minutes to resolve", "baseline": 120, "target": 30,
        "unit": "min", "deadline": (now + timedelta(days=30)).date().isoformat(),
        "occurred_at": _at(start)})["id"]
    for week, value in ((1, 100), (2, 75)):
        api.post(f"/v1/goals/{goal}/check-ins", {
            "value": value, "occurred_at": _at(start + timedelta(days=7 * week))})
    for week in range(3):
        for n, (ack_minutes, resolve_hours) in enumerate(((4 + week, 2), (20 - week, 5))):
            opened = start + timedelta(days=7 * week + 1, hours=n)
            incident = api.post("/v1/incidents", {
                "team_id": seeded.sre, "severity": "SEV3", "service": "checkout",
                "summary": f"Checkout errors, week {week + 1}", "occurred_at": _at(opened)})["id"]
            api.post(f"/v1/incidents/{incident}/acknowledge", {
                "occurred_at": _at(opened + timedelta(minutes=ack_minutes))})
            api.post(f"/v1/incidents/{incident}/resolve", {
                "summary": "rolled back", "occurred_at": _at(
                    opened + timedelta(hours=resolve_hours))})
        api.post("/v1/feedback", {
            "kind": "customer", "team_id": seeded.sre, "text": "The outage page helped",
            "score": 6 + week, "occurred_at": _at(start + timedelta(days=7 * week + 2))})
    for team_id, severity, summary in ((seeded.sre, "SEV2", "Checkout latency above SLO"),
                                       (seeded.payments, "SEV1", "Card payments failing"),
                                       (seeded.sre, "SEV3", "Search slow for some users")):
        seeded.open_incidents.append(api.post("/v1/incidents", {
            "team_id": team_id, "severity": severity, "service": "checkout",
            "summary": summary})["id"])
    return seeded
