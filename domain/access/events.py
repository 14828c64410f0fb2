"""The public wire names of the access context (one topic: ``opsledger.access.events``)."""

from __future__ import annotations

from domain.access.aggregate import AccessToken

CONTEXT = AccessToken.CONTEXT
EVENTS = (AccessToken.TokenIssued, AccessToken.TokenRevoked)
