"""Who is signed in to the console, on every request: the session cookie, then its
token resolved again through the token registry (:func:`services.api.deps.grant_of_token`,
the same function, limits and failure counting as a bearer request), so a revoked
token ends its session on the next request. And the CSRF check of every POST.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from infra.auth import Grant
from services.api.deps import client_address, grant_of_token
from services.api.problems import ProblemError
from services.console.rendering import PREFIX
from services.console.sessions import COOKIE, Session, SessionStore

SIGN_IN = f"{PREFIX}/sign-in"
MAX_FIELDS = 50


class SignInRequired(Exception):
    """Answered with a redirect to the sign-in page, back to ``next_path`` after it."""

    def __init__(self, next_path: str, reason: str = "") -> None:
        super().__init__(reason or "sign in first")
        self.next_path = next_path
        self.reason = reason


def sign_in_redirect(request: Request, exc: SignInRequired) -> RedirectResponse:
    query = f"?next={quote(exc.next_path, safe='/')}"
    if exc.reason:
        query += f"&reason={exc.reason}"
    return RedirectResponse(SIGN_IN + query, status_code=303)


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: a console path only (never another site)."""
    if (value and value.startswith(f"{PREFIX}/") and not value.startswith("//")
            and "\\" not in value and not value.startswith(SIGN_IN)):
        return value
    return PREFIX


def sessions_of(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.console_sessions
    return store


@dataclass(frozen=True)
class Viewer:
    """The signed-in session and the grant its token carries now."""

    session: Session
    grant: Grant

    @property
    def csrf(self) -> str:
        return self.session.csrf


def signed_in(request: Request) -> Viewer:
    """The viewer, or a redirect to sign-in: no session, an expired one, or one whose
    token the registry no longer knows (revoked), which ends the session."""
    store = sessions_of(request)
    session = store.get(request.cookies.get(COOKIE))
    back = request.url.path if request.method == "GET" else PREFIX
    if session is None or session.token is None:
        raise SignInRequired(back)
    try:
        grant = grant_of_token(request.app.state.runtime, client_address(request),
                               session.token)
    except ProblemError as e:
        if e.status != 401:
            raise
        store.end(session.id)
        raise SignInRequired(back, reason="ended") from None
    return Viewer(session, grant)


SignedIn = Annotated[Viewer, Depends(signed_in)]


async def form_of(request: Request) -> dict[str, str]:
    """The posted form (``application/x-www-form-urlencoded``, what every console form
    sends); a field given twice keeps its first value."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise ProblemError(415, "console forms are posted as "
                                "application/x-www-form-urlencoded")
    try:
        fields = parse_qs((await request.body()).decode(), keep_blank_values=True,
                          strict_parsing=False, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise ProblemError(400, "the form could not be read") from None
    return {name: values[0] for name, values in fields.items()}


def check_csrf(session: Session, form: dict[str, str]) -> None:
    """403 unless the form carries this session's CSRF token."""
    given = form.get("csrf_token", "")
    if not given or not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise ProblemError(403, "this form's CSRF token is missing or is not this session's; "
                                "reload the page and send the form again")


@dataclass(frozen=True)
class Posted:
    """A signed-in viewer's POST whose CSRF token was checked."""

    viewer: Viewer
    form: dict[str, str]


async def checked_post(request: Request, viewer: SignedIn) -> Posted:
    form = await form_of(request)
    check_csrf(viewer.session, form)
    return Posted(viewer, form)


CheckedPost = Annotated[Posted, Depends(checked_post)]
