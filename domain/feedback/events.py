"""The public wire names of the feedback context (one topic: ``opsledger.feedback.events``)."""

from __future__ import annotations

from domain.feedback.aggregate import Feedback

CONTEXT = Feedback.CONTEXT
EVENTS = (
    Feedback.CustomerFeedbackReceived, Feedback.PeerFeedbackGiven,
    Feedback.FeedbackTriaged, Feedback.FeedbackResolved,
)
