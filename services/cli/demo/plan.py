"""The demo's plan: every command of the month, with who makes it and when it happened,
built before the first request (so the progress bar knows the total).

Repeatable: every choice comes from ``random.Random(seed)``, every entity id is a
``uuid5`` of the seed and the entity's name, every time is a function of the anchor
(:mod:`services.cli.demo.clock`), and every command gets the idempotency key
``demo-month-<seed>-<n>`` (``n`` = its place in the plan).

The history is sorted by business time before it is numbered, so each aggregate's
commands reach the server in the order they happened (the server refuses a change
dated before the aggregate's latest event); the late entries come after it, outside
the import run.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, uuid5

from services.cli.demo.clock import DAYS, Clock, iso
from services.cli.demo.followups import FollowUps, Item
from services.cli.demo.scenario import (
    ADMIN,
    CHECK_IN_DAYS,
    DEPARTURE,
    GOALS,
    LEAD_CHANGE,
    PERSONAS,
    ROLE_CHANGES,
    TEAMS,
    Goal,
)
from services.cli.demo.words import (
    CHANNELS,
    CHECK_IN_NOTES,
    CLOSING_NOTES,
    CUSTOMER_TEXTS,
    LATE_CHECK_IN,
    LATE_FEEDBACK,
    MANAGER_TEXTS,
    PEER_TEXTS,
    RESOLUTIONS,
)

if TYPE_CHECKING:
    from services.cli.demo.incidents import Opened

DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/demo")
MAX_STEPS = 5_000
"""A bound on the plan's size (it is about 770 steps); a bigger plan is a bug."""
HORIZON_MINUTES = 20
"""History ends this long before the anchor; a lifecycle step due later is not taken."""


@dataclass(frozen=True)
class Step:
    """One command: what it counts as, who makes it, when it happened, the request."""

    kind: str
    method: str
    path: str
    body: dict[str, Any] | None
    actor: str = ADMIN  # a persona's principal, or ADMIN
    at: datetime | None = None  # business time (the body's occurred_at)
    in_run: bool = True  # sent with the OpsLedger-Import-Run header
    key: str = ""


def demo_uid(seed: int, kind: str, name: str) -> str:
    """The id of the demo's entity ``name`` of ``kind``: the same for the same seed."""
    return str(uuid5(DEMO_NAMESPACE, f"month/seed-{seed}/{kind}/{name}"))


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ".".join(ascii_name.lower().replace("'", "").split())


