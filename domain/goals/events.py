"""The public wire names of the goals context (one topic: ``opsledger.goals.events``)."""

from __future__ import annotations

from domain.goals.aggregate import Goal

CONTEXT = Goal.CONTEXT
EVENTS = (
    Goal.GoalSet, Goal.ProgressCheckedIn, Goal.TargetRevised,
    Goal.GoalAchieved, Goal.GoalMissed, Goal.GoalAbandoned,
)
