"""What the browser tests of the incident, member, compliance, audit, risk, training,
goal and feedback pages need beyond :mod:`.seed`, made through the HTTP API on the same
server: an incident acknowledged after the fact (its times differ) with a postmortem
and follow-ups, risks across the heat map, trainings done, expired, overdue and due,
and feedback to triage. Each test that changes something makes its own record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.browser.seed import Seeded, _Api, _at

AUDITOR_TOKEN = "browser-auditor-token-01234567"


@dataclass
class PagesSeeded:
    ada: str = ""
    grace: str = ""
    incident: str = ""
    risks: list[str] = field(default_factory=list)
    trainings: dict[str, str] = field(default_factory=dict)


def member_ids(api: _Api, team_id: str) -> dict[str, str]:
    team = api.client.get(f"/v1/teams/{team_id}").json()
    return {str(e["name"]): str(e["member_id"]) for e in team["roster"]}


def seed_pages(client: httpx.Client, seeded: Seeded) -> PagesSeeded:
    api = _Api(client)
    out = PagesSeeded()
    people = member_ids(api, seeded.sre)
    out.ada, out.grace = people["Ada Lovelace"], people["Grace Hopper"]
    now = datetime.now(UTC).replace(microsecond=0)
    opened = now - timedelta(hours=3)
    out.incident = api.post("/v1/incidents", {
        "team_id": seeded.sre, "severity": "SEV2", "service": "checkout",
        "summary": "Checkout 502s after the deploy", "occurred_at": _at(opened)})["id"]
    api.post(f"/v1/incidents/{out.incident}/acknowledge", {
        "occurred_at": _at(opened + timedelta(minutes=7))})
    api.post(f"/v1/incidents/{out.incident}/assign", {
        "responder_id": out.ada, "occurred_at": _at(opened + timedelta(minutes=8))})
    api.post(f"/v1/incidents/{out.incident}/resolve", {
        "summary": "rolled the deploy back", "root_cause": "a bad connection pool size",
        "occurred_at": _at(opened + timedelta(hours=1))})
    api.post(f"/v1/incidents/{out.incident}/postmortem", {
        "causes": ["the pool size was not load tested"],
        "action_items": [
            {"title": "Load test the pool size", "owner_id": out.grace,
             "due": (now + timedelta(days=14)).date().isoformat()},
            {"title": "Alert on pool saturation", "owner_id": out.ada,
             "due": (now + timedelta(days=21)).date().isoformat()}]})
    review = (now + timedelta(days=60)).date().isoformat()
    for title, likelihood, impact in (("Card processor outage", 5, 5),
                                      ("Checkout DB failover fails", 2, 5),
                                      ("Deploy breaks checkout", 4, 3),
                                      ("Stale runbooks", 2, 2)):
        out.risks.append(api.post("/v1/risks", {
            "team_id": seeded.sre, "title": title, "category": "technical",
            "likelihood": likelihood, "impact": impact, "owner_id": out.ada,
            "review_by": review})["id"])
    start = now - timedelta(days=21)
    out.trainings["commander"] = api.post("/v1/trainings", {
        "team_id": seeded.sre, "title": "Incident commander", "required_for_roles": ["SRE"],
        "occurred_at": _at(now - timedelta(days=1))})["id"]
    out.trainings["security"] = api.post("/v1/trainings", {
        "team_id": seeded.sre, "title": "Security basics", "valid_for_days": 7,
        "occurred_at": _at(start + timedelta(days=8))})["id"]
    security = out.trainings["security"]
    api.post(f"/v1/members/{out.ada}/trainings", {
        "training_id": security, "due": (start + timedelta(days=10)).date().isoformat(),
        "occurred_at": _at(start + timedelta(days=8))})
    api.post(f"/v1/members/{out.grace}/trainings", {
        "training_id": security, "due": (start + timedelta(days=12)).date().isoformat(),
        "occurred_at": _at(start + timedelta(days=8))})
    api.post(f"/v1/members/{out.ada}/trainings/{security}/complete", {
        "completed_at": _at(start + timedelta(days=9)),
        "evidence": "https://lms.example.com/certificates/1"})
    return out


def answer(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code in (200, 201), (r.request.url, r.status_code, r.text)
    body: dict[str, Any] = r.json()
    return body
