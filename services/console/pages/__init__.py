"""The console's pages, one module per page (or per family of pages), each with its
``router``. To add a page: write ``pages/<name>.py`` with a ``router`` whose routes
take :data:`~services.console.auth.SignedIn` (or ``CheckedPost`` for a form), read
through ``services.api.queries`` and the API's scope helpers, and render a template
that extends ``base.html``; add the module to :data:`PAGES` and, for a link in the
navigation, to ``rendering.NAV``; then its browser test (docs/CONSOLE.md).
"""

from __future__ import annotations

from types import ModuleType

from services.console.actions import findings as finding_actions
from services.console.actions import incidents as incident_actions
from services.console.pages import (
    audit,
    compliance,
    feedback,
    goals,
    incident,
    member,
    overview,
    risks,
    sign_in,
    team,
    trainings,
)

PAGES: tuple[ModuleType, ...] = (
    sign_in, overview, team, incident_actions, incident, member, compliance,
    finding_actions, audit, risks, trainings, goals, feedback,
)
