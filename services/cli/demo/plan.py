"""The demo's plan: every command of the month, in order, built before the first
request (so the progress bar knows the total).

Repeatable: every choice comes from ``random.Random(seed)``, every entity id is a
``uuid5`` of the seed and the entity's name, and every command gets the
idempotency key ``demo-<seed>-<n>`` (``n`` = its step). Dates in bodies are
relative to an *anchor* day (see :func:`services.cli.demo.run_demo`).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from services.cli.demo.client import DemoError
from services.cli.demo.scenario import (
    CHANNELS,
    CHECK_IN_NOTES,
    CLOSING_NOTES,
    CUSTOMER_TEXTS,
    DEPARTURE,
    ESCALATION_REASONS,
    GOALS,
    INCIDENT_SUMMARIES,
    LEAD_CHANGE,
    MANAGER_TEXTS,
    MITIGATIONS,
    NOTES,
    PEER_TEXTS,
    POSTMORTEM_ACTIONS,
    RESOLUTIONS,
    ROLE_CHANGES,
    ROOT_CAUSES,
    TEAMS,
    WEEKS,
)

DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/demo")
MAX_STEPS = 5_000
"""A bound on the plan's size (it is about 500 steps); a bigger plan is a bug."""


@dataclass(frozen=True)
class Step:
    """One command: what it counts as, and the exact request."""

    kind: str
    method: str
    path: str
    body: dict[str, Any] | None
    key: str = ""


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
