"""The demo month's trainings and policies, as data (the planner is
:mod:`services.cli.demo.training`).

Seven trainings over the four teams, each required for some roles, so that defining
one assigns it to the members in those roles (due 30 days later) and the month's role
changes assign theirs by themselves (Jonas to Senior SRE, Kwame to Incident Commander,
Priya to Data Platform Lead, Samuel to Escalation Specialist). Completions on time,
late (``training_overdue``, resolved) and missing (open); SRE's break-glass drill is
valid for 28 days only, so Jonas's early completion has expired by today
(``training_expired``). One assignment is made by hand: Grace asks Aiko to take the
customer data course by day 20, and Aiko does it two days late.

One policy per team, published early in the month and updated to version 2 in its
middle (SRE's after the ``ack_sla`` change of day 16). Members acknowledge each version
a few days after it came out, except those named: late for version 1 (after the 14
days of ``policy_unacknowledged``: resolved by the acknowledgement), never for version
1 (resolved when version 2 superseded it) and never for version 2 (still open).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingStory:
    key: str
    team: str
    title: str
    roles: tuple[str, ...]  # required_for_roles
    valid_for_days: int | None
    day: int  # defined, by the team's lead
    hour: float
    done: tuple[tuple[str, int, float], ...] = ()
    """(member, day, hour) of each completion, by the member's persona or the lead."""
    by_hand: tuple[tuple[str, int, int], ...] = ()
    """(member, day assigned, day due) of the assignments the lead makes."""


TRAININGS: list[TrainingStory] = [
    TrainingStory(
        "incident-command", "sre", "Incident command essentials",
        ("Incident Commander", "Senior SRE"), 365, 1, 11.0,
        done=(("Mei Lin Chen", 4, 14.0), ("Jonas Petersen", 20, 15.0),
              ("Daniel Kowalski", 33, 11.0))),  # due day 31: two days late
    TrainingStory(
        "break-glass", "sre", "Break-glass production access drill",
        ("SRE", "Platform Engineer"), 28, 1, 11.5,
        done=(("Jonas Petersen", 3, 16.0),  # expired on day 31
              ("Fatima Al-Sayed", 10, 11.0))),  # Lucas never does it: overdue
    TrainingStory(
        "pci-awareness", "payments", "PCI DSS security awareness",
        ("Payments Engineer", "Reconciliation Analyst", "Fraud Ops Analyst"), 365, 2, 10.0,
        done=(("Kwame Mensah", 7, 10.0), ("Hannah Schmidt", 12, 14.0),
              ("Elena Rossi", 33, 15.0))),  # due day 32; Tomás never: overdue
    TrainingStory(
        "ic-certification", "payments", "Incident commander certification",
        ("Incident Commander",), 365, 2, 10.5,
        done=(("Ravi Iyer", 5, 16.0), ("Kwame Mensah", 26, 11.0))),
    TrainingStory(
        "escalations", "support", "Escalation handling and incident comms",
        ("Escalation Specialist",), 365, 3, 10.0,
        done=(("Aiko Tanaka", 9, 11.0), ("Samuel Adeyemi", 30, 10.0))),
    TrainingStory(
        "customer-data", "support", "Customer data handling (GDPR)",
        ("Support Engineer", "Support Tooling Engineer"), 365, 3, 10.5,
        done=(("Yusuf Demir", 11, 15.0), ("Samuel Adeyemi", 14, 10.0),
              ("Aiko Tanaka", 22, 16.0)),  # assigned by hand, due day 20
        by_hand=(("Aiko Tanaka", 6, 20),)),  # Chloé never does it: overdue
    TrainingStory(
        "data-protection", "data", "Production data protection",
        ("Data Platform Lead", "Data Reliability Engineer", "Database Administrator"),
        365, 2, 11.0,
        done=(("Marcus Webb", 6, 10.0), ("Nadia Haddad", 8, 15.0),
              ("Priya Raman", 24, 11.0))),  # Diego never does it: overdue
]


@dataclass(frozen=True)
class PolicyStory:
    team: str
    title: str
    slug: str
    published: tuple[int, float]  # version 1 (day, hour), by the team's lead
    updated: tuple[int, float]  # version 2
    late_v1: tuple[str, ...] = ()  # acknowledge version 1 after 14 days
    never_v1: tuple[str, ...] = ()  # never acknowledge version 1
    never_v2: tuple[str, ...] = ()  # never acknowledge version 2


POLICIES: list[PolicyStory] = [
    PolicyStory("sre", "On-call and escalation policy", "on-call", (1, 12.0), (17, 10.0),
                late_v1=("Lucas Moreau",), never_v2=("Daniel Kowalski", "Jonas Petersen")),
    PolicyStory("payments", "Cardholder data handling policy", "cardholder-data",
                (2, 12.0), (18, 10.0), never_v1=("Tomás Silva",),
                never_v2=("Elena Rossi",)),
    PolicyStory("support", "Customer data access policy", "customer-data-access",
                (2, 12.5), (19, 10.0), late_v1=("Yusuf Demir",),
                never_v2=("Samuel Adeyemi",)),
    PolicyStory("data", "Data retention and deletion policy", "data-retention",
                (3, 12.0), (18, 14.0), never_v1=("Oliver Novak",),
                never_v2=("Diego Alvarez",)),
]
VERSIONS = ("1", "2")
LATE_DAYS = 15
"""A late acknowledgement of version 1 comes this many days after its publication."""
