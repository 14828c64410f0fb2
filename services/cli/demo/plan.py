"""``opsledger demo``: a realistic, repeatable month in the life of an ops organisation.

Everything goes through the public HTTP API (bearer token, JSON bodies), so the demo
doubles as an end-to-end exercise of the command side and fills every read model.

Repeatable and safe to re-run:

- every choice comes from ``random.Random(seed)``, and every entity id is a
  ``uuid5`` of the seed and the entity's name, so a re-run names the same entities;
- every command carries ``Idempotency-Key: demo-<seed>-<n>`` (``n`` = its step), so a
  re-run against the same server gets the first answers back and appends nothing;
- dates in bodies (goal deadlines, action-item due dates, role effective dates) are
  relative to an *anchor* day: today on a fresh server, else the day of the first
  run, recovered from the first goal's deadline, so a re-run on a later day sends
  byte-identical bodies (an idempotency key reused with another body is refused).

The whole plan is built before the first request, so the progress bar knows the
total; any non-2xx answer stops the demo with the request and the problem document.
"""

from __future__ import annotations

import json
import random
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/demo")
TIMEOUT_SECONDS = 10.0
WEEKS = 4
MAX_STEPS = 5_000
"""A bound on the plan's size (it is about 500 steps); a bigger plan is a bug."""


try:  # the ClickException that ``opsledger`` (Typer) prints without a traceback
    from typer._click.exceptions import ClickException as _ShownError  # Typer >= 0.22
except ImportError:  # pragma: no cover - Typer on top of Click
    from click import ClickException as _ShownError


class DemoError(_ShownError):
    """The demo stopped: the message names the request and the server's answer.

    A ``ClickException``, so ``opsledger demo`` prints it cleanly and exits 1.
    """


@dataclass(frozen=True)
class Step:
    """One command: what it counts as, and the exact request."""

    kind: str
    method: str
    path: str
    body: dict[str, Any] | None
    key: str = ""


@dataclass(frozen=True)
class DemoSummary:
    counts: dict[str, int]
    requests: int
    last_position: int
    elapsed_seconds: float
    anchor: str
    team_ids: list[str] = field(default_factory=list)

    @property
    def events_appended(self) -> int:
        """The event log's position after the demo's last command (all events so far)."""
        return self.last_position

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


# -- the organisation -------------------------------------------------------------------

