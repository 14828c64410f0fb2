"""The demo's month, as data: four teams and their people, the personas who act
(each with its own token), the role changes, a lead change, a departure and ten goals.

Days are the month's day numbers of :class:`services.cli.demo.clock.Clock` (1..34;
35 is today); hours are times of day in UTC (9.5 is 09:30). The planner
(:mod:`services.cli.demo.plan`) turns this into requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

# -- who acts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    """Someone (or something) with its own token: every command they make is theirs."""

    principal: str
    role: str
    team: str  # a team key, or "*" for every team
    member: str | None  # the member they act as (bound on joining), if any
    does: str


PERSONAS: list[Persona] = [
    Persona("user:amara.okafor", "lead", "sre", "Amara Okafor", "leads SRE / Platform"),
    Persona("user:mei.lin.chen", "member", "sre", "Mei Lin Chen", "SRE incident commander"),
    Persona("user:jonas.petersen", "member", "sre", "Jonas Petersen", "SRE on call"),
    Persona("user:sofia.hernandez", "lead", "payments", "Sofia Hernández", "leads Payments Ops"),
    Persona("user:ravi.iyer", "member", "payments", "Ravi Iyer", "payments incident commander"),
    Persona("user:kwame.mensah", "member", "payments", "Kwame Mensah", "payments on call"),
    Persona("user:grace.oconnor", "lead", "support", "Grace O'Connor", "leads Support Ops"),
    Persona("user:aiko.tanaka", "member", "support", "Aiko Tanaka", "support escalations"),
    Persona("user:samuel.adeyemi", "member", "support", "Samuel Adeyemi", "support on call"),
    Persona("user:marcus.webb", "lead", "data", "Marcus Webb", "leads Data Platform (to day 15)"),
    Persona("user:priya.raman", "lead", "data", "Priya Raman", "leads Data Platform (from day 15)"),
    Persona("user:nadia.haddad", "member", "data", "Nadia Haddad", "data reliability on call"),
    Persona("service:alertmanager", "member", "*", None, "the alerting integration: opens "
            "incidents from alerts"),
    Persona("user:ingrid.larsen", "auditor", "*", None, "internal audit: reads the trail and "
            "the findings"),
]
ADMIN = ""
"""The actor of a step made with the demo's own (admin) token."""
ALERTS = "service:alertmanager"
AUDITOR = "user:ingrid.larsen"


# -- the organisation changing ------------------------------------------------------------


@dataclass(frozen=True)
class RoleChange:
    day: int
    hour: float
    team: str
    member: str
    role: str
    reason: str
    responsibilities: list[str] | None
    effective_day: int  # the role counts from this day (before or after it was recorded)


# The lead of the team makes each change; Amara, who leads SRE, changes her own title:
# the one case the ``self_role_change`` control is there to find.
ROLE_CHANGES: list[RoleChange] = [
    RoleChange(8, 10.0, "sre", "Jonas Petersen", "Senior SRE",
               "Promoted after cutting non-actionable pages by a third and mentoring two new "
               "on-callers", ["observability stack", "alert hygiene", "on-call mentoring"], 7),
    RoleChange(9, 15.0, "payments", "Kwame Mensah", "Incident Commander",
               "Completed incident-commander training and three shadow shifts; joins the IC "
               "rotation from the next Monday", ["payments-api", "card processor bridge",
                                                 "IC rotation"], 12),
    RoleChange(15, 9.5, "data", "Priya Raman", "Data Platform Lead",
               "Takes over the team as Marcus moves to the architecture guild",
               ["roadmap", "stakeholder reviews", "data contracts"], 15),
    RoleChange(15, 9.75, "data", "Marcus Webb", "Staff Data Architect",
               "Moves to the architecture guild to lead the lakehouse migration",
               ["lakehouse migration", "architecture reviews"], 15),
    RoleChange(23, 11.0, "support", "Samuel Adeyemi", "Escalation Specialist",
               "Has covered VIP escalations since Tom's departure; finished the escalation "
               "playbook course", None, 21),
    RoleChange(27, 16.5, "sre", "Amara Okafor", "Head of SRE",
               "Title updated after the platform re-org", ["on-call rotation",
                                                           "capacity planning", "hiring",
                                                           "platform roadmap"], 29),
]
# (day, hour, team, new lead, reason): made by the lead it replaces
LEAD_CHANGE = (15, 9.6, "data", "Priya Raman",
               "Marcus Webb moves to the architecture guild; Priya has run the platform "
               "roadmap since last quarter")
