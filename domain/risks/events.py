"""The public wire names of the risks context (one topic: ``opsledger.risks.events``):
the risks' events and the contingency plans'."""

from __future__ import annotations

from domain.risks.aggregate import Risk
from domain.risks.plan import ContingencyPlan

CONTEXT = Risk.CONTEXT
EVENTS = (
    Risk.RiskIdentified, Risk.RiskAssessed, Risk.RiskTreated, Risk.RiskAccepted,
    Risk.RiskClosed, Risk.RiskIncidentLinked,
    ContingencyPlan.PlanDrafted, ContingencyPlan.PlanRevised, ContingencyPlan.PlanExercised,
    ContingencyPlan.PlanIncidentLinked,
)