TEAMS: list[dict[str, Any]] = [
    {
        "key": "sre", "name": "SRE / Platform",
        "mission": "Keep production reliable, observable and quick to recover; own on-call, "
                   "capacity and the platform every team deploys to.",
        "services": ["api-gateway", "kubernetes-prod", "edge-dns", "ci-runners",
                     "observability-stack", "checkout-api"],
        "members": [
            ("Amara Okafor", "SRE Manager", ["on-call rotation", "capacity planning", "hiring"]),
            ("Daniel Kowalski", "Senior SRE", ["Kubernetes clusters", "incident command"]),
            ("Mei Lin Chen", "Incident Commander", ["SEV1 bridge", "postmortem facilitation"]),
            ("Jonas Petersen", "SRE", ["observability stack", "alert hygiene"]),
            ("Fatima Al-Sayed", "Platform Engineer", ["CI/CD pipelines", "deploy tooling"]),
            ("Lucas Moreau", "SRE", ["DNS and edge", "TLS certificates"]),
        ],
    },
    {
        "key": "payments", "name": "Payments Ops",
        "mission": "Keep money moving: card authorisations, payouts and daily settlement "
                   "reconciled to the cent.",
        "services": ["payments-api", "card-processor-bridge", "settlement-batch",
                     "fraud-scoring", "payout-scheduler", "ledger-reconciler"],
        "members": [
            ("Sofia Hernández", "Payments Ops Manager", ["settlement sign-off",
                                                         "PSP relationships"]),
            ("Kwame Mensah", "Payments Engineer", ["payments-api", "card processor bridge"]),
            ("Hannah Schmidt", "Reconciliation Analyst", ["daily reconciliation",
                                                          "chargebacks"]),
            ("Ravi Iyer", "Incident Commander", ["payments incidents", "PSP escalations"]),
            ("Elena Rossi", "Fraud Ops Analyst", ["fraud rules", "manual review queue"]),
            ("Tomás Silva", "Payments Engineer", ["payout batch", "ledger reconciler"]),
        ],
    },
    {
        "key": "support", "name": "Customer Support Ops",
        "mission": "Give customers fast, accurate answers and turn what they tell us into "
                   "fixes.",
        "services": ["support-portal", "zendesk-integration", "chatbot", "phone-ivr",
                     "status-page", "help-centre"],
        "members": [
            ("Grace O'Connor", "Support Ops Manager", ["staffing", "CSAT programme"]),
            ("Yusuf Demir", "Support Engineer", ["tier-2 tickets", "bug reproduction"]),
            ("Aiko Tanaka", "Escalation Specialist", ["VIP escalations", "incident comms"]),
            ("Tom Becker", "Support Engineer", ["knowledge base", "macros"]),
            ("Chloé Martin", "Support Tooling Engineer", ["Zendesk integration",
                                                          "chatbot flows"]),
            ("Samuel Adeyemi", "Support Engineer", ["phone queue", "billing questions"]),
        ],
    },
    {
        "key": "data", "name": "Data Platform",
        "mission": "Deliver fresh, trustworthy data: pipelines, the warehouse and the "
                   "feature store.",
        "services": ["airflow", "warehouse", "kafka-connect", "feature-store",
                     "bi-dashboards", "cdc-replicator"],
        "members": [
            ("Marcus Webb", "Data Platform Lead", ["roadmap", "stakeholder reviews"]),
            ("Priya Raman", "Senior Data Engineer", ["ingestion pipelines", "data contracts"]),
            ("Oliver Novak", "Data Engineer", ["Airflow DAGs", "backfills"]),
            ("Lena Fischer", "Analytics Engineer", ["dbt models", "BI dashboards"]),
            ("Diego Alvarez", "Database Administrator", ["Postgres fleet", "replication"]),
            ("Nadia Haddad", "Data Reliability Engineer", ["freshness SLOs",
                                                           "data quality checks"]),
        ],
    },
]

# (week, team key, member name, new role, reason, responsibilities or None)
ROLE_CHANGES: list[tuple[int, str, str, str, str, list[str] | None]] = [
    (1, "sre", "Jonas Petersen", "Senior SRE",
     "Promoted after cutting non-actionable pages by a third and mentoring two new "
     "on-callers", ["observability stack", "alert hygiene", "on-call mentoring"]),
    (1, "payments", "Kwame Mensah", "Incident Commander",
     "Completed incident-commander training and three shadow shifts; joins the IC rotation",
     ["payments-api", "card processor bridge", "IC rotation"]),
    (2, "data", "Priya Raman", "Data Platform Lead",
     "Takes over the team as Marcus moves to the architecture guild",
     ["roadmap", "stakeholder reviews", "data contracts"]),
    (2, "data", "Marcus Webb", "Staff Data Architect",
     "Moves to the architecture guild to lead the lakehouse migration",
     ["lakehouse migration", "architecture reviews"]),
    (3, "support", "Samuel Adeyemi", "Escalation Specialist",
     "Covers VIP escalations after Tom's departure; finished the escalation playbook course",
     None),
]
LEAD_CHANGE = (2, "data", "Priya Raman",
               "Marcus Webb moves to the architecture guild; Priya has run the platform "
               "roadmap since last quarter")
DEPARTURE = (2, "support", "Tom Becker",
             "Left the company for a role at a fintech start-up; knowledge-base backlog "
             "handed over to Chloé")