# (day, hour, team, member, reason)
DEPARTURE = (16, 17.0, "support", "Tom Becker",
             "Left the company for a role at a fintech start-up; knowledge-base backlog "
             "handed over to Chloé")


# -- goals --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    team: str
    owner: str
    title: str
    metric: str
    baseline: float
    target: float
    unit: str
    deadline_day: int  # past today for most; day 21 for the one revised too late
    outcome: tuple[int, str] | None = None  # (day, outcome) when it is closed
    revision: tuple[int, float, str] | None = None  # (day, new target, reason)


GOALS: list[Goal] = [
    Goal("sre", "Amara Okafor", "Page acknowledgement under 5 minutes",
         "median time to acknowledge pages", 14, 5, "minutes", 80),
    Goal("sre", "Daniel Kowalski", "Checkout API availability at 99.95%",
         "30-day availability of checkout-api", 99.5, 99.95, "%", 60),
    Goal("sre", "Jonas Petersen", "Halve alert noise", "non-actionable pages per month",
         420, 200, "pages", 70,
         revision=(10, 250, "Two new services were onboarded to paging this month; interim "
                            "target agreed with the VP of Engineering")),
    Goal("payments", "Sofia Hernández", "Fewer failed card authorisations",
         "authorisation failure rate", 3.2, 1.5, "%", 90),
    Goal("payments", "Hannah Schmidt", "Same-day settlement reconciliation",
         "time to reconcile daily settlement", 36, 8, "hours", 40, outcome=(30, "achieved")),
    Goal("support", "Grace O'Connor", "Raise customer satisfaction", "CSAT survey average",
         7.1, 8.5, "points", 85,
         revision=(12, 8.2, "Survey vendor changed the scale mid-month; target re-based on "
                            "the new scale")),
    Goal("support", "Aiko Tanaka", "Faster first response", "median first response time",
         9, 4, "hours", 65),
    Goal("support", "Chloé Martin", "Self-service deflection",
         "tickets deflected by help centre", 12, 25, "%", 75, outcome=(20, "abandoned")),
    Goal("data", "Nadia Haddad", "Fresh data by 7am", "pipelines meeting the freshness SLO",
         92, 99, "%", 75),
    Goal("data", "Marcus Webb", "Cut warehouse spend", "monthly warehouse cost", 48000, 38000,
         "USD", 21, outcome=(33, "missed"),
         revision=(28, 42000, "Finance agreed a softer target after the reserved-capacity "
                              "deal fell through")),
]
CHECK_IN_DAYS = (5, 12, 19, 26, 33)
"""Weekly check-ins, on Fridays of the story (whatever the calendar says)."""


# -- compliance ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyChange:
    """A new version of a control's policy, sent by the admin (in the import run)."""

    day: int  # when it was decided
    hour: float
    effective_day: int  # from this day's midnight (UTC) it judges what happens
    control: str
    thresholds: dict[str, int]
    reason: str  # "{effective}" is the day it takes effect


# The SEV2 acknowledgement SLA is tightened from the settings' 60 minutes to 30 from
# day 18 on: pages opened before keep 60, later ones are judged by 30 (version 2).
POLICY_CHANGE = PolicyChange(
    16, 11.0, 18, "ack_sla", {"sev1_ack_minutes": 15, "sev2_ack_minutes": 30},
    "SEV2 pages hit checkout revenue within half an hour; agreed at the reliability review "
    "to halve the SEV2 acknowledgement SLA from {effective}")
DECISION_DAYS = 2
"""The auditor decides on a finding this many days after it opened (when it can)."""
WAIVER_DAYS, RISK_DAYS = 90, 180
"""How long the auditor's waiver and accepted risk hold."""
