"""The demo's incidents: two a week per team, each with a lifecycle in business time.

Most pages are acknowledged within minutes; two are acknowledged past their SLA (15
and 60 minutes for SEV1 and SEV2 by default), one of them before the SEV2 SLA is
tightened to 30 minutes (:data:`~services.cli.demo.scenario.POLICY_CHANGE`), one SEV2 after it is
acknowledged within the old SLA but past the new one (judged by policy version 2),
and one SEV2 from this morning is not acknowledged at all. Resolutions take hours,
postmortems days: one is published late (8 working days), one is missing; their action
items are followed up by :mod:`services.cli.demo.followups`. Some incidents learn at
review that the impact began before the alert (time to detect); one page is a
duplicate of another; one incident is reopened. A lifecycle step due after the plan's
horizon is not taken, so the latest incidents are still in flight, and today's four
are set at minutes before the anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from projections.compliance_controls import add_working_days
from services.cli.demo.clock import DAYS, iso
from services.cli.demo.followups import Item
from services.cli.demo.scenario import ALERTS, POLICY_CHANGE, TEAMS
from services.cli.demo.words import (
    DUPLICATE_REASON,
    ESCALATION_REASONS,
    IMPACT_REASONS,
    INCIDENT_SUMMARIES,
    LATE_INCIDENT,
    MITIGATIONS,
    NOTES,
    POSTMORTEM_ACTIONS,
    POSTMORTEM_CAUSE,
    REOPEN_REASON,
    ROOT_CAUSES,
)

if TYPE_CHECKING:
    from services.cli.demo.plan import Planner

SERVICES = {t["key"]: list(t["services"]) for t in TEAMS}
SEVERITIES = ["SEV1", "SEV2", "SEV2", "SEV3", "SEV3", "SEV3", "SEV4", "SEV4", "SEV4", "SEV4"]
"""Each team's ten incidents of the month (two a week)."""
ACK_MINUTES = {"SEV1": (1, 8), "SEV2": (1.5, 12), "SEV3": (2, 15), "SEV4": (2, 25)}
LATE_ACK_MINUTES = {"SEV1": (22, 35), "SEV2": (80, 110)}
SLOW_ACK_MINUTES = {"SEV2": (35, 50)}
"""Within the settings' SEV2 SLA (60 minutes), past the tightened one (30)."""
UP = {"SEV4": "SEV3", "SEV3": "SEV2", "SEV2": "SEV1"}


class Opened(NamedTuple):
    """An incident of the month (not a duplicate page, not a late entry), as the risks
    planner (:mod:`services.cli.demo.risks`) links them to what foresaw them."""

    incident_id: str
    team: str
    severity: str
    service: str
    at: datetime


@dataclass
class Spec:
    n: int
    team: str
    severity: str
    opened: datetime
    service: str
    opener: str
    late_ack: bool = False
    slow_ack: bool = False  # after the SLA change: late by version 2 only
    escalate: bool = False
    postmortem: str = "on_time"  # on_time | late | missing (SEV1/SEV2 only)
    impact_minutes: float | None = None
    twin: bool = False  # paged twice: a second incident, closed as its duplicate
    reopen: bool = False

    @property
    def final(self) -> str:
        return UP[self.severity] if self.escalate else self.severity