# (team key, owner, title, metric, baseline, target, unit, outcome, revision)
GOALS: list[tuple[str, str, str, str, float, float, str, str | None,
                  tuple[float, str] | None]] = [
    ("sre", "Amara Okafor", "Page acknowledgement under 5 minutes",
     "median time to acknowledge pages", 14, 5, "minutes", None, None),
    ("sre", "Daniel Kowalski", "Checkout API availability at 99.95%",
     "30-day availability of checkout-api", 99.5, 99.95, "%", None, None),
    ("sre", "Jonas Petersen", "Halve alert noise", "non-actionable pages per month",
     420, 200, "pages", None,
     (250, "Two new services were onboarded to paging this month; interim target agreed "
           "with the VP of Engineering")),
    ("payments", "Sofia Hernández", "Fewer failed card authorisations",
     "authorisation failure rate", 3.2, 1.5, "%", None, None),
    ("payments", "Hannah Schmidt", "Same-day settlement reconciliation",
     "time to reconcile daily settlement", 36, 8, "hours", "achieved", None),
    ("support", "Grace O'Connor", "Raise customer satisfaction", "CSAT survey average",
     7.1, 8.5, "points", None,
     (8.2, "Survey vendor changed the scale mid-month; target re-based on the new scale")),
    ("support", "Aiko Tanaka", "Faster first response", "median first response time",
     9, 4, "hours", None, None),
    ("support", "Chloé Martin", "Self-service deflection", "tickets deflected by help centre",
     12, 25, "%", "abandoned", None),
    ("data", "Nadia Haddad", "Fresh data by 7am", "pipelines meeting the freshness SLO",
     92, 99, "%", None, None),
    ("data", "Marcus Webb", "Cut warehouse spend", "monthly warehouse cost", 48000, 38000,
     "USD", "missed", None),
]
CLOSING_NOTES = {
    "achieved": "Reconciliation now finishes by 14:00 every day; automated matching "
                "covers 97% of lines.",
    "missed": "Reserved-capacity deal fell through; spend is down only 6%. Carried into "
              "next quarter's plan.",
    "abandoned": "Help-centre vendor migration postponed to next quarter; the goal will be "
                 "re-scoped then.",
}
CHECK_IN_NOTES = [
    "Baseline work done; first improvements deployed.",
    "Steady progress; one blocker escalated to the lead.",
    "Good week: the main change shipped to all regions.",
    "Month-end review: trend holding.",
    "Slower week: on-call load ate into project time.",
    "Numbers verified against the source dashboard.",
]

INCIDENT_SUMMARIES = [
    "Elevated 5xx rate on {service} after the morning deploy",
    "p99 latency on {service} above SLO for 20 minutes",
    "{service} unavailable in eu-west-1",
    "TLS certificate for {service} expired",
    "Queue backlog growing on {service}",
    "Disk pressure on {service} nodes",
    "{service} serving stale data",
    "Intermittent timeouts between {service} and its database",
]
ROOT_CAUSES = [
    "config push without a canary stage",
    "expired TLS certificate missed by the renewal job",
    "connection pool exhausted by a traffic spike",
    "schema migration locked a hot table",
    "upstream provider outage",
    "memory leak in the new release",
    "DNS TTL set too high during a failover",
    "runaway cron job saturating disk I/O",
]
MITIGATIONS = [
    "Rolled back to the previous release",
    "Failed over to the secondary region",
    "Scaled out workers and shed non-critical traffic",
    "Rotated the certificate by hand",
    "Paused the batch job and drained the queue",
    "Raised the connection pool limit and restarted pods",
]
NOTES = [
    "Paged on-call; investigating dashboards.",
    "Customer-facing status page updated.",
    "Correlated with the 09:40 deploy; preparing rollback.",
    "Vendor support ticket opened.",
    "Error rate back under 1%; watching for recurrence.",
    "Support team briefed with a customer macro.",
    "Bridge opened; comms lead assigned.",
]
ESCALATION_REASONS = [
    "Customer impact wider than first thought: all EU merchants affected",
    "Error budget for the month exhausted; revenue-impacting",
    "Data loss risk identified in the replication lag",
]
POSTMORTEM_ACTIONS = [
    "Add a canary stage to the config pipeline",
    "Alert 14 days before any certificate expires",
    "Load-test the connection pool at 3x peak",
    "Run schema migrations with lock timeouts",
    "Document the vendor failover runbook",
    "Add a memory regression check to CI",
]

