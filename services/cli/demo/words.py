"""The words the demo's incidents, goals and feedback are made of.

The planner (:mod:`services.cli.demo.plan`) picks from these lists with its seeded
random generator, so the same seed tells the same story.
"""

from __future__ import annotations

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

IMPACT_REASONS = [
    "Error-rate graphs show customers affected before the alert fired",
    "Customer tickets about it started before we opened the incident",
    "The synthetic check was muted; real users saw it first",
]
DUPLICATE_REASON = "Same outage, paged twice: one alert per load-balancer pool"
REOPEN_REASON = "The errors came back overnight: the fix only covered one region"
POSTMORTEM_CAUSE = "Alerting caught the symptom, not the cause, so diagnosis was slow"

# Today's late entries: facts that happened hours ago, entered now, outside the import
# run (the backdated_entry control finds each one).
LATE_INCIDENT = {
    "team": "payments", "severity": "SEV3", "service": "card-processor-bridge",
    "summary": "Card processor bridge timed out during the night batch (paged by phone)",
    "by": "user:ravi.iyer",
    "resolution": "Batch re-run after the processor's maintenance window ended",
}
LATE_CHECK_IN = ("Fresh data by 7am", "user:nadia.haddad",
                 "Entered the morning after: the freshness report was read at the stand-up")
LATE_FEEDBACK = ("support", "user:samuel.adeyemi", "phone", 3,
                 "Called in: refunds page showed an error for an hour; wrote it up after the "
                 "shift")

# Follow-ups of the postmortems' action items, and the decisions on findings.
COMPLETION_NOTES = [
    "Shipped and verified in production; runbook updated.",
    "Merged behind a flag, enabled for every region after a day of canary.",
    "Done: the alert fired in the game day as intended.",
    "Implemented and reviewed; the dashboard panel links to it.",
]
LATE_COMPLETION_NOTES = [
    "Done, late: on-call load pushed it back two sprints.",
    "Finally shipped after the vendor's API change landed.",
]
ADDED_ACTION = "Add the missing alert to the on-call runbook's checklist"
TRACKER = "https://tracker.opsledger.example/browse/OPS-{n}"
REASSIGN_REASON = "{old} moves to the platform re-org project; {new} takes it over"
EARLY_DUE_REASON = "Waits for the vendor's maintenance window next week; agreed at the review"
LATE_DUE_REASON = "Missed while the owner was on leave; new date agreed at the weekly review"
CANCEL_REASON = "Superseded: the service it concerns is being retired this quarter"
RISK_REASON = ("Needs a maintenance window the business has not granted before the peak "
               "season; compensating control: a weekly manual check by the on-call lead")
WAIVE_REASON = ("The target was revised with Finance's written approval at the quarterly "
                "review; the late revision is agreed, not an oversight")
ITEM_WAIVE_REASON = "Owner on leave; the item is picked up on return"
ITEM_REOPEN_REASON = "The owner is back but the item was not picked up: the waiver is withdrawn"
