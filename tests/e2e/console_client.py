"""Signing a test client in to the console, as a browser does: the sign-in form's CSRF
token, then the token pasted."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.e2e.conftest import TOKENS

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no form with a CSRF token on the page"
    return found.group(1)


def token_of(role: str) -> str:
    return next(t for t in TOKENS if t.startswith(role))


def sign_in(client: TestClient, role: str = "admin", token: str | None = None) -> str:
    """Sign ``client`` in (its cookie jar keeps the session); answers the session's
    CSRF token."""
    form = client.get("/console/sign-in")
    answer = client.post("/console/sign-in", data={
        "csrf_token": csrf_of(form.text), "token": token or token_of(role)},
        follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/console").text)
