"""The demo month's risk register and contingency plans, as data (the planner is
:mod:`services.cli.demo.risks`).

Ten risks over the four teams, each with its life in business time (days and hours as
in :mod:`services.cli.demo.scenario`), told so that the risks controls find something:

- a review missed and made three days late (``risk_review_overdue``, resolved) and one
  still not made (open);
- a high risk (residual 20) treated only after 18 days (``high_risk_untreated``,
  resolved late) and one (16) still untreated (open); a high one treated within a week
  is no finding;
- an acceptance approved by the team's lead, who is not the risk's owner, and one of a
  risk the lead owns, recorded by the lead naming a colleague as approver
  (``risk_accepted_by_owner``: the owner approved their own risk in all but name);
- one risk closed.

Two contingency plans: SRE's regional failover, drilled (``exercise``) then revised
with the drill's lessons (version 1 kept), and Payments' card-processor outage plan.
Incidents are linked to what foresaw them: one where the plan was followed, one where
it was not, and this morning's CDC incident to its risk alone. ``plan_not_exercised``
finds nothing in a month: a drill is due within 180 days, and both plans' risks are
assessed below the high score by now.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assessment:
    day: int
    hour: float
    likelihood: int
    impact: int
    residual_likelihood: int
    residual_impact: int
    note: str
    next_review_day: int


@dataclass(frozen=True)
class Treatment:
    day: int
    hour: float
    treatment: str  # mitigate | accept | transfer | avoid
    plan: str  # "" for accept
    reason: str


@dataclass(frozen=True)
class Acceptance:
    day: int
    hour: float
    approver: str  # a member's name, never the owner's
    reason: str


@dataclass(frozen=True)
class RiskStory:
    key: str
    team: str
    title: str
    category: str
    likelihood: int
    impact: int
    owner: str  # a member's name
    day: int  # identified
    hour: float
    review_day: int  # the first review_by
    assessments: tuple[Assessment, ...] = ()
    treatment: Treatment | None = None
    acceptance: Acceptance | None = None
    closing: tuple[int, float, str] | None = None  # (day, hour, reason)


RISKS: list[RiskStory] = [
    RiskStory(
        "control-plane", "sre", "kubernetes-prod runs a single-region control plane",
        "technical", 3, 5, "Daniel Kowalski", 2, 10.0, 9,
        assessments=(Assessment(9, 11.0, 3, 5, 2, 5, "Standby control plane in eu-central-1 "
                                "approved; residual assumes the failover plan", 40),),
        treatment=Treatment(9, 11.5, "mitigate", "Stand up a standby control plane in "
                            "eu-central-1 and a tested regional failover plan",
                            "A regional outage would take every service down for hours")),
    RiskStory(
        "tls-renewal", "sre", "TLS certificates renewed by a single cron job",
        "security", 4, 3, "Lucas Moreau", 3, 14.0, 12,
        assessments=(Assessment(15, 10.0, 4, 3, 2, 3, "Reviewed three days late, after the "
                                "checkout certificate scare", 45),),
        treatment=Treatment(15, 10.5, "mitigate", "Move renewals to cert-manager with "
                            "expiry alerts at 21 and 7 days",
                            "An expired certificate took checkout down last quarter")),
    RiskStory(
        "pager-fatigue", "sre", "On-call fatigue from non-actionable pages", "people",
        3, 3, "Amara Okafor", 19, 10.0, 48,
        treatment=Treatment(20, 9.0, "accept", "", "The alert-noise goal is already "
                            "cutting pages; no extra measures this quarter"),
        acceptance=Acceptance(20, 9.5, "Mei Lin Chen", "Accepted until the alert-noise "
                              "goal closes")),
    RiskStory(
        "card-processor", "payments", "Card processor bridge is a single point of failure",
        "technical", 4, 5, "Kwame Mensah", 3, 10.0, 17,
        assessments=(
            Assessment(17, 16.0, 4, 5, 4, 5, "No second acquirer yet; contract talks stalled",
                       28),
            Assessment(28, 11.0, 4, 5, 2, 5, "Second acquirer live for 30% of traffic; "
                       "routing switch tested", 60)),
        treatment=Treatment(21, 10.0, "mitigate", "Sign a second acquirer and route card "
                            "traffic across both, with a manual switch-over",
                            "An outage of the processor stops every card payment")),
    RiskStory(
        "settlement-file", "payments", "Bank delivers the settlement file late",
        "operational", 3, 3, "Hannah Schmidt", 5, 11.0, 26,
        treatment=Treatment(8, 10.0, "accept", "", "Late files cost a few hours of "
                            "reconciliation and the bank pays SLA credits"),
        acceptance=Acceptance(8, 15.0, "Sofia Hernández", "Within appetite: the SLA "
                              "credits cover the extra reconciliation work")),
    RiskStory(
        "fraud-drift", "payments", "Fraud rules drift after the PSP migration",
        "compliance", 2, 4, "Elena Rossi", 6, 14.0, 40,
        closing=(26, 12.0, "The PSP migration was cancelled; the rules stay as they are")),
    RiskStory(
        "zendesk-sync", "support", "Zendesk integration outage leaves tickets unseen",
        "technical", 3, 4, "Chloé Martin", 4, 11.0, 20,
        assessments=(Assessment(19, 15.0, 3, 4, 2, 4, "Polling fallback and a backlog alert "
                                "in place", 50),),
        treatment=Treatment(6, 10.0, "mitigate", "Add a polling fallback and alert when the "
                            "ticket backlog stops moving",
                            "A silent sync failure hides urgent tickets for hours")),
    RiskStory(
        "single-expert", "support", "Knowledge base held by one person", "people",
        4, 3, "Grace O'Connor", 10, 16.0, 45,
        treatment=Treatment(12, 10.0, "mitigate", "Pair Chloé on the knowledge base and "
                            "document the macros", "Tom is the only one who maintains it")),
    RiskStory(
        "cdc-lag", "data", "CDC replication lag corrupts downstream tables", "technical",
        4, 4, "Diego Alvarez", 11, 10.0, 29,
        assessments=(Assessment(29, 14.0, 4, 4, 4, 4, "No controls yet: replica-lag alerting "
                                "still not built", 42),)),
    RiskStory(
        "warehouse-cost", "data", "Warehouse spend overruns the budget", "financial",
        3, 3, "Marcus Webb", 4, 15.0, 18,
        assessments=(Assessment(18, 10.0, 3, 3, 3, 2, "Query budgets per team cap the worst "
                                "case", 48),),
        treatment=Treatment(18, 10.5, "mitigate", "Query budgets per team and a weekly cost "
                            "review", "The reserved-capacity deal fell through")),
]


@dataclass(frozen=True)
class PlanStory:
    key: str
    team: str
    title: str
    risks: tuple[str, ...]  # RiskStory keys
    owner: str
    day: int  # drafted (by the team's lead)
    hour: float
    steps: tuple[tuple[str, str], ...]  # (title, role responsible)
    drill: tuple[int, float, tuple[str, ...], str, str] | None = None
    """(day, hour, participants' names, outcome, lessons), recorded by the plan's owner."""
    revision: tuple[int, float, tuple[tuple[str, str], ...], str] | None = None
    """(day, hour, the new steps, reason), by the team's lead."""
    followed: bool = True  # in the incident linked to it


FAILOVER_STEPS = (
    ("Declare a SEV1 and open the bridge", "Incident Commander"),
    ("Freeze deploys on every cluster", "Platform Engineer"),
    ("Fail traffic over to eu-central-1", "Senior SRE"),
    ("Update the status page every 30 minutes", "Incident Commander"),
)

PLANS: list[PlanStory] = [
    PlanStory(
        "regional-failover", "sre", "Regional failover of kubernetes-prod",
        ("control-plane",), "Mei Lin Chen", 10, 15.0, FAILOVER_STEPS,
        drill=(22, 14.0, ("Mei Lin Chen", "Daniel Kowalski", "Jonas Petersen",
                          "Lucas Moreau", "Fatima Al-Sayed"),
               "Failover completed in 23 minutes against a 30-minute target",
               "Edge DNS records still had a 300 s TTL; lower it before failing over"),
        revision=(23, 11.0, (*FAILOVER_STEPS[:2],
                             ("Lower the edge DNS TTL to 60 s", "SRE"), *FAILOVER_STEPS[2:]),
                  "Lessons of the regional failover drill: lower the DNS TTL first")),
    PlanStory(
        "card-processor-outage", "payments", "Card processor outage",
        ("card-processor",), "Ravi Iyer", 21, 15.0, (
            ("Confirm the outage with the processor's status page", "Incident Commander"),
            ("Switch card routing to the second acquirer", "Payments Engineer"),
            ("Tell support and merchants which payments to retry", "Payments Ops Manager"),
            ("Reconcile the switched transactions next morning", "Reconciliation Analyst"),
        ), followed=False),
]
FORESEEN_TODAY = ("data", "cdc-lag")
"""This morning's CDC incident is linked to the risk that foresaw it (no plan)."""
