"""The public wire names of the privacy context (one topic: ``opsledger.privacy.events``)."""

from __future__ import annotations

from domain.privacy.aggregate import Erasure
from domain.privacy.hold import LegalHold

CONTEXT = Erasure.CONTEXT
EVENTS = (Erasure.PersonalDataErased, LegalHold.LegalHoldPlaced, LegalHold.LegalHoldReleased)
