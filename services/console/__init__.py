"""The ops console: web pages at ``/console``, served by the API's own application
(embedded and distributed alike), reading through the API's query layer and team
scope, signed in with a token pasted once (:mod:`.sessions`, :mod:`.auth`).

``install(app)`` adds its pages (:data:`.pages.PAGES`, none in the OpenAPI document),
its static files (one stylesheet; nothing is fetched from anywhere else), the
redirect to sign-in, and the problem page every console error is shown as. The
Content-Security-Policy of its answers is set by
:data:`services.api.middleware.CONSOLE_HEADERS`. How to add a page: docs/CONSOLE.md.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.console.auth import SignInRequired, sign_in_redirect
from services.console.pages import PAGES
from services.console.rendering import HERE, STATIC, problem_page
from services.console.sessions import SessionStore


def install(app: FastAPI) -> None:
    app.state.console_sessions = SessionStore()
    app.state.problem_page = problem_page
    app.add_exception_handler(SignInRequired, sign_in_redirect)  # type: ignore[arg-type]
    for module in PAGES:
        app.include_router(module.router)
    app.mount(STATIC, StaticFiles(directory=HERE / "static"), name="console-static")
