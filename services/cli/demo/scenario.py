"""The demo's month, as data: four teams and their people, the role changes, a lead
change and a departure, ten goals, and the words incidents and feedback are made of.

The planner (:mod:`services.cli.demo.plan`) turns this into requests; every random
choice it makes picks from these lists.
"""

from __future__ import annotations

from typing import Any

WEEKS = 4
"""The demo covers a month, as four weeks."""


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