CHANNELS = ["email", "chat", "phone", "survey"]
CUSTOMER_TEXTS: dict[str, dict[str, list[str]]] = {
    "sre": {
        "good": ["Status page updates during the outage were clear and frequent.",
                 "API has been rock solid since the migration, thanks."],
        "meh": ["Incident update came, but an hour after we noticed the errors."],
        "bad": ["The API returned 502s all morning; our integration retried into "
                "rate limits.", "Nobody told us about the maintenance window."],
    },
    "payments": {
        "good": ["Refund showed up the next morning, impressive.",
                 "Payout landed on time despite the bank holiday."],
        "meh": ["Settlement report arrived, but two hours late."],
        "bad": ["Card payments failed at checkout for 20 minutes and nobody told us.",
                "We were charged twice for one order and it took a week to fix."],
    },
    "support": {
        "good": ["Sorted out my billing issue in one chat, thank you!",
                 "Quick, friendly answer by email within the hour.",
                 "The help-centre article on exporting invoices was exactly what I needed."],
        "meh": ["Got an answer, but I had to explain my problem twice.",
                "Resolution took three days; fine, but slower than last time."],
        "bad": ["Waited 40 minutes on the phone queue before anyone picked up.",
                "The chatbot kept looping and never handed me to a person."],
    },
    "data": {
        "good": ["The new usage dashboard finally matches our own numbers."],
        "meh": ["Export works, but the CSV columns changed without notice."],
        "bad": ["Our exported report was missing yesterday's transactions.",
                "Dashboard numbers were a day stale during quarter close."],
    },
}
PEER_TEXTS = [
    "{first} ran the incident bridge calmly and kept stakeholders updated every 15 minutes.",
    "{first} paired with me on the flaky deploy pipeline and wrote it up for the team.",
    "{first}'s runbook saved us an hour during last night's page.",
    "{first} could hand over on-call context more thoroughly at shift change.",
    "{first} reviewed my change within the hour and caught a missing rollback step.",
]
MANAGER_TEXTS = [
    "{first} consistently closes postmortem action items before their due date.",
    "Great ownership of the customer escalations this month, {first}.",
    "{first} took on three escalations alone this week; let's work on delegating.",
    "{first}'s write-up of the capacity review was clear enough to share with leadership.",
]
RESOLUTIONS = [
    "Replied to the customer with the fix and an apology.",
    "Added to the next sprint; customer informed of the timeline.",
    "Discussed in 1:1 and agreed a follow-up.",
    "Runbook updated and shared with the team.",
    "Refund issued and the customer thanked for the report.",
    "Shared with the team as a kudos in the weekly review.",
]


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ".".join(ascii_name.lower().replace("'", "").split())


# -- the plan ---------------------------------------------------------------------------


