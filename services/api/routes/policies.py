"""A team's policies: publish (a title the team has publishes a new version, which
supersedes the old), acknowledge (a member, the version in force), and the policies
with the acknowledgements of each version."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from domain.people import commands as c
from infra.read_store.port import AnyOf
from projections.people_standing import on_team_since
from services.api.acting_for import require_self_or_manager
from services.api.bootstrap import Runtime
from services.api.deps import (
    CommandCtx,
    Cursor,
    Fresh,
    Limit,
    Manager,
    Operator,
    Reader,
    RuntimeDep,
    check_list_scope,
    check_team,
)
from services.api.models.common import CommandAnswer, answer
from services.api.models.people import PolicyAcknowledge, PolicyPublish, TeamPoliciesPublic
from services.api.queries import page

router = APIRouter(tags=["people"])


def with_pending(rt: Runtime, policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each version with ``pending``: for the version in force, the active members of
    the team who have not acknowledged it (read at query time: members come and go)."""
    teams = sorted({str(p["team_id"]) for p in policies})
    members = list(rt.store.iter_find("members", {"team_id": AnyOf(teams)})) if teams else []
    for policy in policies:
        team = str(policy["team_id"])
        on_team = sorted(m["id"] for m in members if on_team_since(m, team) is not None)
        for version in policy["versions"]:
            done = {a["member_id"] for a in version["acknowledgements"]}
            version["pending"] = ([m for m in on_team if m not in done]
                                  if version["version"] == policy["current_version"] else [])
    return policies


@router.post("/v1/policies", status_code=201)
def publish(body: PolicyPublish, grant: Manager, ctx: CommandCtx, rt: RuntimeDep,
            response: Response) -> CommandAnswer:
    """Publish a policy of a team (201), or a new version of the team's policy of that
    title (200), which supersedes the version before."""
    check_team(grant, body.team_id)
    return answer(rt.people.publish_policy(c.PublishPolicy(
        body.team_id, body.title, body.version, body.document, body.sha256), ctx), response)


@router.post("/v1/members/{member_id}/policy-acknowledgements", status_code=201)
def acknowledge(member_id: UUID, body: PolicyAcknowledge, grant: Operator, ctx: CommandCtx,
                rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Record that the member acknowledged the version in force of a policy of their
    team. Answers the policy's id and version (``If-Match`` is the policy's). A
    member acknowledges only for themselves; a lead or an admin for anyone."""
    require_self_or_manager(grant, member_id, rt, "an acknowledgement")
    return answer(rt.people.acknowledge_policy(c.AcknowledgePolicy(
        member_id, body.policy_id, body.version), ctx), response)


@router.get("/v1/policies", response_model=TeamPoliciesPublic,
            response_model_exclude_unset=True)
def list_policies(grant: Reader, rt: RuntimeDep, _: Fresh, team_id: UUID | None = None,
                  limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    """The policies, each with every version and who acknowledged it, oldest first."""
    check_list_scope(grant, team_id)
    found = page(rt, "policies", {"team_id": str(team_id) if team_id else None},
                 limit=limit, cursor=cursor, order_by="first_published_at")
    with_pending(rt, found["items"])
    return found
