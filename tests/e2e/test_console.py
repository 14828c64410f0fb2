"""The console's rules that need no browser: sessions and their cookie, CSRF on every
POST, the failed-authentication limit shared with the API, the headers, the team
scope, the actions' If-Match, what the charts hold, and the console's absence from
the OpenAPI document. (In a real browser: tests/browser/.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from infra.settings import Settings
from services.api.app import create_app
from tests.e2e.conftest import SCOPED_TEAM, TOKENS, Api
from tests.e2e.console_client import csrf_of, sign_in, token_of


def _cookie_header(answer: object) -> str:
    return str(getattr(answer, "headers").get("set-cookie", ""))  # noqa: B009


def test_a_page_without_a_session_redirects_to_sign_in_and_back(client: TestClient,
                                                                api: Api) -> None:
    team = api.team("SRE")
    answer = client.get(f"/console/teams/{team}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/sign-in?next=/console/teams/{team}"
    form = client.get(answer.headers["location"])
    signed = client.post("/console/sign-in", data={
        "csrf_token": csrf_of(form.text), "token": token_of("admin"),
        "next": f"/console/teams/{team}"}, follow_redirects=False)
    assert signed.headers["location"] == f"/console/teams/{team}"


def test_the_session_cookie_is_httponly_strict_console_only_and_holds_no_token(
        client: TestClient) -> None:
    form = client.get("/console/sign-in")
    before = client.cookies["opsledger_console"]
    signed = client.post("/console/sign-in", data={
        "csrf_token": csrf_of(form.text), "token": token_of("admin")},
        follow_redirects=False)
    cookie = _cookie_header(signed)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    after = client.cookies["opsledger_console"]
    assert after != before  # a new session id at sign-in: one planted before is worthless
    assert token_of("admin") not in cookie
    assert client.get("/console", follow_redirects=False).status_code == 200


def test_the_cookie_is_secure_over_https(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        form = client.get("/console/sign-in")
        assert "Secure" in _cookie_header(form)
        signed = client.post("/console/sign-in", data={
            "csrf_token": csrf_of(form.text), "token": token_of("admin")},
            follow_redirects=False)
        assert "Secure" in _cookie_header(signed)


def test_a_wrong_token_is_refused_and_counts_as_a_failed_authentication(
        tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", tokens=json.dumps(TOKENS),
                        auth_failure_limit=3)
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            form = client.get("/console/sign-in")
            answer = client.post("/console/sign-in", data={
                "csrf_token": csrf_of(form.text), "token": "not-a-token-0123456789"})
            assert answer.status_code == 401
            assert "That token is not known" in answer.text
        form = client.get("/console/sign-in")
        blocked = client.post("/console/sign-in", data={
            "csrf_token": csrf_of(form.text), "token": token_of("admin")})
        assert blocked.status_code == 429 and "<h1>429 Too many requests</h1>" in blocked.text
        # the same limit as the API's: the address is blocked there too
        api = client.get("/v1/teams", headers={"Authorization": f"Bearer {token_of('admin')}"})
        assert api.status_code == 429


def test_a_post_without_the_sessions_csrf_token_is_403_and_appends_nothing(
        client: TestClient, api: Api) -> None:
    incident = api.incident(api.team())
    head = api.head()
    sign_in(client)
    for form in ({"if_match": "1"}, {"if_match": "1", "csrf_token": "forged"}):
        answer = client.post(f"/console/incidents/{incident}/acknowledge", data=form)
        assert answer.status_code == 403
        assert "<h1>403 Forbidden</h1>" in answer.text and "CSRF" in answer.text
    other = TestClient(client.app)
    other_csrf = sign_in(other)  # another session's token is not this one's
    answer = client.post(f"/console/incidents/{incident}/acknowledge",
                         data={"if_match": "1", "csrf_token": other_csrf})
    assert answer.status_code == 403
    assert api.head() == head


def test_the_sign_in_page_of_a_signed_in_session_goes_on_to_the_page(
        client: TestClient) -> None:
    sign_in(client)
    session = client.cookies["opsledger_console"]
    answer = client.get("/console/sign-in?next=/console/teams/x", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/teams/x"
    assert client.cookies["opsledger_console"] == session  # still signed in


def test_a_session_never_shows_its_token_in_a_repr(client: TestClient) -> None:
    sign_in(client)
    store = client.app.state.console_sessions  # type: ignore[attr-defined]
    session = store.get(client.cookies["opsledger_console"])
    assert session is not None and session.token == token_of("admin")
    assert token_of("admin") not in repr(session)


def test_signing_in_needs_the_forms_csrf_token(client: TestClient) -> None:
    client.get("/console/sign-in")
    answer = client.post("/console/sign-in", data={"token": token_of("admin")})
    assert answer.status_code == 403
    assert "opsledger_console=" not in _cookie_header(answer)


def test_acknowledging_appends_one_event_by_the_signed_in_principal(
        client: TestClient, api: Api) -> None:
    incident = api.incident(api.team())
    csrf = sign_in(client, "member")
    head = api.head()
    answer = client.post(f"/console/incidents/{incident}/acknowledge", follow_redirects=False,
                         data={"csrf_token": csrf, "if_match": "1", "back": "/console"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console?notice=acknowledged"
    events = api.get("/v1/events", after=head)["items"]
    assert [e["type"] for e in events] == ["opsledger.incidents.IncidentAcknowledged.v1"]
    audit = api.get("/v1/audit", entity_id=incident)["items"]
    assert audit[-1]["actor"] == "user:max"


def test_a_stale_version_is_a_conflict_page_and_appends_nothing(
        client: TestClient, api: Api) -> None:
    incident = api.incident(api.team())
    csrf = sign_in(client)
    api.post(f"/v1/incidents/{incident}/notes", {"text": "still looking"}, expect=200)
    head = api.head()
    answer = client.post(f"/console/incidents/{incident}/acknowledge",
                         data={"csrf_token": csrf, "if_match": "1", "back": "/console"})
    assert answer.status_code == 409
    assert "your page showed version 1, and it is now at version 2" in answer.text
    assert "Nothing was recorded." in answer.text
    assert api.head() == head


def test_an_action_without_the_version_it_was_made_from_is_refused(
        client: TestClient, api: Api) -> None:
    incident = api.incident(api.team())
    csrf = sign_in(client)
    head = api.head()
    answer = client.post(f"/console/incidents/{incident}/acknowledge",
                         data={"csrf_token": csrf})
    assert answer.status_code == 400 and "if_match" in answer.text
    assert api.head() == head


def test_an_auditor_may_not_acknowledge(client: TestClient, api: Api) -> None:
    incident = api.incident(api.team())
    csrf = sign_in(client, "auditor")
    head = api.head()
    answer = client.post(f"/console/incidents/{incident}/acknowledge",
                         data={"csrf_token": csrf, "if_match": "1"})
    assert answer.status_code == 403 and "needs one of the roles" in answer.text
    assert api.head() == head


def test_a_scoped_token_reads_only_its_team(client: TestClient, api: Api) -> None:
    other = api.team("Payments")
    own = api.team("Scoped", team_id=SCOPED_TEAM)
    api.incident(other, "SEV1")
    api.incident(own, "SEV3")
    sign_in(client, "scoped")
    overview = client.get("/console").text
    assert "Scoped" in overview and "Payments" not in overview
    assert re.findall(r"<td>(SEV\d)</td>", overview) == ["SEV3"]
    assert client.get(f"/console/teams/{own}").status_code == 200
    for path in (f"/console/teams/{other}", f"/console/teams/{other}/charts/resolve.svg",
                 "/console/teams/no-such-team"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Payments" not in answer.text


def test_a_revoked_token_ends_its_session(client: TestClient, api: Api) -> None:
    issued = api.post("/v1/tokens", {"principal": "user:tmp", "roles": ["member"],
                                     "teams": ["*"]}, expect=201).json()
    sign_in(client, token=issued["token"])
    assert client.get("/console", follow_redirects=False).status_code == 200
    revoked = api.client.request("DELETE", f"/v1/tokens/{issued['id']}",
                                 json={"reason": "left"}, headers=api.headers)
    assert revoked.status_code == 200, revoked.text
    answer = client.get("/console", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next=/console&reason=ended"
    # ended, not just refused once: the session id is gone
    assert client.get("/console", follow_redirects=False).headers["location"] == \
        "/console/sign-in?next=/console"


def test_signing_out_ends_the_session(client: TestClient) -> None:
    csrf = sign_in(client)
    session = client.cookies["opsledger_console"]
    out = client.post("/console/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and 'opsledger_console=""' in _cookie_header(out)
    client.cookies.set("opsledger_console", session)
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_after_sign_in_only_a_console_page_is_a_destination(client: TestClient) -> None:
    for next_path in ("//evil.example/console/x", "https://evil.example/", "/v1/teams",
                      "/console\\..\\x"):
        client.cookies.clear()
        form = client.get("/console/sign-in")
        answer = client.post("/console/sign-in", follow_redirects=False, data={
            "csrf_token": csrf_of(form.text), "token": token_of("admin"),
            "next": next_path})
        assert answer.headers["location"] == "/console", next_path


def test_console_pages_have_a_strict_content_security_policy(client: TestClient,
                                                             api: Api) -> None:
    team = api.team()
    sign_in(client)
    for path in ("/console", "/console/sign-in", f"/console/teams/{team}",
                 "/console/static/console.css", "/console/no-such-page"):
        answer = client.get(path)
        csp = answer.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp, path
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
    assert "<script" not in client.get("/console").text
    api_answer = api.client.get("/v1/teams", headers=api.headers)
    assert "content-security-policy" not in api_answer.headers  # the API is unchanged


def test_errors_are_pages_under_console_and_problem_documents_elsewhere(
        client: TestClient) -> None:
    sign_in(client)
    page = client.get("/console/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>404 Not found</h1>" in page.text
    api = client.get("/v1/no-such-route")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_a_chart_is_an_svg_with_no_script_and_no_address(client: TestClient,
                                                        api: Api) -> None:
    team = api.team("SRE")
    incident = api.incident(team)
    api.post(f"/v1/incidents/{incident}/acknowledge", {}, expect=200)
    sign_in(client)
    for chart in ("acknowledge", "resolve", "feedback"):
        answer = client.get(f"/console/teams/{team}/charts/{chart}.svg")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        svg = answer.text
        assert "<script" not in svg and "kozea" not in svg.lower()
        assert set(re.findall(r"[a-z]+://[^\"' )<]+", svg)) == {"http://www.w3.org/2000/svg"}
        assert "<title>" in svg and "<desc>" in svg
    page = client.get(f"/console/teams/{team}").text
    assert page.count('<table class="chart-data">') == 3  # the figures of each chart


def test_a_member_is_told_findings_are_for_other_roles(client: TestClient) -> None:
    sign_in(client, "member")
    assert "Findings are shown to leads, auditors and admins." in client.get("/console").text


def test_the_console_is_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/console")]
