"""A PagerDuty-shaped export, made up and repeatable, to try and time
``opsledger import --format pagerduty``; and the OpsLedger roster it matches, in the
``opsledger`` import format.

    python -m benchmarks.pagerduty_sample --incidents 200 --seed 7 \\
        --out pagerduty.json --roster-out roster.jsonl
    opsledger import roster.jsonl --format opsledger
    opsledger import pagerduty.json --format pagerduty

The export has the shape PagerDuty's REST API v2 answers: ``incidents`` as
``GET /incidents`` lists them, each with the ``log_entries`` of
``GET /incidents/{id}/log_entries`` (newest first), and ``users`` as ``GET /users``.
Every value is invented here from ``random.Random(seed)``. The people are the roster's
members, plus a contractor who is no member and a user without an email, so the
summary lists unknown people; some incidents are resolved without an acknowledgement,
some are still open, some carry a priority and the others only an urgency.
"""

from __future__ import annotations

import argparse
import json
import random
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TEAM = "Payments SRE"
ROSTER = [("Ada Lovelace", "ada.lovelace@example.com"),
          ("Grace Hopper", "grace.hopper@example.com"),
          ("Alan Turing", "alan.turing@example.com"),
          ("Katherine Johnson", "k.johnson@example.com"),
          ("Edsger Dijkstra", "edsger@example.com")]
OUTSIDER = ("Casey Contractor", "casey@contractor.example")
NO_EMAIL = "Pat Nomail"
END = datetime(2025, 11, 30, tzinfo=UTC)
SERVICES = ["checkout-api", "payments-gateway", "ledger-db", "card-tokenizer", "fraud-scoring"]
TITLES = ["5xx rate above SLO", "p99 latency above 2 s", "queue depth growing", "disk 90% full",
          "certificate expires in 3 days", "replica lag above 60 s", "error budget burn 10x",
          "health check failing in eu-west-1", "card auth declines spiking", "OOM kills"]
NOTES = ["rolled back the last deploy", "paged the database on-call", "customer impact: EU only",
         "failover started", "waiting for the vendor"]


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Sample:
    def __init__(self, seed: int, team: str, roster: list[tuple[str, str]]) -> None:
        self.rng = random.Random(seed)  # sample data, not security
        self.team = {"id": self.pd_id(), "type": "team_reference", "summary": team}
        people = [*roster, OUTSIDER, (NO_EMAIL, "")]
        self.users = [{"id": self.pd_id(), "type": "user", "name": name, "email": email,
                       "summary": name} for name, email in people]
        self.services = [{"id": self.pd_id(), "type": "service_reference", "summary": name}
                         for name in SERVICES]
        self.used: set[str] = set()

    def pd_id(self) -> str:
        return "P" + "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=6))

    def ref(self, user: dict[str, Any]) -> dict[str, Any]:
        return {"id": user["id"], "type": "user_reference", "summary": user["name"],
                "self": f"https://api.pagerduty.com/users/{user['id']}"}

    def entry(self, kind: str, at: datetime, summary: str, **extra: Any) -> dict[str, Any]:
        entry_id = "R" + "".join(self.rng.choices(string.ascii_uppercase + string.digits,
                                                  k=25))
        return {"id": entry_id, "type": kind, "summary": summary, "created_at": _time(at),
                "teams": [self.team], **extra}

    def incident(self, number: int) -> dict[str, Any]:
        rng = self.rng
        incident_id = self.pd_id()
        while incident_id in self.used:
            incident_id = self.pd_id()
        self.used.add(incident_id)
        opened = END - timedelta(days=rng.uniform(1, 360))
        service = rng.choice(self.services)
        title = f"{service['summary']}: {rng.choice(TITLES)}"
        members = self.users[: len(self.users) - 2]
        responder = rng.choice(self.users if rng.random() < 0.15 else members)
        entries = [self.entry("trigger_log_entry", opened, "Triggered through the API",
                              agent=service, channel={"type": "api"})]
        entries.append(self.entry("assign_log_entry", opened, f"Assigned to {responder['name']}",
                                  assignees=[self.ref(responder)], channel={"type": "auto"}))
        entries.append(self.entry("notify_log_entry", opened + timedelta(seconds=5),
                                  f"Notified {responder['name']} by SMS"))
        state = rng.random()
        at = opened
        if state > 0.12:  # acknowledged (else resolved straight from triggered, or open)
            at = opened + timedelta(minutes=rng.uniform(0.5, 45))
            entries.append(self.entry("acknowledge_log_entry", at,
                                      f"Acknowledged by {responder['name']}",
                                      agent=self.ref(responder), acknowledgement_timeout=1800))
        if rng.random() < 0.3:
            helper = rng.choice(members)
            at += timedelta(minutes=rng.uniform(1, 20))
            entries.append(self.entry("assign_log_entry", at, f"Assigned to {helper['name']}",
                                      assignees=[self.ref(helper)], channel={"type": "website"}))
        if rng.random() < 0.4:
            at += timedelta(minutes=rng.uniform(1, 30))
            entries.append(self.entry("annotate_log_entry", at, "Note added",
                                      channel={"type": "note", "summary": rng.choice(NOTES)},
                                      agent=self.ref(responder)))
        status = "resolved" if state > 0.06 else rng.choice(["triggered", "acknowledged"])
        if status == "acknowledged" and state <= 0.12:
            status = "triggered"
        if status == "resolved":
            at += timedelta(minutes=rng.uniform(5, 240))
            entries.append(self.entry("resolve_log_entry", at, f"Resolved by {responder['name']}",
                                      agent=self.ref(responder), channel={"type": "website"}))
        incident: dict[str, Any] = {
            "id": incident_id, "type": "incident", "incident_number": number,
            "title": title, "summary": f"[#{number}] {title}", "status": status,
            "created_at": _time(opened), "updated_at": _time(at),
            "incident_key": "".join(rng.choices("0123456789abcdef", k=32)),
            "urgency": rng.choice(["high", "high", "low"]), "service": service,
            "teams": [self.team],
            "assignments": [] if status == "resolved" else [
                {"at": _time(opened), "assignee": self.ref(responder)}],
            "self": f"https://api.pagerduty.com/incidents/{incident_id}",
            "log_entries": list(reversed(entries)),  # the API answers newest first
        }
        if rng.random() < 0.6:
            level = rng.choice(["P1", "P2", "P2", "P3", "P3", "P4", "P5"])
            incident["priority"] = {"id": self.pd_id(), "type": "priority_reference",
                                    "summary": level}
        return incident


