"""What the demo made, read back through the API (as the auditor persona when the run
holds its token): findings per control and state, the policy version that judged
them, the decisions on them, the control versions added, the action items by
status, each team's median time to acknowledge and weekly metric periods, who
acted in the audit trail, the risk register (:mod:`.risk_figures`), and the trainings
and policies (:mod:`.people_figures`).

Every query waits for the demo's last position (``min_position``), so the figures
include everything it sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from services.cli.demo.client import Api
from services.cli.demo.people_figures import PeopleFigures, read_people
from services.cli.demo.risk_figures import RiskFigures, read_risks
from services.cli.demo.scenario import TEAMS

CONTROLS = ("ack_sla", "postmortem_overdue", "action_item_overdue",
            "target_revised_after_deadline", "self_role_change", "backdated_entry",
            "risk_review_overdue", "high_risk_untreated", "risk_accepted_by_owner",
            "training_overdue", "training_expired", "policy_unacknowledged")
"""The controls the demo month makes find something."""
REPORTED = (*CONTROLS, "plan_not_exercised")
"""... and those it reports: a plan's drill is due within 180 days, longer than a month."""
STATES = ("open", "waived", "risk_accepted", "resolved")
ITEM_STATUSES = ("open", "overdue", "done", "cancelled")
_JUDGED_BY = re.compile(r"\(policy version (\d+)\)")


@dataclass(frozen=True)
class TeamFigures:
    name: str
    team_id: str
    incidents: int
    median_tta_minutes: float | None
    weekly_periods: int  # weeks (GET .../metrics?period=week) in which incidents opened


@dataclass(frozen=True)
class FollowUpFigures:
    """The demo teams' action items (``GET /v1/action-items``)."""

    by_status: dict[str, int] = field(default_factory=dict)
    done_late: int = 0  # done after their due date: their finding resolved, late
    moved: int = 0  # due dates moved
    moved_after_due: int = 0  # of them, after it had passed (evidence on the finding)
    reassigned: int = 0


@dataclass(frozen=True)
class Figures:
    findings: dict[str, dict[str, int]]  # control -> {state: n} (see STATES)
    teams: list[TeamFigures]
    actors: list[str]  # distinct actors of the demo teams' audit records
    judged_by: dict[str, dict[int, int]] = field(default_factory=dict)
    """control (with thresholds) -> {policy version that judged: findings}."""
    versions: list[dict[str, Any]] = field(default_factory=list)
    """The control versions added to the settings' (``GET /v1/compliance/controls``)."""
    decided: list[dict[str, Any]] = field(default_factory=list)
    """The findings decided on: ``id``, ``control``, ``state``, ``decisions``."""
    follow_ups: FollowUpFigures = field(default_factory=FollowUpFigures)
    risks: RiskFigures = field(default_factory=RiskFigures)
    people: PeopleFigures = field(default_factory=PeopleFigures)

    def finding_count(self, control: str) -> int:
        return sum(self.findings.get(control, {}).values())


def read_figures(api: Api, actor: str, position: int, team_ids: dict[str, str],
                 names: dict[str, str] | None = None) -> Figures:
    """``names``: the demo's people by member id and by principal (for the risks)."""
    fresh = {"min_position": position}
    controls = api.get("/v1/compliance/controls", actor=actor, **fresh)["items"]
    thresholded = {c["control"] for c in controls if c["thresholds"]}
    findings: dict[str, dict[str, int]] = {c: dict.fromkeys(STATES, 0) for c in REPORTED}
    judged_by: dict[str, dict[int, int]] = {}
    decided, late = [], set()
    demo_teams = set(team_ids.values())
    for finding in api.every("/v1/compliance/findings", actor=actor, **fresh):
        if finding.get("team_id") not in demo_teams:
            continue
        control = finding["control"]
        tally = findings.setdefault(control, dict.fromkeys(STATES, 0))
        tally[finding["state"]] = tally.get(finding["state"], 0) + 1
        if control in thresholded:  # a summary names the version unless it is 1
            match = _JUDGED_BY.search(finding.get("summary") or "")
            version = int(match.group(1)) if match else 1
            versions = judged_by.setdefault(control, {})
            versions[version] = versions.get(version, 0) + 1
        if finding.get("decisions"):
            decided.append({k: finding[k] for k in ("id", "control", "state", "decisions")})
        if control == "action_item_overdue" and finding["status"] == "resolved":
            late.add(finding.get("item_id"))
    teams, actors, items = [], set(), []
    for team in TEAMS:
        team_id = team_ids[team["key"]]
        incidents = [i for i in api.every("/v1/incidents", actor=actor, team_id=team_id,
                                          **fresh) if not i.get("duplicate_of")]
        times = [i["time_to_acknowledge_seconds"] for i in incidents
                 if i.get("time_to_acknowledge_seconds") is not None]
        weeks = api.get(f"/v1/performance/teams/{team_id}/metrics", actor=actor,
                        period="week", **fresh)["items"]
        teams.append(TeamFigures(
            team["name"], team_id, len(incidents),
            round(median(times) / 60, 1) if times else None,
            sum(1 for row in weeks if row["incidents_opened"]),
        ))
        actors |= {r["actor"] for r in api.every("/v1/audit", actor=actor, team_id=team_id,
                                                  **fresh)}
        items += api.every("/v1/action-items", actor=actor, team_id=team_id, **fresh)
    added = [{"control": c["control"], **v} for c in controls
             for v in c["versions"] if v["version"] > 1]
    return Figures(findings, teams, sorted(actors), judged_by, added, decided,
                   follow_ups(items, late),
                   read_risks(api, actor, position, team_ids, names or {}),
                   read_people(api, actor, position, team_ids))


def follow_ups(items: list[dict[str, Any]], late: set[str | None]) -> FollowUpFigures:
    """The items' figures; ``late``: the ids of those whose finding is resolved."""
    by_status = dict.fromkeys(ITEM_STATUSES, 0)
    for item in items:
        by_status[item["status"]] = by_status.get(item["status"], 0) + 1
    moves = [(item, move) for item in items for move in item.get("due_history") or []]
    return FollowUpFigures(
        by_status,
        done_late=sum(1 for i in items if i["status"] == "done" and i["id"] in late),
        moved=len(moves),
        # a move after the day it was due (the day counts: overdue from the next one)
        moved_after_due=sum(1 for _, m in moves if m["at"][:10] > m["from_due"]),
        reassigned=sum(len(i.get("owner_history") or []) for i in items),
    )
