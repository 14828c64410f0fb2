"""The console in a real browser (headless Chromium): signing in, each page, an action
that appends an event and its conflict, a team-scoped user, signing out, and a revoked
token. Every page visited must pass :meth:`Browser.check_page` (no console error, no
broken link, a 1280x800 screenshot under tests/browser/output/<test>/)."""

from __future__ import annotations

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.console import Browser
from tests.browser.seed import ADMIN_TOKEN, MEMBER_TOKEN, SCOPED_TOKEN, Seeded


def _head(api: httpx.Client) -> int:
    return int(api.get("/v1/events", params={"after": 0, "limit": 1}).json()["head"])


def test_sign_in_shows_the_overview_and_the_team_page(browser: Browser,
                                                      seeded: Seeded) -> None:
    browser.get("/console")
    assert browser.path == "/console/sign-in"  # not signed in: sent to sign in
    assert browser.find("label[for=token]").text == "API token"
    browser.check_page("sign-in")

    browser.sign_in(ADMIN_TOKEN)
    assert browser.path == "/console"
    assert browser.h1() == "Overview"
    assert browser.headings()[:2] == ["h1", "h2"]
    teams = [a.text for a in browser.find_all("ul.teams a")]
    assert teams == ["Payments", "Site Reliability"]
    counts = [td.text for td in browser.find_all("table.counts td")]
    assert counts == ["1", "1", "1", "0"]  # SEV1..SEV4 of the three open incidents
    assert "No open finding." not in browser.driver.page_source  # the controls found some
    browser.check_page("overview")

    browser.click(browser.driver.find_element(By.LINK_TEXT, "Site Reliability"))
    assert browser.path == f"/console/teams/{seeded.sre}"
    assert browser.h1() == "Site Reliability"
    roster = browser.find("#roster-heading + table").text
    assert "Ada Lovelace (lead)" in roster
    assert "Senior SRE, effective" in roster and "(promoted after the Q3 review)" in roster
    assert "SRE, from" in roster  # the role she joined in, in her history
    assert browser.find("meter").get_attribute("value") == "50"  # 120 -> 75, target 30
    charts = browser.find_all("figure.chart img")
    assert len(charts) == 3
    for chart in charts:  # each SVG loaded and was drawn
        assert browser.driver.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", chart) == 800
    weeks = browser.find_all("figure.chart table.chart-data tbody th")
    assert len(weeks) >= 3 * 3  # three weeks of figures under each of the three charts
    browser.check_page("team")


def test_the_skip_link_is_the_first_stop_of_the_keyboard(browser: Browser) -> None:
    browser.sign_in(ADMIN_TOKEN)
    body = browser.find("body")
    body.send_keys(Keys.TAB)
    focused = browser.driver.switch_to.active_element
    assert focused.text == "Skip to main content"
    assert focused.value_of_css_property("outline-style") == "solid"  # focus is visible
    focused.send_keys(Keys.ENTER)
    assert browser.driver.switch_to.active_element.get_attribute("id") == "main"
    browser.check_page("skip-link")


def test_acknowledging_from_the_overview_appends_the_event(
        browser: Browser, seeded: Seeded, api: httpx.Client) -> None:
    incident = seeded.open_incidents[2]
    browser.sign_in(MEMBER_TOKEN)
    head = _head(api)
    row = browser.driver.find_element(
        By.XPATH, "//tr[td[normalize-space()='Search slow for some users']]")
    browser.click(row.find_element(By.TAG_NAME, "button"))
    assert browser.path == "/console"
    assert browser.find("p.notice").text == "The incident is acknowledged."
    browser.check_page("acknowledged")

    found = api.get(f"/v1/incidents/{incident}").json()
    assert found["status"] == "acknowledged"
    events = api.get("/v1/events", params={"after": head}).json()["items"]
    assert [(e["type"], e["subject"]) for e in events] == [
        ("opsledger.incidents.IncidentAcknowledged.v1", incident)]
    audit = api.get("/v1/audit", params={"entity_id": incident}).json()["items"]
    assert audit[-1]["actor"] == "user:max"  # the signed-in token's principal


def test_a_stale_page_gets_a_conflict_and_appends_nothing(
        browser: Browser, seeded: Seeded, api: httpx.Client) -> None:
    incident = seeded.open_incidents[0]
    browser.sign_in(ADMIN_TOKEN)
    row = browser.driver.find_element(
        By.XPATH, "//tr[td[normalize-space()='Checkout latency above SLO']]")
    # Someone else changes the incident after the page was made.
    assert api.post(f"/v1/incidents/{incident}/notes",
                    json={"text": "looking at the load balancer"}).status_code == 200
    head = _head(api)
    browser.click(row.find_element(By.TAG_NAME, "button"))
    assert browser.h1() == "Conflict: this incident changed after you loaded the page"
    assert "Nothing was recorded" in browser.find("[role=alert]").text
    browser.check_page("conflict", status=409)
    assert _head(api) == head
    assert api.get(f"/v1/incidents/{incident}").json()["status"] == "open"


def test_a_team_scoped_user_sees_only_its_team(browser: Browser, seeded: Seeded) -> None:
    browser.sign_in(SCOPED_TOKEN)
    assert [a.text for a in browser.find_all("ul.teams a")] == ["Payments"]
    summaries = [td.text for td in browser.find_all("table.incidents td:nth-child(4)")]
    assert summaries == ["Card payments failing"]
    assert "Site Reliability" not in browser.driver.page_source
    browser.check_page("scoped-overview")

    browser.get(f"/console/teams/{seeded.payments}")
    assert browser.h1() == "Payments"
    browser.check_page("scoped-team")

    browser.get(f"/console/teams/{seeded.sre}")
    assert browser.h1() == "404 Not found"
    assert "Site Reliability" not in browser.driver.page_source
    cookies = {"opsledger_console": browser.session_cookie() or ""}
    chart = httpx.get(f"{browser.base_url}/console/teams/{seeded.sre}/charts/resolve.svg",
                      cookies=cookies)
    assert chart.status_code == 404
    browser.check_page("scoped-other-team", status=404)


def test_signing_out_ends_the_session(browser: Browser) -> None:
    browser.sign_in(ADMIN_TOKEN)
    session = browser.session_cookie()
    browser.click(browser.find("form.sign-out button"))
    assert browser.path == "/console/sign-in"
    assert browser.find("p.notice").text == "You are signed out."
    browser.check_page("signed-out")
    # The old session id opens nothing any more, in this browser or another client.
    old = httpx.get(f"{browser.base_url}/console", cookies={"opsledger_console": session or ""},
                    follow_redirects=False)
    assert old.status_code == 303 and old.headers["location"].startswith("/console/sign-in")
    browser.get("/console")
    assert browser.path == "/console/sign-in"


def test_a_revoked_token_ends_the_session_on_the_next_request(
        browser: Browser, seeded: Seeded, api: httpx.Client) -> None:
    issued = api.post("/v1/tokens", json={
        "principal": "user:temp", "roles": ["member"], "teams": [seeded.payments],
        "reason": "contractor for a week"}).json()
    browser.sign_in(issued["token"])
    assert browser.h1() == "Overview"
    browser.check_page("before-revocation")

    revoked = api.request("DELETE", f"/v1/tokens/{issued['id']}",
                          json={"reason": "contract ended"})
    assert revoked.status_code == 200, revoked.text
    browser.get(f"/console/teams/{seeded.payments}")
    assert browser.path == "/console/sign-in"
    assert "session ended" in browser.find("p.notice").text
    browser.check_page("after-revocation")
