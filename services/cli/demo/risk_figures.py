"""The demo teams' risk register and contingency plans, read back through the API
(``GET /v1/risks``, ``/v1/risks/heatmap``, ``/v1/contingency-plans``, each waiting for
the demo's last position): the risks by status, each team's register and plans, the
heat map summed over the teams, the approvals of acceptances and the incidents linked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.cli.demo.client import Api
from services.cli.demo.scenario import TEAMS

RISK_STATUSES = ("open", "treated", "accepted", "closed")
HIGH_SCORE = 15
"""A residual score this high is high (the default ``untreated_min_score``)."""


@dataclass(frozen=True)
class TeamRisks:
    name: str
    risks: int
    high: int  # not closed, residual score >= HIGH_SCORE
    plans: int
    drills: int
    incidents: int  # incidents linked to its risks


@dataclass(frozen=True)
class RiskFigures:
    by_status: dict[str, int] = field(default_factory=dict)
    teams: list[TeamRisks] = field(default_factory=list)
    heatmap: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    """(likelihood, impact) -> (inherent, residual) counts of the risks not closed."""
    mapped: int = 0  # the risks the heat maps count
    plans: list[dict[str, Any]] = field(default_factory=list)
    """Each plan: ``title``, ``plan_version``, ``versions``, ``drills``, ``followed``,
    ``not_followed`` (its linked incidents, by whether the plan was followed)."""
    acceptances: list[dict[str, Any]] = field(default_factory=list)
    """Each approval: ``risk``, ``owner``, ``approver``, ``recorded_by`` (names, or the
    principal when it is no member's)."""


def read_risks(api: Api, actor: str, position: int, team_ids: dict[str, str],
               names: dict[str, str]) -> RiskFigures:
    """``names``: the demo's people by member id and by principal."""
    fresh = {"min_position": position}
    by_status = dict.fromkeys(RISK_STATUSES, 0)
    heatmap: dict[tuple[int, int], tuple[int, int]] = {}
    teams, plans, acceptances, mapped = [], [], [], 0
    for team in TEAMS:
        team_id = team_ids[team["key"]]
        risks = api.every("/v1/risks", actor=actor, team_id=team_id, **fresh)
        team_plans = api.every("/v1/contingency-plans", actor=actor, team_id=team_id,
                               **fresh)
        for risk in risks:
            by_status[risk["status"]] = by_status.get(risk["status"], 0) + 1
        for risk in risks:
            for approval in risk["acceptances"]:
                acceptances.append({
                    "risk": risk["title"], "owner": names.get(risk["owner_id"], "?"),
                    "approver": names.get(approval["approver_id"], "?"),
                    "recorded_by": names.get(approval["actor"], approval["actor"])})
        heat = api.get("/v1/risks/heatmap", actor=actor, team_id=team_id, **fresh)
        mapped += int(heat["risks"])
        for cell in heat["cells"]:
            key = (int(cell["likelihood"]), int(cell["impact"]))
            inherent, residual = heatmap.get(key, (0, 0))
            heatmap[key] = (inherent + int(cell["inherent"]), residual + int(cell["residual"]))
        for plan in team_plans:
            followed = [i["plan_followed"] for i in plan["incidents"]]
            plans.append({"title": plan["title"], "plan_version": plan["plan_version"],
                          "versions": len(plan["versions"]), "drills": len(plan["exercises"]),
                          "followed": sum(followed), "not_followed": followed.count(False)})
        teams.append(TeamRisks(
            team["name"], len(risks),
            sum(1 for r in risks if r["status"] != "closed"
                and r["residual_score"] >= HIGH_SCORE),
            len(team_plans), sum(len(p["exercises"]) for p in team_plans),
            sum(len(r["incidents"]) for r in risks)))
    return RiskFigures(by_status, teams, heatmap, mapped, plans, acceptances)

