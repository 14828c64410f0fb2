"""Signing in (a token pasted once) and out.

The sign-in form is posted with the CSRF token of a session started before sign-in;
a good token starts a new session (a new id: one planted before is worthless) whose
cookie is HttpOnly, SameSite=Strict, Path=/console, and Secure over https. A wrong
token counts as a failed authentication from the address, as on the API, and a
blocked address gets the API's 429.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.api.deps import client_address, grant_of_token
from services.api.problems import ProblemError
from services.console.auth import (
    SIGN_IN,
    CheckedPost,
    check_csrf,
    form_of,
    safe_next,
    sessions_of,
)
from services.console.rendering import PREFIX, page
from services.console.sessions import COOKIE, COOKIE_PATH, Session

router = APIRouter(include_in_schema=False)

REASONS = {
    "ended": "Your session ended: its token was revoked or is no longer valid. "
             "Sign in with a valid token.",
    "signed-out": "You are signed out.",
}


def _set_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(COOKIE, session.id, path=COOKIE_PATH, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def _form(request: Request, session: Session, next_path: str, *, status: int = 200,
          error: str = "", notice: str | None = None) -> Response:
    response = page(request, "sign_in.html", "Sign in", status=status, csrf=session.csrf,
                    next_path=next_path, error=error, notice=notice)
    _set_cookie(request, response, session)
    return response


@router.get(SIGN_IN)
def sign_in_form(
    request: Request,
    next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    reason: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    store = sessions_of(request)
    session = store.get(request.cookies.get(COOKIE))
    if session is not None and session.signed_in:
        # Already signed in: on to the page (which checks the token again).
        return RedirectResponse(safe_next(next_path), status_code=303)
    if session is None:
        session = store.start()
    return _form(request, session, safe_next(next_path), notice=REASONS.get(reason or ""))


@router.post(SIGN_IN)
async def sign_in(request: Request) -> Response:
    store = sessions_of(request)
    form = await form_of(request)
    before = store.get(request.cookies.get(COOKIE))
    if before is None:
        raise ProblemError(403, "the sign-in form has expired or was not sent from this "
                                "browser; open the sign-in page again")
    check_csrf(before, form)
    next_path = safe_next(form.get("next"))
    token = form.get("token", "").strip()
    try:
        grant_of_token(request.app.state.runtime, client_address(request), token)
    except ProblemError as e:
        if e.status != 401:
            raise
        return _form(request, before, next_path, status=401,
                     error="That token is not known (or was revoked). Paste the whole token.")
    store.end(before.id)
    session = store.start(token)
    response = RedirectResponse(next_path, status_code=303)
    _set_cookie(request, response, session)
    return response


@router.post(f"{PREFIX}/sign-out")
def sign_out(request: Request, posted: CheckedPost) -> Response:
    sessions_of(request).end(posted.viewer.session.id)
    response = RedirectResponse(f"{SIGN_IN}?reason=signed-out", status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return response
