"""Pages from the console's Jinja2 templates (``templates/``, autoescaped), and the
problem page every console error is shown as.

Every page extends ``base.html`` (skip link, navigation, sign-out form); a page's
route gives :func:`page` its template, title and values. The formatting filters
(durations, times) are here so every page shows a time the same way.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from projections.times import parse_time
from services.api.problems import TITLES

HERE = Path(__file__).resolve().parent
PREFIX = "/console"
STATIC = f"{PREFIX}/static"

NONE = "\N{EN DASH}"
"""Shown for a value there is none of."""

NAV: list[tuple[str, str]] = [
    ("Overview", PREFIX), ("Compliance", f"{PREFIX}/compliance"),
    ("Audit trail", f"{PREFIX}/audit"), ("Risks", f"{PREFIX}/risks"),
]
"""The navigation's links, in order; a page module adds its own (see ``pages``)."""

AUDITING = frozenset({"admin", "lead", "auditor"})
NAV_ROLES: dict[str, frozenset[str]] = {
    f"{PREFIX}/compliance": AUDITING, f"{PREFIX}/audit": AUDITING,
}
"""The roles a navigation link is shown to (the roles its page is for; the API's
``AUDIT``); a link not named here is shown to every signed-in viewer."""


def may_open(viewer: Any, href: str) -> bool:
    roles = NAV_ROLES.get(href)
    return roles is None or bool(viewer is not None and viewer.grant.roles & roles)


def duration(seconds: object) -> str:
    """``42 s``, ``12.5 min``, ``3.2 h`` or ``2.1 d``; an en dash for no value."""
    if not isinstance(seconds, int | float):
        return NONE
    value = float(seconds)
    if value < 90:
        return f"{value:.0f} s"
    if value < 90 * 60:
        return f"{value / 60:.1f} min"
    if value < 48 * 3600:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} d"


def when(moment: object) -> str:
    """An event time as ``2026-11-03 14:10 UTC``; a date stays a date."""
    if not isinstance(moment, str) or not moment:
        return NONE
    if len(moment) == 10:
        return moment
    try:
        return parse_time(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, OverflowError):
        return moment


def when_exact(moment: object) -> str:
    """An event time to the second (``2026-11-03 14:10:07 UTC``), where seconds tell
    two times apart (a timeline's happened and recorded)."""
    if not isinstance(moment, str) or len(moment) <= 10:
        return when(moment)
    try:
        return parse_time(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (ValueError, OverflowError):
        return moment


def csrf_field(csrf: str) -> Markup:
    """The hidden field every form posts (checked on every POST)."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(csrf))


ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)
ENV.filters.update(duration=duration, when=when, when_exact=when_exact)
ENV.globals.update(csrf_field=csrf_field, static=lambda name: f"{STATIC}/{name}",
                   PREFIX=PREFIX)


NOTICES: dict[str, str] = {
    "acknowledged": "The incident is acknowledged.",
    "resolved": "The incident is resolved.",
    "noted": "The note is added to the timeline.",
    "follow-up-completed": "The follow-up is completed.",
    "checked-in": "The check-in is recorded.",
    "triaged": "The feedback is triaged.",
    "waived": "The finding is waived.",
    "risk-accepted": "The finding's risk is accepted.",
}
"""What a redirect after an action says (``?notice=<key>``): fixed texts, so a link
cannot make the console say something else."""


def notice_of(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


def page(request: Request, template: str, title: str, *, viewer: Any = None,
         status: int = 200, headers: dict[str, str] | None = None,
         **values: Any) -> HTMLResponse:
    """``template`` rendered with ``values``; ``viewer`` (the signed-in
    :class:`~services.console.auth.Viewer`) shows the navigation and sign-out."""
    nav = [{"label": label, "href": href,
            "current": request.url.path == href} for label, href in NAV
           if may_open(viewer, href)]
    html = ENV.get_template(template).render(
        request=request, title=title, viewer=viewer, nav=nav,
        auditing=viewer is not None and bool(viewer.grant.roles & AUDITING),
        notice=values.pop("notice", None), **values)
    return HTMLResponse(html, status_code=status, headers=headers)


def problem_page(request: Request, status: int, detail: str,
                 headers: dict[str, str]) -> Response | None:
    """Any error under ``/console`` as a page with its status (never a stack trace);
    None elsewhere, where the API answers problem documents."""
    path = request.scope.get("path", "")
    if path != PREFIX and not path.startswith(f"{PREFIX}/"):
        return None
    headers.pop("WWW-Authenticate", None)  # a bearer challenge means nothing to a browser
    title = TITLES.get(status, "Error")
    return page(request, "problem.html", f"{status} {title}", status=status, headers=headers,
                problem={"status": status, "title": title, "detail": detail})
