"""The demo teams' trainings and policies, read back through the API
(``GET /v1/trainings/matrix``, ``/v1/policies``, each waiting for the demo's last
position): each team's training matrix summed over its cells (assigned, done, overdue,
expired), the assignments the role changes made by themselves, and each policy's
version in force with who acknowledged it and who has not yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.cli.demo.client import Api
from services.cli.demo.scenario import TEAMS


@dataclass(frozen=True)
class TeamTrainings:
    name: str
    trainings: int
    members: int  # active members, the matrix's rows
    assigned: int  # cells with an assignment
    done: int  # ... completed and still valid
    overdue: int
    expired: int
    by_role: int  # assignments a role required (when the training was defined or the
    # member took the role), not made by hand


@dataclass(frozen=True)
class PolicyStatus:
    team: str
    title: str
    current_version: str
    versions: int
    acknowledged: int  # of the version in force
    pending: int  # active members who have not acknowledged it


@dataclass(frozen=True)
class PeopleFigures:
    teams: list[TeamTrainings] = field(default_factory=list)
    policies: list[PolicyStatus] = field(default_factory=list)


def read_people(api: Api, actor: str, position: int,
                team_ids: dict[str, str]) -> PeopleFigures:
    fresh = {"min_position": position}
    teams, policies = [], []
    for team in TEAMS:
        team_id = team_ids[team["key"]]
        matrix = api.get("/v1/trainings/matrix", actor=actor, team_id=team_id, **fresh)
        cells = [cell for member in matrix["members"] for cell in member["trainings"]]
        trainings = api.every("/v1/trainings", actor=actor, team_id=team_id, **fresh)
        teams.append(TeamTrainings(
            team["name"], len(trainings), len(matrix["members"]),
            sum(1 for c in cells if c["assigned"]),
            sum(1 for c in cells if c["done"] and not c["expired"]),
            sum(1 for c in cells if c["overdue"]), sum(1 for c in cells if c["expired"]),
            sum(1 for t in trainings for a in t["assignments"] if a["required_for_role"])))
        for policy in api.every("/v1/policies", actor=actor, team_id=team_id, **fresh):
            current = next(v for v in policy["versions"]
                           if v["version"] == policy["current_version"])
            policies.append(PolicyStatus(
                team["name"], policy["title"], policy["current_version"],
                len(policy["versions"]), len(current["acknowledgements"]),
                len(current["pending"])))
    return PeopleFigures(teams, policies)