class Planner:
    """Builds the month as a list of steps; every choice comes from ``rng``."""

    def __init__(self, seed: int, anchor: date) -> None:
        self.seed = seed
        self.anchor = anchor
        self.rng = random.Random(seed)  # noqa: S311 - a repeatable demo, not security
        self.steps: list[Step] = []
        self.team_ids: dict[str, str] = {}
        self.member_ids: dict[str, str] = {}
        self.member_team: dict[str, str] = {}
        self.leads: dict[str, str] = {}
        self.gone: set[str] = set()
        self.goal_ids: list[str] = []
        self.goal_offsets: list[int] = []
        self.goal_plans: list[dict[str, Any]] = []

    # helpers

    def uid(self, kind: str, name: str) -> str:
        return str(uuid5(DEMO_NAMESPACE, f"seed-{self.seed}/{kind}/{name}"))

    def day(self, offset: int) -> str:
        return (self.anchor + timedelta(days=offset)).isoformat()

    def add(self, kind: str, method: str, path: str, body: dict[str, Any] | None) -> None:
        self.steps.append(Step(kind, method, path, body))

    def active(self, team: str) -> list[str]:
        """Names of the team's members still on it (in roster order, so repeatable)."""
        members = next(t["members"] for t in TEAMS if t["key"] == team)
        return [m[0] for m in members if m[0] not in self.gone]

    def pick(self, team: str, k: int = 1) -> list[str]:
        names = self.active(team)
        return self.rng.sample(names, min(k, len(names)))

    # the month

    def build(self) -> list[Step]:
        self.organise()
        self.set_goals()
        incidents = self.incident_specs()
        feedback = self.feedback_specs()
        for week in range(WEEKS):
            self.team_changes(week)
            self.check_ins(week)
            for spec in incidents:
                if spec["week"] == week:
                    self.run_incident(spec)
            for spec in feedback:
                if spec["week"] == week:
                    self.run_feedback(spec)
        self.close_goals()
        if len(self.steps) > MAX_STEPS:
            raise DemoError(f"the demo plan has {len(self.steps)} steps (> {MAX_STEPS})")
        return [
            Step(s.kind, s.method, s.path, s.body, f"demo-{self.seed}-{n}")
            for n, s in enumerate(self.steps, start=1)
        ]

    def organise(self) -> None:
        for team in TEAMS:
            team_id = self.uid("team", team["name"])
            self.team_ids[team["key"]] = team_id
            self.add("teams", "POST", "/v1/teams",
                     {"name": team["name"], "mission": team["mission"], "team_id": team_id})
            for name, role, duties in team["members"]:
                member_id = self.uid("member", name)
                self.member_ids[name] = member_id
                self.member_team[name] = team["key"]
                self.add("members", "POST", f"/v1/teams/{team_id}/members", {
                    "name": name, "email": f"{_slug(name)}@opsledger.example", "role": role,
                    "member_id": member_id, "responsibilities": list(duties),
                })
            lead = team["members"][0][0]
            self.leads[team["key"]] = lead
            self.add("lead_changes", "POST", f"/v1/teams/{team_id}/lead", {
                "member_id": self.member_ids[lead],
                "reason": f"{lead} leads {team['name']} from its formation",
            })

    def team_changes(self, week: int) -> None:
        effective = self.day(-7 * (WEEKS - week))
        for when, team, name, role, reason, duties in ROLE_CHANGES:
            if when != week:
                continue
            body: dict[str, Any] = {"role": role, "reason": reason, "effective_date": effective}
            if duties is not None:
                body["responsibilities"] = list(duties)
            self.add("role_changes", "POST",
                     f"/v1/teams/{self.team_ids[team]}/members/{self.member_ids[name]}/role",
                     body)
            if (week, team, name) == LEAD_CHANGE[:3]:
                self.add("lead_changes", "POST", f"/v1/teams/{self.team_ids[team]}/lead",
                         {"member_id": self.member_ids[name], "reason": LEAD_CHANGE[3]})
                self.leads[team] = name
        when, team, name, reason = DEPARTURE
        if when == week:
            self.add("departures", "POST",
                     f"/v1/teams/{self.team_ids[team]}/members/{self.member_ids[name]}/leave",
                     {"reason": reason})
            self.gone.add(name)

    # goals

    def set_goals(self) -> None:
        for team, owner, title, metric, baseline, target, unit, outcome, revision in GOALS:
            goal_id = self.uid("goal", title)
            offset = self.rng.randint(30, 90)
            self.goal_ids.append(goal_id)
            self.goal_offsets.append(offset)
            if outcome == "achieved":
                pace = [0.35, 0.6, 0.85, 1.05]
            elif outcome in ("missed", "abandoned"):
                pace = [0.1, 0.15, 0.18, 0.2]
            else:
                step = self.rng.uniform(0.12, 0.24)
                pace = [step * (w + 1) + self.rng.uniform(-0.04, 0.04) for w in range(WEEKS)]
            self.goal_plans.append({
                "id": goal_id, "baseline": baseline, "target": target, "pace": pace,
                "outcome": outcome, "revision": revision,
            })
            self.add("goals", "POST", "/v1/goals", {
                "team_id": self.team_ids[team], "owner_id": self.member_ids[owner],
                "title": title, "metric": metric, "baseline": baseline, "target": target,
                "unit": unit, "deadline": self.day(offset), "goal_id": goal_id,
            })

    def check_ins(self, week: int) -> None:
        for plan in self.goal_plans:
            baseline, target = plan["baseline"], plan["target"]
            value = round(baseline + (target - baseline) * plan["pace"][week], 2)
            self.add("check_ins", "POST", f"/v1/goals/{plan['id']}/check-ins", {
                "value": value,
                "note": f"Week {week + 1}: {self.rng.choice(CHECK_IN_NOTES)}",
            })
            if week == 1 and plan["revision"] is not None:
                new_target, reason = plan["revision"]
                plan["target"] = new_target
                self.add("target_revisions", "POST", f"/v1/goals/{plan['id']}/target",
                         {"target": new_target, "reason": reason})

    def close_goals(self) -> None:
        for plan in self.goal_plans:
            if plan["outcome"]:
                self.add("goals_closed", "POST", f"/v1/goals/{plan['id']}/close",
                         {"outcome": plan["outcome"], "note": CLOSING_NOTES[plan["outcome"]]})

    # incidents

    def incident_specs(self) -> list[dict[str, Any]]:
        severities = ["SEV1"] * 3 + ["SEV2"] * 7 + ["SEV3"] * 12 + ["SEV4"] * 12
        self.rng.shuffle(severities)
        teams = [t["key"] for t in TEAMS]
        specs: list[dict[str, Any]] = []
        for n, severity in enumerate(severities):
            team = teams[n % len(teams)] if n < 8 else self.rng.choice(teams)
            service = self.rng.choice(next(t["services"] for t in TEAMS if t["key"] == team))
            specs.append({
                "n": n, "week": n * WEEKS // len(severities), "team": team,
                "severity": severity, "final": severity, "service": service,
                "escalate": None, "outcome": "closed",
            })
        # three escalations, each one level up (SEV3→SEV2, SEV2→SEV1, SEV4→SEV3)
        for start, to, reason in zip(("SEV3", "SEV2", "SEV4"), ("SEV2", "SEV1", "SEV3"),
                                     ESCALATION_REASONS, strict=True):
            spec = next(s for s in specs if s["severity"] == start and s["escalate"] is None)
            spec["escalate"] = (to, reason)
            spec["final"] = to
        # the latest incidents are still in flight; one SEV2 lacks its postmortem
        latest = list(reversed(specs))
        wanted = [("open", None), ("open", None), ("acknowledged", None),
                  ("acknowledged", None), ("mitigated", None), ("mitigated", None),
                  ("resolved", {"SEV3", "SEV4"}), ("resolved", {"SEV3", "SEV4"}),
                  ("resolved", {"SEV3", "SEV4"}), ("no_postmortem", {"SEV2"})]
        for outcome, severities_ok in wanted:
            spec = next(s for s in latest if s["outcome"] == "closed"
                        and (severities_ok is None or s["final"] in severities_ok))
            spec["outcome"] = outcome
        return specs

    def run_incident(self, spec: dict[str, Any]) -> None:
        rng = self.rng
        team = spec["team"]
        incident_id = self.uid("incident", str(spec["n"]))
        path = f"/v1/incidents/{incident_id}"
        outcome = spec["outcome"]
        self.add("incidents", "POST", "/v1/incidents", {
            "team_id": self.team_ids[team], "severity": spec["severity"],
            "service": spec["service"],
            "summary": rng.choice(INCIDENT_SUMMARIES).format(service=spec["service"]),
            "incident_id": incident_id,
        })
        notes = rng.sample(NOTES, rng.randint(1, 3))
        self.add("notes", "POST", f"{path}/notes", {"text": notes[0]})
        if spec["escalate"] is not None:
            to, reason = spec["escalate"]
            self.add("escalations", "POST", f"{path}/escalate", {"severity": to, "reason": reason})
        if outcome == "open":
            return
        self.add("acknowledgements", "POST", f"{path}/acknowledge", None)
        responders = self.pick(team, 3 if spec["final"] == "SEV1" else rng.randint(1, 2))
        for name in responders:
            self.add("assignments", "POST", f"{path}/assign",
                     {"responder_id": self.member_ids[name]})
        for text in notes[1:]:
            self.add("notes", "POST", f"{path}/notes", {"text": text})
        if outcome == "acknowledged":
            return
        if outcome == "mitigated" or spec["final"] in ("SEV1", "SEV2") or rng.random() < 0.6:
            self.add("mitigations", "POST", f"{path}/mitigate",
                     {"summary": rng.choice(MITIGATIONS)})
        if outcome == "mitigated":
            return
        cause = rng.choice(ROOT_CAUSES)
        self.add("resolutions", "POST", f"{path}/resolve", {
            "summary": f"Service healthy for 30 minutes after the fix on {spec['service']}",
            "root_cause": cause,
        })
        if outcome in ("resolved", "no_postmortem"):
            return
        if spec["final"] in ("SEV1", "SEV2"):
            owners = self.pick(team, 2)
            actions = rng.sample(POSTMORTEM_ACTIONS, len(owners))
            self.add("postmortems", "POST", f"{path}/postmortem", {
                "causes": [cause.capitalize(),
                           "Alerting caught the symptom, not the cause, so diagnosis was slow"],
                "action_items": [
                    {"title": title, "owner_id": self.member_ids[owner],
                     "due": self.day(rng.randint(7, 30))}
                    for title, owner in zip(actions, owners, strict=True)
                ],
            })
        self.add("incidents_closed", "POST", f"{path}/close", None)

    # feedback

    def feedback_specs(self) -> list[dict[str, Any]]:
        kinds = ["customer"] * 36 + ["peer"] * 12 + ["manager"] * 8
        self.rng.shuffle(kinds)
        weights = {"support": 0.4, "payments": 0.3, "sre": 0.15, "data": 0.15}
        teams = list(weights)
        return [
            {"n": n, "kind": kind, "week": n * WEEKS // len(kinds),
             "team": self.rng.choices(teams, weights=[weights[t] for t in teams])[0]}
            for n, kind in enumerate(kinds)
        ]

    def run_feedback(self, spec: dict[str, Any]) -> None:
        rng = self.rng
        team = spec["team"]
        feedback_id = self.uid("feedback", str(spec["n"]))
        body: dict[str, Any] = {"kind": spec["kind"], "team_id": self.team_ids[team]}
        if spec["kind"] == "customer":
            score = rng.choice([0, 2, 3, 4, 5, 6, 7, 7, 8, 8, 9, 9, 10, 10])
            band = "good" if score >= 8 else "meh" if score >= 5 else "bad"
            body.update(text=rng.choice(CUSTOMER_TEXTS[team][band]),
                        channel=rng.choice(CHANNELS), score=score)
        else:
            subject = rng.choice([n for n in self.active(team) if n != self.leads[team]])
            texts = PEER_TEXTS if spec["kind"] == "peer" else MANAGER_TEXTS
            score = rng.randint(5, 10)
            body.update(text=rng.choice(texts).format(first=subject.split()[0]),
                        subject_member_id=self.member_ids[subject], score=score)
        body["feedback_id"] = feedback_id
        self.add("feedback", "POST", "/v1/feedback", body)
        if rng.random() < 0.15:
            return  # still waiting for triage
        priority = ("urgent" if score <= 2 else "high" if score <= 4
                    else "medium" if score <= 6 else "low")
        owner = self.leads[team] if priority in ("urgent", "high") else self.pick(team)[0]
        self.add("triaged", "POST", f"/v1/feedback/{feedback_id}/triage",
                 {"priority": priority, "owner_id": self.member_ids[owner]})
        if rng.random() < 0.75:
            self.add("feedback_resolved", "POST", f"/v1/feedback/{feedback_id}/resolve",
                     {"resolution": rng.choice(RESOLUTIONS)})