class IncidentPlanner:
    def __init__(self, planner: Planner) -> None:
        self.p = planner
        self.rng = planner.rng
        self.clock = planner.clock

    def plan(self) -> None:
        for spec in self.specs():
            self.lifecycle(spec)
        self.in_flight()

    # -- who does what

    def commander(self, team: str) -> str:
        return self.p.team_personas(team)[0]

    def open(self, incident_id: str, team: str, severity: str, service: str, summary: str,
             by: str, at: datetime, *, duplicate: bool = False) -> str:
        self.p.add("incidents", "POST", "/v1/incidents", {
            "team_id": self.p.team_ids[team], "severity": severity, "service": service,
            "summary": summary, "incident_id": incident_id,
        }, by, at)
        if not duplicate:
            self.p.opened.append(Opened(incident_id, team, severity, service, at))
        return f"/v1/incidents/{incident_id}"

    def summary(self, service: str) -> str:
        return str(self.rng.choice(INCIDENT_SUMMARIES).format(service=service))

    # -- the month's incidents

    def specs(self) -> list[Spec]:
        specs: list[Spec] = []
        for team in SERVICES:
            severities = list(SEVERITIES)
            self.rng.shuffle(severities)
            days = [d for week in range(5)
                    for d in sorted(self.rng.sample(range(1 + 7 * week, min(7 + 7 * week,
                                                                           DAYS - 1) + 1), 2))]
            for severity, day in zip(severities, days, strict=True):
                hour = (self.rng.uniform(8, 19) if self.rng.random() < 0.7
                        else self.rng.uniform(0, 24))
                opened = self.clock.at(day, hour)
                opener = (ALERTS if self.rng.random() < 0.75 else self.p.on_call(team, opened))
                impact = (self.rng.uniform(5, 25) if self.rng.random() < 0.25 else None)
                specs.append(Spec(len(specs), team, severity, opened,
                                  self.rng.choice(SERVICES[team]), opener,
                                  impact_minutes=impact))

        def first(team: str, severities: set[str], latest_day: int = DAYS,
                  earliest_day: int = 0) -> Spec:
            """The team's first plain incident that fits, else any team's (a seed
            may deal a team no such incident)."""
            fits = [s for s in specs if s.severity in severities
                    and earliest_day <= self.clock.day_of(s.opened) <= latest_day
                    and not (s.late_ack or s.slow_ack or s.escalate or s.twin or s.reopen
                             or s.postmortem != "on_time")]
            ours = [s for s in fits if s.team == team]
            if not (ours or fits):
                raise AssertionError(f"seed {self.p.seed} deals no {severities} incident "
                                     f"by day {latest_day}")
            return (ours or fits)[0]

        # late by the settings' SLA (version 1), then one late by the tightened one only
        before = POLICY_CHANGE.effective_day - 1
        first("payments", {"SEV1", "SEV2"}, latest_day=before).late_ack = True
        first("sre", {"SEV1"}).late_ack = True
        for team, severity in (("support", "SEV3"), ("data", "SEV2"), ("sre", "SEV4")):
            first(team, {severity}).escalate = True
        first("payments", {"SEV1", "SEV2"}, latest_day=18).postmortem = "late"
        first("data", {"SEV2"}, latest_day=25).postmortem = "missing"
        first("support", {"SEV2"}, earliest_day=before + 1, latest_day=DAYS - 2).slow_ack = True
        first("sre", {"SEV2"}).twin = True
        first("support", {"SEV3"}, latest_day=30).reopen = True
        return specs

    def lifecycle(self, spec: Spec) -> None:
        rng, p, horizon = self.rng, self.p, self.p.horizon
        incident_id = p.uid("incident", str(spec.n))
        path = self.open(incident_id, spec.team, spec.severity, spec.service,
                         self.summary(spec.service), spec.opener, spec.opened)
        minutes = (LATE_ACK_MINUTES if spec.late_ack else SLOW_ACK_MINUTES if spec.slow_ack
                   else ACK_MINUTES)
        low, high = minutes[spec.severity]
        acked = spec.opened + p.jitter(low, high)
        if acked > horizon:
            return
        acker = p.on_call(spec.team, spec.opened)
        if spec.twin:
            self.twin(spec, incident_id, acker, acked)
        p.add("acknowledgements", "POST", f"{path}/acknowledge", None, acker, acked)
        at = self.respond(spec, path, acker, acked)
        if at > horizon:
            return
        if spec.escalate:
            at += p.jitter(10, 30)
            if at > horizon:
                return
            p.add("escalations", "POST", f"{path}/escalate", {
                "severity": spec.final, "reason": rng.choice(ESCALATION_REASONS)}, acker, at)
        if spec.final in ("SEV1", "SEV2") or rng.random() < 0.6:
            at += p.jitter(10, 45) if spec.final == "SEV1" else p.jitter(15, 120)
            if at > horizon:
                return
            p.add("mitigations", "POST", f"{path}/mitigate",
                  {"summary": rng.choice(MITIGATIONS)}, acker, at)
        at += p.jitter(30, 240) if spec.final in ("SEV1", "SEV2") else p.jitter(45, 480)
        resolved = self.resolve(spec, path, acker, at)
        if resolved is None:
            return
        if spec.reopen:
            resolved = self.reopen(spec, path, resolved)
            if resolved is None:
                return
        closing = resolved + p.jitter(120, 30 * 60)
        if spec.final in ("SEV1", "SEV2"):
            published = self.postmortem(spec, incident_id, resolved)
            if published is None:
                return
            closing = published + p.jitter(60, 20 * 60)
        if closing <= horizon:
            p.add("incidents_closed", "POST", f"{path}/close", None,
                  p.lead_persona(spec.team, closing), closing)

    def respond(self, spec: Spec, path: str, acker: str, acked: datetime) -> datetime:
        """Responders and notes after the acknowledgement; answers the last one's time."""
        rng, p = self.rng, self.p
        at = acked
        count = 3 if spec.final == "SEV1" else rng.randint(1, 2)
        steps: list[tuple[str, str, dict[str, Any], str, datetime]] = []
        for name in rng.sample(p.active(spec.team, acked), count):
            at += p.jitter(1, 3)
            steps.append(("assignments", "assign", {"responder_id": p.member_ids[name]},
                          acker, at))
        for text in rng.sample(NOTES, rng.randint(1, 3)):
            at += p.jitter(3, 15)
            who = rng.choice([acker, self.commander(spec.team)])
            steps.append(("notes", "notes", {"text": text}, who, at))
        for kind, route, body, who, when in steps:
            if when <= p.horizon:
                p.add(kind, "POST", f"{path}/{route}", body, who, when)
        return at

    def resolve(self, spec: Spec, path: str, by: str, at: datetime) -> datetime | None:
        p = self.p
        if at > p.horizon:
            return None
        p.add("resolutions", "POST", f"{path}/resolve", {
            "summary": f"Service healthy for 30 minutes after the fix on {spec.service}",
            "root_cause": self.rng.choice(ROOT_CAUSES),
        }, by, at)
        if spec.impact_minutes is not None:
            learnt = at + p.jitter(20, 40)
            if learnt <= p.horizon:
                p.add("impact", "POST", f"{path}/impact", {
                    "started_at": iso(spec.opened - timedelta(minutes=spec.impact_minutes)),
                    "reason": self.rng.choice(IMPACT_REASONS),
                }, self.commander(spec.team), learnt)
                return learnt
        return at

    def reopen(self, spec: Spec, path: str, resolved: datetime) -> datetime | None:
        p = self.p
        day = self.clock.day_of(resolved) + 1
        reopened = self.clock.at(day, 9 + self.rng.uniform(0, 1))
        if reopened + timedelta(hours=4) > p.horizon:
            return resolved
        who = p.on_call(spec.team, reopened)
        p.add("reopenings", "POST", f"{path}/reopen", {"reason": REOPEN_REASON}, who, reopened)
        acked = reopened + p.jitter(3, 8)
        p.add("acknowledgements", "POST", f"{path}/acknowledge", None, who, acked)
        return self.resolve(spec, path, who, acked + p.jitter(60, 180))

    def postmortem(self, spec: Spec, incident_id: str, resolved: datetime) -> datetime | None:
        rng, p = self.rng, self.p
        if spec.postmortem == "missing":
            return None
        days = 8 if spec.postmortem == "late" else rng.randint(1, 4)
        day = add_working_days(resolved, days)
        published = day.replace(hour=15, minute=rng.randint(0, 59), second=0)
        if published > p.horizon:
            return None
        owners = rng.sample(p.active(spec.team, published), 2)
        actions = rng.sample(POSTMORTEM_ACTIONS, len(owners))
        items = [Item.published(incident_id, spec.team, n, title, owner,
                                published.date() + timedelta(days=rng.randint(5, 21)),
                                published)
                 for n, (title, owner) in enumerate(zip(actions, owners, strict=True), 1)]
        p.add("postmortems", "POST", f"/v1/incidents/{incident_id}/postmortem", {
            "causes": [rng.choice(ROOT_CAUSES).capitalize(), POSTMORTEM_CAUSE],
            "action_items": [{"title": i.title, "owner_id": p.member_ids[i.owner],
                              "due": i.due.isoformat()} for i in items],
        }, self.commander(spec.team), published)
        p.items += items
        return published

    def twin(self, spec: Spec, original_id: str, acker: str, acked: datetime) -> None:
        p = self.p
        twin_id = p.uid("incident", f"{spec.n}-twin")
        service = next(s for s in SERVICES[spec.team] if s != spec.service)
        path = self.open(twin_id, spec.team, spec.severity, service, self.summary(service),
                         ALERTS, spec.opened + p.jitter(0.5, 1.5), duplicate=True)
        # acknowledged with its original, then closed as its duplicate
        p.add("acknowledgements", "POST", f"{path}/acknowledge", None, acker,
              acked + timedelta(seconds=10))
        p.add("duplicates", "POST", f"{path}/duplicate",
              {"of_incident_id": original_id, "reason": DUPLICATE_REASON}, acker,
              acked + timedelta(seconds=30))

    # -- today

    def in_flight(self) -> None:
        """Four of this morning's incidents, one per status short of resolved; the
        SEV2 nobody acknowledged is an open ``ack_sla`` finding."""
        p, clock = self.p, self.clock
        self.open(p.uid("incident", "today-sre"), "sre", "SEV2", "checkout-api",
                  "Checkout API error rate above 2% (the page went to a muted channel)",
                  ALERTS, clock.ago(130))
        self.open(p.uid("incident", "today-support"), "support", "SEV4", "help-centre",
                  "Help-centre search returns no results for some locales",
                  p.on_call("support", clock.ago(35)), clock.ago(35))
        for team, severity, service, opened, stages in (
                ("payments", "SEV3", "payout-scheduler", 95, ("ack",)),
                ("data", "SEV1", "cdc-replicator", 180, ("ack", "mitigate"))):
            path = self.open(p.uid("incident", f"today-{team}"), team, severity, service,
                             self.summary(service), ALERTS, clock.ago(opened))
            acker = p.on_call(team, clock.ago(opened))
            acked = clock.ago(opened) + p.jitter(2, 7)
            p.add("acknowledgements", "POST", f"{path}/acknowledge", None, acker, acked)
            at = self.respond(Spec(-1, team, severity, acked, service, acker), path, acker,
                              acked)
            if "mitigate" in stages:
                p.add("mitigations", "POST", f"{path}/mitigate",
                      {"summary": self.rng.choice(MITIGATIONS)}, acker, at + p.jitter(20, 30))


def late_incident(planner: Planner) -> None:
    """A night page handled by phone and entered hours later, outside the import run:
    its opening, acknowledgement and resolution are each a ``backdated_entry``."""
    p, clock, spec = planner, planner.clock, LATE_INCIDENT
    by = str(spec["by"])
    path = f"/v1/incidents/{p.uid('incident', 'late')}"
    body: dict[str, Any] = {
        "team_id": p.team_ids[str(spec["team"])], "severity": spec["severity"],
        "service": spec["service"], "summary": spec["summary"],
        "incident_id": p.uid("incident", "late"),
    }
    p.add("incidents", "POST", "/v1/incidents", body, by, clock.ago(300), late=True)
    p.add("acknowledgements", "POST", f"{path}/acknowledge", None, by, clock.ago(296),
          late=True)
    p.add("resolutions", "POST", f"{path}/resolve",
          {"summary": spec["resolution"], "root_cause": "processor maintenance window"},
          by, clock.ago(240), late=True)