def pagerduty_export(incidents: int, seed: int = 7, team: str = TEAM,
                     roster: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """``incidents`` made-up incidents of ``team``, oldest first, with their log entries."""
    sample = _Sample(seed, team, roster or ROSTER)
    made = [sample.incident(1000 + n) for n in range(incidents)]
    made.sort(key=lambda i: i["created_at"])
    return {"incidents": made, "limit": incidents, "offset": 0, "more": False,
            "users": [u for u in sample.users if u["email"]]}


def roster_lines(team: str = TEAM, roster: list[tuple[str, str]] | None = None,
                 formed_at: datetime = END - timedelta(days=400)) -> list[dict[str, Any]]:
    """The team and its members, in the ``opsledger`` import format, formed before the
    earliest incident (an incident of a team cannot predate the team)."""
    at = _time(formed_at)
    lines: list[dict[str, Any]] = [
        {"source_id": f"sample:team:{team}", "occurred_at": at, "command": "team.form",
         "team": team, "body": {"name": team, "mission": "Keep payments up"}}]
    for name, email in roster or ROSTER:
        lines.append({"source_id": f"sample:member:{email}", "occurred_at": at,
                      "command": "member.join", "team": team, "member": email,
                      "body": {"name": name, "email": email, "role": "SRE"}})
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pagerduty_sample",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--team", default=TEAM)
    parser.add_argument("--out", type=Path, default=Path("pagerduty.json"))
    parser.add_argument("--roster-out", type=Path, default=None,
                        help="also write the team and its members as opsledger JSONL")
    args = parser.parse_args(argv)
    if not 1 <= args.incidents <= 100_000:
        parser.error("--incidents: 1 to 100000")
    export = pagerduty_export(args.incidents, args.seed, args.team)
    args.out.write_text(json.dumps(export, indent=1))
    print(f"{args.out}: {args.incidents} incidents, "
          f"{sum(len(i['log_entries']) for i in export['incidents'])} log entries")
    if args.roster_out:
        lines = roster_lines(args.team)
        args.roster_out.write_text("".join(json.dumps(line) + "\n" for line in lines))
        print(f"{args.roster_out}: team {args.team!r} and {len(lines) - 1} members")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