class Planner:
    """Builds the month as a list of steps; every choice comes from ``rng``."""

    def __init__(self, seed: int, clock: Clock) -> None:
        self.seed = seed
        self.clock = clock
        self.horizon = clock.ago(HORIZON_MINUTES)
        self.rng = random.Random(seed)  # noqa: S311 - a repeatable demo, not security
        self.steps: list[Step] = []
        self.late: list[Step] = []
        self.team_ids = {t["key"]: self.uid("team", t["name"]) for t in TEAMS}
        self.member_ids = {m[0]: self.uid("member", m[0]) for t in TEAMS for m in t["members"]}
        self.roster = {t["key"]: [m[0] for m in t["members"]] for t in TEAMS}
        self.persona = {p.member: p.principal for p in PERSONAS if p.member}
        day, hour, _, name, _ = DEPARTURE
        self.left = {name: clock.at(day, hour)}
        self.goal_ids = {g.title: self.uid("goal", g.title) for g in GOALS}
        self.items: list[Item] = []  # the postmortems' action items, as planned
        self.opened: list[Opened] = []  # the month's incidents, as planned

    # -- helpers

    def uid(self, kind: str, name: str) -> str:
        return demo_uid(self.seed, kind, name)

    def add(self, kind: str, method: str, path: str, body: dict[str, Any] | None,
            actor: str, at: datetime, *, late: bool = False) -> None:
        stamped = {**(body or {}), "occurred_at": iso(at)}
        step = Step(kind, method, path, stamped, actor, at, in_run=not late)
        (self.late if late else self.steps).append(step)

    def active(self, team: str, at: datetime) -> list[str]:
        """The team's members on it at ``at``, in roster order (so repeatable)."""
        return [n for n in self.roster[team] if n not in self.left or self.left[n] > at]

    def lead(self, team: str, at: datetime) -> str:
        day, hour, lead_team, name, _ = LEAD_CHANGE
        if team == lead_team and at >= self.clock.at(day, hour):
            return name
        return self.roster[team][0]

    def lead_persona(self, team: str, at: datetime) -> str:
        return self.persona[self.lead(team, at)]

    def team_personas(self, team: str) -> list[str]:
        """The principals of the team's member personas (not its leads)."""
        return [p.principal for p in PERSONAS if p.team == team and p.role == "member"]

    def on_call(self, team: str, at: datetime) -> str:
        """Who carries the pager: the team's personas in turn, a week each."""
        rota = [*self.team_personas(team), self.lead_persona(team, at)]
        return rota[(self.clock.day_of(at) // 7) % len(rota)]

    def jitter(self, low: float, high: float) -> timedelta:
        return timedelta(seconds=round(self.rng.uniform(low, high) * 60))

    # -- the month

    def build(self) -> list[Step]:
        from services.cli.demo.controls import late_revision_waived, policy_change
        from services.cli.demo.incidents import IncidentPlanner
        from services.cli.demo.risks import RiskPlanner
        from services.cli.demo.training import TrainingPlanner

        self.organise()
        self.team_changes()
        self.goals()
        policy_change(self)
        IncidentPlanner(self).plan()
        FollowUps(self).plan()
        RiskPlanner(self).plan()
        TrainingPlanner(self).plan()
        late_revision_waived(self)
        self.feedback()
        self.late_entries()
        history = sorted(self.steps, key=lambda s: s.at or self.clock.formed)
        late = [s for s in history if s.at is not None and s.at > self.horizon]
        if late:
            raise AssertionError(f"a history step lies after the horizon: {late[0]}")
        steps = [*history, *self.late]
        if len(steps) > MAX_STEPS:
            raise AssertionError(f"the demo plan has {len(steps)} steps (> {MAX_STEPS})")
        return [replace(s, key=f"demo-month-{self.seed}-{n}")
                for n, s in enumerate(steps, start=1)]

    def organise(self) -> None:
        formed = self.clock.formed
        for n, team in enumerate(TEAMS):
            team_id = self.team_ids[team["key"]]
            at = formed + timedelta(minutes=n)  # the first team: exactly the anchor - DAYS
            self.add("teams", "POST", "/v1/teams",
                     {"name": team["name"], "mission": team["mission"], "team_id": team_id},
                     ADMIN, at)
            for m, (name, role, duties) in enumerate(team["members"]):
                body: dict[str, Any] = {
                    "name": name, "email": f"{slug(name)}@opsledger.example", "role": role,
                    "member_id": self.member_ids[name], "responsibilities": list(duties),
                }
                if name in self.persona:
                    body["principal"] = self.persona[name]
                self.add("members", "POST", f"/v1/teams/{team_id}/members", body, ADMIN,
                         at + timedelta(minutes=10, seconds=30 * m))
            lead = team["members"][0][0]
            self.add("lead_changes", "POST", f"/v1/teams/{team_id}/lead", {
                "member_id": self.member_ids[lead],
                "reason": f"{lead} leads {team['name']} from its formation",
            }, ADMIN, at + timedelta(minutes=20))

    def team_changes(self) -> None:
        for change in ROLE_CHANGES:
            at = self.clock.at(change.day, change.hour)
            body: dict[str, Any] = {"role": change.role, "reason": change.reason,
                                    "effective_date": self.clock.day_iso(change.effective_day)}
            if change.responsibilities is not None:
                body["responsibilities"] = list(change.responsibilities)
            team_id = self.team_ids[change.team]
            self.add("role_changes", "POST",
                     f"/v1/teams/{team_id}/members/{self.member_ids[change.member]}/role",
                     body, self.lead_persona(change.team, at), at)
        day, hour, team, name, reason = LEAD_CHANGE
        at = self.clock.at(day, hour)
        self.add("lead_changes", "POST", f"/v1/teams/{self.team_ids[team]}/lead",
                 {"member_id": self.member_ids[name], "reason": reason},
                 self.lead_persona(team, at - timedelta(seconds=1)), at)
        day, hour, team, name, reason = DEPARTURE
        at = self.clock.at(day, hour)
        self.add("departures", "POST",
                 f"/v1/teams/{self.team_ids[team]}/members/{self.member_ids[name]}/leave",
                 {"reason": reason}, self.lead_persona(team, at), at)

    # -- goals

    def goals(self) -> None:
        for n, goal in enumerate(GOALS):
            set_at = self.clock.at(1, 10 + n / 6)
            goal_id = self.goal_ids[goal.title]
            self.add("goals", "POST", "/v1/goals", {
                "team_id": self.team_ids[goal.team], "owner_id": self.member_ids[goal.owner],
                "title": goal.title, "metric": goal.metric, "baseline": goal.baseline,
                "target": goal.target, "unit": goal.unit,
                "deadline": self.clock.day_iso(goal.deadline_day), "goal_id": goal_id,
            }, self.lead_persona(goal.team, set_at), set_at)
            self.goal_life(n, goal, goal_id)

    def goal_life(self, n: int, goal: Goal, goal_id: str) -> None:
        path = f"/v1/goals/{goal_id}"
        closed_on = goal.outcome[0] if goal.outcome else DAYS
        target = goal.target
        pace = self.rng.uniform(0.1, 0.2)
        for week, day in enumerate(CHECK_IN_DAYS, start=1):
            if goal.revision is not None and goal.revision[0] < day:
                target = goal.revision[1]
            if day >= closed_on:
                break
            at = self.clock.at(day, 16 + n / 6)
            noise = self.rng.uniform(-0.03, 0.03)
            outcome = goal.outcome[1] if goal.outcome else None
            share = (0.27 * week if outcome == "achieved" else 0.06 * week if outcome
                     else pace * week + noise)
            value = round(goal.baseline + (target - goal.baseline) * share, 2)
            who = self.persona.get(goal.owner) or self.lead_persona(goal.team, at)
            self.add("check_ins", "POST", f"{path}/check-ins", {
                "value": value, "note": f"Week {week}: {self.rng.choice(CHECK_IN_NOTES)}",
            }, who, at)
        if goal.revision is not None:
            day, new_target, reason = goal.revision
            at = self.revised_at(n, day)
            self.add("target_revisions", "POST", f"{path}/target",
                     {"target": new_target, "reason": reason},
                     self.lead_persona(goal.team, at), at)
        if goal.outcome is not None:
            day, outcome = goal.outcome
            at = self.clock.at(day, 17 + n / 6)
            self.add("goals_closed", "POST", f"{path}/close",
                     {"outcome": outcome, "note": CLOSING_NOTES[outcome]},
                     self.lead_persona(goal.team, at), at)

    def revised_at(self, n: int, day: int) -> datetime:
        """When the ``n``-th goal's target is revised, on day ``day``."""
        return self.clock.at(day, 11 + n / 6)

    # -- feedback

    def feedback(self) -> None:
        kinds = ["customer"] * 36 + ["peer"] * 12 + ["manager"] * 8
        self.rng.shuffle(kinds)
        weights = {"support": 0.4, "payments": 0.3, "sre": 0.15, "data": 0.15}
        teams = list(weights)
        for n, kind in enumerate(kinds):
            team = self.rng.choices(teams, weights=[weights[t] for t in teams])[0]
            day = 1 + n * (DAYS - 2) // len(kinds)
            self.feedback_item(n, kind, team, self.clock.at(day, self.rng.uniform(8, 19)))

    def feedback_item(self, n: int, kind: str, team: str, at: datetime) -> None:
        rng = self.rng
        feedback_id = self.uid("feedback", str(n))
        body: dict[str, Any] = {"kind": kind, "team_id": self.team_ids[team]}
        author = rng.choice(self.team_personas(team))
        if kind == "customer":
            score = rng.choice([0, 2, 3, 4, 5, 6, 7, 7, 8, 8, 9, 9, 10, 10])
            band = "good" if score >= 8 else "meh" if score >= 5 else "bad"
            body.update(text=rng.choice(CUSTOMER_TEXTS[team][band]),
                        channel=rng.choice(CHANNELS), score=score)
        else:
            if kind == "manager":
                author = self.lead_persona(team, at)
            me = next(m for m, p in self.persona.items() if p == author)
            subject = rng.choice([m for m in self.active(team, at)
                                  if m not in (me, self.lead(team, at))])
            texts = PEER_TEXTS if kind == "peer" else MANAGER_TEXTS
            score = rng.randint(5, 10)
            body.update(text=rng.choice(texts).format(first=subject.split()[0]),
                        subject_member_id=self.member_ids[subject], score=score)
        body["feedback_id"] = feedback_id
        self.add("feedback", "POST", "/v1/feedback", body, author, at)
        triaged = at + self.jitter(20, 8 * 60)
        if rng.random() < 0.15 or triaged > self.horizon:
            return  # still waiting for triage
        priority = ("urgent" if score <= 2 else "high" if score <= 4
                    else "medium" if score <= 6 else "low")
        owner = (self.lead(team, triaged) if priority in ("urgent", "high")
                 else rng.choice(self.active(team, triaged)))
        self.add("triaged", "POST", f"/v1/feedback/{feedback_id}/triage",
                 {"priority": priority, "owner_id": self.member_ids[owner]},
                 self.lead_persona(team, triaged), triaged)
        resolved = triaged + self.jitter(60, 3 * 24 * 60)
        if rng.random() < 0.75 and resolved <= self.horizon:
            who = self.persona.get(owner) or self.lead_persona(team, resolved)
            self.add("feedback_resolved", "POST", f"/v1/feedback/{feedback_id}/resolve",
                     {"resolution": rng.choice(RESOLUTIONS)}, who, resolved)

    # -- today's late entries (outside the import run)

    def late_entries(self) -> None:
        from services.cli.demo.incidents import late_incident

        late_incident(self)
        title, who, note = LATE_CHECK_IN
        goal = next(g for g in GOALS if g.title == title)
        self.add("check_ins", "POST", f"/v1/goals/{self.goal_ids[title]}/check-ins",
                 {"value": round(goal.baseline + (goal.target - goal.baseline) * 0.8, 2),
                  "note": note}, who, self.clock.ago(180), late=True)
        team, who, channel, score, text = LATE_FEEDBACK
        self.add("feedback", "POST", "/v1/feedback", {
            "kind": "customer", "team_id": self.team_ids[team], "text": text,
            "channel": channel, "score": score, "feedback_id": self.uid("feedback", "late"),
        }, who, self.clock.ago(240), late=True)


def build_plan(seed: int, clock: Clock) -> tuple[list[Step], Planner]:
    planner = Planner(seed, clock)
    return planner.build(), planner


__all__ = ["ADMIN", "Planner", "Step", "build_plan", "demo_uid", "slug"]