def build_plan(seed: int, anchor: date) -> tuple[list[Step], Planner]:
    planner = Planner(seed, anchor)
    return planner.build(), planner


# -- talking to the API -----------------------------------------------------------------


def _describe(step_or_request: str, response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        lines = [f"  status: {response.status_code} {problem.get('title', '')}".rstrip(),
                 f"  detail: {problem.get('detail', '')}"]
        for error in problem.get("errors") or []:
            lines.append(f"  error:  {error}")
        document = json.dumps(problem, ensure_ascii=False)
        lines.append(f"  problem document: {document[:2000]}")
    else:
        lines = [f"  status: {response.status_code}", f"  body: {response.text[:2000]}"]
    return f"the demo stopped: {step_or_request}\n" + "\n".join(lines)


class Api:
    def __init__(self, client: httpx.Client, token: str, url: str) -> None:
        self.client = client
        self.auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.url = url.rstrip("/")
        self.requests = 0

    def send(self, method: str, path: str, body: dict[str, Any] | None = None,
             key: str = "") -> httpx.Response:
        headers = dict(self.auth)
        content = None
        if body is not None:
            # serialised here, not by httpx, so the bytes (the idempotency fingerprint)
            # never depend on the client library's version
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        self.requests += 1
        try:
            return self.client.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise DemoError(f"the demo stopped: {method} {self.url}{path} timed out "
                            f"({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise DemoError(f"the demo stopped: {method} {self.url}{path} failed: "
                            f"{exc or type(exc).__name__} (is OpsLedger running at "
                            f"{self.url}?)") from None

    def command(self, step: Step) -> dict[str, Any]:
        response = self.send(step.method, step.path, step.body, step.key)
        if not response.is_success:
            body = "" if step.body is None else json.dumps(step.body, ensure_ascii=False)
            request = (f"{step.method} {self.url}{step.path} (Idempotency-Key: {step.key})"
                       + (f"\n  body: {body[:2000]}" if body else ""))
            raise DemoError(_describe(request, response))
        answer = response.json()
        if not isinstance(answer, dict) or "position" not in answer:
            raise DemoError(f"the demo stopped: {step.method} {self.url}{step.path} answered "
                            f"{response.status_code} without a command answer: "
                            f"{response.text[:500]}")
        return answer


def _anchor(api: Api, seed: int) -> date:
    """Today on a fresh server; on a re-run, the first run's day (from its first goal)."""
    today = date.today()
    _, planner = build_plan(seed, today)
    goal_id, offset = planner.goal_ids[0], planner.goal_offsets[0]
    response = api.send("GET", f"/v1/goals/{goal_id}")
    if response.status_code == 404:
        return today
    if not response.is_success:
        raise DemoError(_describe(f"GET {api.url}/v1/goals/{goal_id}", response))
    deadline = response.json().get("deadline")
    try:
        return date.fromisoformat(str(deadline)) - timedelta(days=offset)
    except ValueError:
        return today


@contextmanager
def _client(url: str, client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client  # the caller's client, its base URL and timeouts
        return
    with httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT_SECONDS) as own:
        yield own


def _print_summary(console: Console, summary: DemoSummary) -> None:
    table = Table(title=f"OpsLedger demo (anchor day {summary.anchor})", show_lines=False)
    table.add_column("what")
    table.add_column("commands", justify="right")
    for kind, count in summary.counts.items():
        table.add_row(kind.replace("_", " "), str(count))
    console.print(table)
    console.print(
        f"commands: {sum(summary.counts.values())}   "
        f"events appended: [bold]{summary.events_appended}[/] (last position; positions "
        f"also number idempotency-key records)   requests: {summary.requests}   "
        f"elapsed: {summary.elapsed_seconds:.1f} s   "
        f"{summary.requests_per_second:.0f} requests/s"
    )


def run_demo(url: str, token: str, *, seed: int = 7, client: httpx.Client | None = None,
             console: Console | None = None) -> DemoSummary:
    """Load the demo month into the OpsLedger at ``url``; safe to run again.

    ``client`` (e.g. a FastAPI ``TestClient``) is used as is, with relative paths;
    without one, an ``httpx.Client`` on ``url`` with a 10 s timeout is opened.
    Raises :class:`DemoError` on the first non-2xx answer or transport failure.
    """
    console = console or Console()
    started = time.perf_counter()
    with _client(url, client) as http:
        api = Api(http, token, url)
        anchor = _anchor(api, seed)
        steps, planner = build_plan(seed, anchor)
        counts: dict[str, int] = {}
        last_position = 0
        columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
                   MofNCompleteColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("loading the demo month", total=len(steps) + 1)
            progress.advance(task)  # the anchor look-up
            for step in steps:
                progress.update(task, description=f"{step.kind:<18}")
                answer = api.command(step)
                last_position = max(last_position, int(answer["position"]))
                counts[step.kind] = counts.get(step.kind, 0) + 1
                progress.advance(task)
            progress.update(task, description="done")
    summary = DemoSummary(
        counts=counts, requests=api.requests, last_position=last_position,
        elapsed_seconds=time.perf_counter() - started, anchor=anchor.isoformat(),
        team_ids=[planner.team_ids[t["key"]] for t in TEAMS],
    )
    _print_summary(console, summary)
    return summary
