"""The risk register: identify, assess, treat, accept (approved by a member other than
the owner), close; the register and its heat map; and an incident's links to the
risk that foresaw it and the contingency plan used for it."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from domain.risks import commands as c
from domain.risks.aggregate import SCALE, Status
from infra.read_store.port import AnyOf
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
    team_scope,
)
from services.api.models.common import CommandAnswer, answer
from services.api.models.risks import (
    HeatmapPublic,
    IncidentLink,
    RiskAccept,
    RiskAssess,
    RiskClose,
    RiskIdentify,
    RiskPublic,
    RisksPublic,
    RiskTreat,
)
from services.api.queries import one, page

router = APIRouter(tags=["risks"])


def with_plans(rt: Runtime, risks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each risk with the contingency plans that cover it (``plans``), read from the
    plans of its team: a plan's stream is not ordered against its risks'."""
    covering: dict[str, list[dict[str, Any]]] = {risk["id"]: [] for risk in risks}
    teams = sorted({str(risk["team_id"]) for risk in risks})
    if teams:
        for plan in rt.store.iter_find("contingency_plans", {"team_id": AnyOf(teams)},
                                       order_by="drafted_at"):
            for risk_id in plan.get("risk_ids") or []:
                if risk_id in covering:
                    covering[risk_id].append({
                        "id": plan["id"], "title": plan["title"],
                        "plan_version": plan["plan_version"],
                        "last_exercised_at": plan.get("last_exercised_at")})
    for risk in risks:
        risk["plans"] = covering[risk["id"]]
    return risks


@router.post("/v1/risks", status_code=201)
def identify(body: RiskIdentify, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
             response: Response) -> CommandAnswer:
    """Enter a risk in its team's register, with its inherent rating and first review."""
    check_team(grant, body.team_id)
    return answer(rt.risks.identify(c.IdentifyRisk(
        body.team_id, body.title, body.category, body.likelihood, body.impact, body.owner_id,
        body.review_by, body.risk_id), ctx), response)


@router.post("/v1/risks/{risk_id}/assess")
def assess(risk_id: UUID, body: RiskAssess, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
           response: Response) -> CommandAnswer:
    """Review a risk: its inherent and residual ratings, and when it is reviewed next."""
    return answer(rt.risks.assess(c.AssessRisk(
        risk_id, body.likelihood, body.impact, body.residual_likelihood, body.residual_impact,
        body.note, body.review_by), ctx), response)


@router.post("/v1/risks/{risk_id}/treat")
def treat(risk_id: UUID, body: RiskTreat, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
          response: Response) -> CommandAnswer:
    """Decide how a risk is handled: mitigate, accept (then approved), transfer, avoid."""
    return answer(rt.risks.treat(c.TreatRisk(risk_id, body.treatment, body.plan, body.reason),
                                 ctx), response)


@router.post("/v1/risks/{risk_id}/accept")
def accept(risk_id: UUID, body: RiskAccept, grant: Manager, ctx: CommandCtx, rt: RuntimeDep,
           response: Response) -> CommandAnswer:
    """Approve the acceptance of a risk treated with accept. The approver is a member
    other than the risk's owner (403 otherwise: segregation of duties)."""
    return answer(rt.risks.accept(c.AcceptRisk(risk_id, body.approver_id, body.reason), ctx),
                  response)


@router.post("/v1/risks/{risk_id}/close")
def close(risk_id: UUID, body: RiskClose, grant: Operator, ctx: CommandCtx, rt: RuntimeDep,
          response: Response) -> CommandAnswer:
    """Close a risk that no longer applies."""
    return answer(rt.risks.close(c.CloseRisk(risk_id, body.reason), ctx), response)


@router.post("/v1/incidents/{incident_id}/links", status_code=201)
def link_incident(incident_id: UUID, body: IncidentLink, grant: Operator, ctx: CommandCtx,
                  rt: RuntimeDep, response: Response) -> CommandAnswer:
    """Link an incident to the risk that foresaw it and/or the contingency plan used for
    it, and whether the plan was followed. Answers the risk's id and version (else the
    plan's); ``If-Match`` is theirs."""
    return answer(rt.risks.link_incident(c.LinkIncident(
        incident_id, body.risk_id, body.plan_id, body.plan_followed), ctx), response)


# Declared before /v1/risks/{risk_id}, which would otherwise take "heatmap" for an id.
@router.get("/v1/risks/heatmap")
def heatmap(grant: Reader, rt: RuntimeDep, _: Fresh,
            team_id: UUID | None = None) -> HeatmapPublic:
    """Counts of the open risks by likelihood x impact, before (inherent) and after
    (residual) their controls; without team_id, over every team of the token."""
    inherent: dict[tuple[int, int], int] = {}
    residual: dict[tuple[int, int], int] = {}
    total = 0
    for risk in rt.store.iter_find("risks", team_scope(grant, team_id)):
        if risk.get("status") == "closed":
            continue
        total += 1
        cell = (risk["likelihood"], risk["impact"])
        inherent[cell] = inherent.get(cell, 0) + 1
        cell = (risk["residual_likelihood"], risk["residual_impact"])
        residual[cell] = residual.get(cell, 0) + 1
    cells = [{"likelihood": lk, "impact": im, "score": lk * im,
              "inherent": inherent.get((lk, im), 0), "residual": residual.get((lk, im), 0)}
             for lk in SCALE for im in SCALE]
    return HeatmapPublic.model_validate({
        "team_id": None if team_id is None else str(team_id), "risks": total, "cells": cells})


@router.get("/v1/risks", response_model=RisksPublic, response_model_exclude_unset=True)
def list_risks(
    grant: Reader, rt: RuntimeDep, _: Fresh, team_id: UUID | None = None,
    status: Annotated[Status | None, Query()] = None, limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The register: risks with their inherent and residual scores, treatment, plans
    and linked incidents, oldest first."""
    check_list_scope(grant, team_id)
    filters = {"team_id": str(team_id) if team_id else None, "status": status}
    found = page(rt, "risks", filters, limit=limit, cursor=cursor, order_by="identified_at")
    with_plans(rt, found["items"])
    return found


@router.get("/v1/risks/{risk_id}", response_model=RiskPublic,
            response_model_exclude_unset=True)
def get_risk(risk_id: UUID, grant: Reader, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """One risk of the register, with the plans that cover it and its incidents."""
    risk = one(rt, "risks", str(risk_id), "risk")
    check_team(grant, risk["team_id"])
    return with_plans(rt, [risk])[0]
