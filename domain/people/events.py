"""The public wire names of the people context (one topic: ``opsledger.people.events``):
the trainings' events and the policies'."""

from __future__ import annotations

from domain.people.policy import Policy
from domain.people.training import Training

CONTEXT = Training.CONTEXT
EVENTS = (
    Training.TrainingDefined, Training.TrainingAssigned, Training.TrainingCompleted,
    Policy.PolicyPublished, Policy.PolicyVersionPublished, Policy.PolicyAcknowledged,
)
