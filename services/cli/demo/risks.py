"""The demo's risks and contingency plans in business time: each risk of
:data:`~services.cli.demo.register.RISKS` identified, reviewed, treated, accepted or
closed, the two plans drafted, drilled and revised, and incidents linked to the risk
and plan that foresaw them.

Who does what: the team's lead (at that time) identifies risks, drafts and revises
plans and records acceptances and closings (``/accept`` is a lead's); reviews and
treatments are the owner's when the owner has a persona, else the lead's; a drill is
recorded by the plan's owner; an incident is linked by the team's incident commander.
A lead who owns a risk and records its acceptance (naming a colleague as approver) is
the ``risk_accepted_by_owner`` finding.

It draws nothing from the planner's random generator, so adding it left the rest of the
month as it was; the incidents it links are the month's (:attr:`Planner.opened`): for a
plan, the team's first incident opened after the plan was drafted (a SEV1 or SEV2 if
there is one), linked four hours later or just before the horizon, whichever is first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from services.cli.demo.clock import iso
from services.cli.demo.register import FORESEEN_TODAY, PLANS, RISKS, PlanStory, RiskStory

if TYPE_CHECKING:
    from services.cli.demo.incidents import Opened
    from services.cli.demo.plan import Planner

LINK_AFTER = timedelta(hours=4)
"""An incident is linked to what foresaw it this long after it opened (at the latest)."""
LINK_MARGIN = timedelta(minutes=5)
"""... and at least this long before the plan's horizon."""


class RiskPlanner:
    def __init__(self, planner: Planner) -> None:
        self.p = planner
        self.clock = planner.clock
        self.risk_ids = {r.key: planner.uid("risk", r.key) for r in RISKS}
        self.plan_ids = {plan.key: planner.uid("contingency-plan", plan.key) for plan in PLANS}

    def plan(self) -> None:
        for story in RISKS:
            self.risk(story)
        for plan in PLANS:
            self.contingency_plan(plan)
        self.foreseen_today()

    # -- who acts

    def lead(self, team: str, at: datetime) -> str:
        return self.p.lead_persona(team, at)

    def owner_or_lead(self, team: str, owner: str, at: datetime) -> str:
        return self.p.persona.get(owner) or self.lead(team, at)

    # -- the register

    def risk(self, r: RiskStory) -> None:
        p, clock = self.p, self.clock
        path = f"/v1/risks/{self.risk_ids[r.key]}"
        at = clock.at(r.day, r.hour)
        p.add("risks", "POST", "/v1/risks", {
            "team_id": p.team_ids[r.team], "title": r.title, "category": r.category,
            "likelihood": r.likelihood, "impact": r.impact, "owner_id": p.member_ids[r.owner],
            "review_by": clock.day_iso(r.review_day), "risk_id": self.risk_ids[r.key],
        }, self.lead(r.team, at), at)
        for a in r.assessments:
            at = clock.at(a.day, a.hour)
            p.add("risk_assessments", "POST", f"{path}/assess", {
                "likelihood": a.likelihood, "impact": a.impact,
                "residual_likelihood": a.residual_likelihood,
                "residual_impact": a.residual_impact, "note": a.note,
                "review_by": clock.day_iso(a.next_review_day),
            }, self.owner_or_lead(r.team, r.owner, at), at)
        if (t := r.treatment) is not None:
            at = clock.at(t.day, t.hour)
            body: dict[str, Any] = {"treatment": t.treatment, "reason": t.reason}
            if t.plan:
                body["plan"] = t.plan
            p.add("risk_treatments", "POST", f"{path}/treat", body,
                  self.owner_or_lead(r.team, r.owner, at), at)
        if (accepted := r.acceptance) is not None:
            at = clock.at(accepted.day, accepted.hour)
            p.add("risk_acceptances", "POST", f"{path}/accept", {
                "approver_id": p.member_ids[accepted.approver], "reason": accepted.reason,
            }, self.lead(r.team, at), at)
        if r.closing is not None:
            day, hour, reason = r.closing
            at = clock.at(day, hour)
            p.add("risks_closed", "POST", f"{path}/close", {"reason": reason},
                  self.lead(r.team, at), at)

    # -- the plans

    def contingency_plan(self, plan: PlanStory) -> None:
        p, clock = self.p, self.clock
        plan_id = self.plan_ids[plan.key]
        path = f"/v1/contingency-plans/{plan_id}"
        drafted = clock.at(plan.day, plan.hour)
        p.add("contingency_plans", "POST", "/v1/contingency-plans", {
            "team_id": p.team_ids[plan.team], "title": plan.title,
            "risk_ids": [self.risk_ids[k] for k in plan.risks],
            "steps": steps(plan.steps), "owner_id": p.member_ids[plan.owner],
            "plan_id": plan_id,
        }, self.lead(plan.team, drafted), drafted)
        if plan.drill is not None:
            day, hour, participants, outcome, lessons = plan.drill
            held = clock.at(day, hour)
            p.add("drills", "POST", f"{path}/exercise", {
                "held_at": iso(held), "participants": [p.member_ids[n] for n in participants],
                "outcome": outcome, "lessons": lessons,
            }, self.owner_or_lead(plan.team, plan.owner, held), held)
        if plan.revision is not None:
            day, hour, new_steps, reason = plan.revision
            at = clock.at(day, hour)
            p.add("plan_revisions", "POST", f"{path}/revise",
                  {"steps": steps(new_steps), "reason": reason}, self.lead(plan.team, at), at)
        incident = self.first_incident(plan.team, drafted)
        if incident is not None:
            self.link(incident, {"risk_id": self.risk_ids[plan.risks[0]], "plan_id": plan_id,
                                 "plan_followed": plan.followed})

    # -- incidents linked to what foresaw them

    def first_incident(self, team: str, after: datetime) -> Opened | None:
        """The team's first incident opened after ``after`` (a SEV1 or SEV2 if any)."""
        later = sorted((o for o in self.p.opened if o.team == team and o.at > after
                        and o.at + LINK_MARGIN < self.p.horizon), key=lambda o: o.at)
        serious = [o for o in later if o.severity in ("SEV1", "SEV2")]
        return next(iter(serious or later), None)

    def link(self, incident: Opened, body: dict[str, Any]) -> None:
        at = min(incident.at + LINK_AFTER, self.p.horizon - LINK_MARGIN)
        self.p.add("incident_links", "POST", f"/v1/incidents/{incident.incident_id}/links",
                   body, self.p.team_personas(incident.team)[0], at)

    def foreseen_today(self) -> None:
        team, key = FORESEEN_TODAY
        today = self.p.uid("incident", f"today-{team}")
        for incident in (o for o in self.p.opened if o.incident_id == today):
            self.link(incident, {"risk_id": self.risk_ids[key]})


def steps(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"title": title, "role": role} for title, role in pairs]
