"""What the demo made, read back through the API (as the auditor persona when the run
holds its token): findings per control, each team's median time to acknowledge and
weekly metric periods, and who acted in the audit trail.

Every query waits for the demo's last position (``min_position``), so the figures
include everything it sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from services.cli.demo.client import Api
from services.cli.demo.scenario import TEAMS

CONTROLS = ("ack_sla", "postmortem_overdue", "action_item_overdue",
            "target_revised_after_deadline", "self_role_change", "backdated_entry")


@dataclass(frozen=True)
class TeamFigures:
    name: str
    team_id: str
    incidents: int
    median_tta_minutes: float | None
    weekly_periods: int  # weeks (GET .../metrics?period=week) in which incidents opened


@dataclass(frozen=True)
class Figures:
    findings: dict[str, dict[str, int]]  # control -> {"open": n, "resolved": n}
    teams: list[TeamFigures]
    actors: list[str]  # distinct actors of the demo teams' audit records

    def finding_count(self, control: str) -> int:
        return sum(self.findings.get(control, {}).values())


def read_figures(api: Api, actor: str, position: int, team_ids: dict[str, str]) -> Figures:
    fresh = {"min_position": position}
    findings: dict[str, dict[str, int]] = {c: {"open": 0, "resolved": 0} for c in CONTROLS}
    demo_teams = set(team_ids.values())
    for finding in api.every("/v1/compliance/findings", actor=actor, **fresh):
        if finding.get("team_id") in demo_teams:
            tally = findings.setdefault(finding["control"], {"open": 0, "resolved": 0})
            tally[finding["status"]] = tally.get(finding["status"], 0) + 1
    teams, actors = [], set()
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
    return Figures(findings, teams, sorted(actors))
