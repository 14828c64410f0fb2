"""The incident page in a real browser: its timeline with both times where they differ,
responders, postmortem and follow-ups; acknowledging, adding a note, resolving and
completing a follow-up from its forms (each appends its event, by the signed-in
principal), and a stale page's form gets the conflict page and appends nothing."""

from __future__ import annotations

import httpx
from selenium.webdriver.common.by import By

from tests.browser.console import Browser
from tests.browser.seed import ADMIN_TOKEN, MEMBER_TOKEN, SCOPED_TOKEN, Seeded
from tests.browser.seed_pages import PagesSeeded, answer


def _head(api: httpx.Client) -> int:
    return int(api.get("/v1/events", params={"after": 0, "limit": 1}).json()["head"])


def _events_after(api: httpx.Client, head: int) -> list[tuple[str, str]]:
    items = api.get("/v1/events", params={"after": head}).json()["items"]
    return [(e["type"].split(".")[2], e["actor"]) for e in items]


def _open(api: httpx.Client, seeded: Seeded, summary: str) -> str:
    return str(answer(api.post("/v1/incidents", json={
        "team_id": seeded.sre, "severity": "SEV4", "service": "search",
        "summary": summary}))["id"])


def test_the_incident_page_shows_both_times_responders_postmortem_and_follow_ups(
        shared_browser: Browser, pages_seeded: PagesSeeded) -> None:
    browser = shared_browser
    browser.sign_in(ADMIN_TOKEN)
    browser.click(browser.driver.find_element(By.LINK_TEXT, "Site Reliability"))
    browser.get(f"/console/incidents/{pages_seeded.incident}")
    assert browser.h1() == "SEV2: Checkout 502s after the deploy"
    assert browser.headings()[:2] == ["h1", "h2"]
    rows = browser.find_all("table.timeline tbody tr")
    kinds = [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows]
    assert kinds[:5] == ["IncidentOpened", "IncidentAcknowledged", "ResponderAssigned",
                         "IncidentResolved", "PostmortemPublished"]
    late = browser.find_all("table.timeline tr.late")
    assert len(late) == 4  # opened, acknowledged, assigned, resolved: entered afterwards
    assert "recorded later" in late[0].text
    assert "same time" in rows[4].text  # the postmortem was recorded as it happened
    assert [a.text for a in browser.find_all("#responders-heading + ul a")] == ["Ada Lovelace"]
    assert "the pool size was not load tested" in browser.find("#postmortem-heading ~ ul").text
    follow_ups = browser.find("table.follow-ups").text
    assert "Load test the pool size" in follow_ups and "Grace Hopper" in follow_ups
    assert not browser.find_all("#actions-heading")  # resolved: no acknowledge or resolve
    browser.check_page("incident")


def test_acknowledge_note_and_resolve_from_the_incident_page(
        shared_browser: Browser, seeded: Seeded, api: httpx.Client) -> None:
    browser = shared_browser
    incident = _open(api, seeded, "Search results empty for some queries")
    browser.sign_in(MEMBER_TOKEN)
    browser.get(f"/console/incidents/{incident}")
    head = _head(api)
    browser.click(browser.find("form.action button"))
    assert browser.find("p.notice").text == "The incident is acknowledged."
    assert browser.find("#incident-status").text == "acknowledged"

    browser.find("#note-text").send_keys("the index rebuild is at 40 %")
    browser.click(browser.find("#note-text").find_element(By.XPATH, "ancestor::form//button"))
    assert browser.find("p.notice").text == "The note is added to the timeline."
    assert "the index rebuild is at 40 %" in browser.find("table.timeline").text

    browser.find("#resolve-summary").send_keys("the index was rebuilt")
    browser.find("#resolve-root-cause").send_keys("a full disk")
    browser.click(browser.find("#resolve-summary").find_element(
        By.XPATH, "ancestor::form//button"))
    assert browser.find("p.notice").text == "The incident is resolved."
    browser.check_page("incident-resolved")
    assert _events_after(api, head) == [("IncidentAcknowledged", "user:max"),
                                        ("TimelineNoteAdded", "user:max"),
                                        ("IncidentResolved", "user:max")]
    found = api.get(f"/v1/incidents/{incident}").json()
    assert (found["status"], found["root_cause"]) == ("resolved", "a full disk")


def test_an_empty_note_is_refused_and_appends_nothing(
        shared_browser: Browser, seeded: Seeded, api: httpx.Client) -> None:
    browser = shared_browser
    incident = _open(api, seeded, "Search suggestions slow")
    browser.sign_in(ADMIN_TOKEN)
    browser.get(f"/console/incidents/{incident}")
    assert "Acknowledge the incident to resolve it." in browser.find("main").text
    head = _head(api)
    # Spaces pass the browser's own `required` check; the API's rules refuse them.
    browser.find("#note-text").send_keys("   ")
    browser.click(browser.find("#note-text").find_element(By.XPATH, "ancestor::form//button"))
    assert browser.h1().startswith("422 ")
    assert "the form is not valid: note:" in browser.find("p.problem-detail").text
    browser.check_page("note-refused", status=422)
    assert _head(api) == head
    answer(api.post(f"/v1/incidents/{incident}/acknowledge"))
    answer(api.post(f"/v1/incidents/{incident}/resolve", json={"summary": "cleaned up"}))


def test_two_people_resolving_at_once_get_a_conflict_not_an_overwrite(
        shared_browser: Browser, seeded: Seeded, api: httpx.Client) -> None:
    browser = shared_browser
    incident = _open(api, seeded, "Search index lagging")
    answer(api.post(f"/v1/incidents/{incident}/acknowledge"))
    browser.sign_in(ADMIN_TOKEN)
    browser.get(f"/console/incidents/{incident}")
    # Someone else resolves it after the page was made.
    answer(api.post(f"/v1/incidents/{incident}/resolve",
                    json={"summary": "restarted the indexer"}))
    head = _head(api)
    browser.find("#resolve-summary").send_keys("my own resolution")
    browser.click(browser.find("#resolve-summary").find_element(
        By.XPATH, "ancestor::form//button"))
    assert browser.h1() == "Conflict: this incident changed after you loaded the page"
    assert "Nothing was recorded" in browser.find("[role=alert]").text
    browser.check_page("incident-conflict", status=409)
    assert _head(api) == head
    assert api.get(f"/v1/incidents/{incident}").json()["timeline"][-1]["summary"] == \
        "restarted the indexer"


def test_completing_a_follow_up_from_the_incident_page(
        shared_browser: Browser, pages_seeded: PagesSeeded, api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(ADMIN_TOKEN)
    browser.get(f"/console/incidents/{pages_seeded.incident}")
    row = browser.driver.find_element(By.XPATH, "//tr[td[text()='Alert on pool saturation']]")
    row.find_element(By.CSS_SELECTOR, "input[name=note]").send_keys("alert added")
    row.find_element(By.CSS_SELECTOR, "input[name=link]").send_keys(
        "https://tracker.example.com/OPS-12")
    head = _head(api)
    browser.click(row.find_element(By.TAG_NAME, "button"))
    assert browser.find("p.notice").text == "The follow-up is completed."
    row = browser.driver.find_element(By.XPATH, "//tr[td[text()='Alert on pool saturation']]")
    assert "done" in row.text and "alert added" in row.text
    browser.check_page("follow-up-completed")
    assert _events_after(api, head) == [("ActionItemCompleted", "user:admin")]


def test_another_teams_incident_is_not_found(
        shared_browser: Browser, pages_seeded: PagesSeeded) -> None:
    browser = shared_browser
    browser.sign_in(SCOPED_TOKEN)
    browser.get(f"/console/incidents/{pages_seeded.incident}")
    assert browser.h1() == "404 Not found"
    assert "Checkout 502s" not in browser.driver.page_source
    browser.check_page("incident-other-team", status=404)


def test_every_action_refuses_a_post_without_the_sessions_csrf_token(
        shared_browser: Browser, seeded: Seeded, pages_seeded: PagesSeeded,
        api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(ADMIN_TOKEN)
    cookies = {"opsledger_console": browser.session_cookie() or ""}
    incident = pages_seeded.incident
    item = api.get(f"/v1/incidents/{incident}").json()["action_items"][0]["id"]
    routes = [f"/console/incidents/{incident}/{action}" for action in
              ("acknowledge", "resolve", "notes", f"action-items/{item}/complete")]
    routes += [f"/console/goals/{incident}/check-ins", f"/console/feedback/{incident}/triage",
               "/console/compliance/findings/ack_sla:x/waive",
               "/console/compliance/findings/ack_sla:x/accept-risk"]
    head = _head(api)
    for route in routes:
        for csrf in ({}, {"csrf_token": "not-this-sessions"}):
            r = httpx.post(f"{browser.base_url}{route}", cookies=cookies, data={
                **csrf, "if_match": "1", "text": "x", "summary": "x", "note": "x",
                "value": "1", "reason": "x"})
            assert r.status_code == 403, (route, r.status_code)
            assert "CSRF token" in r.text
    assert _head(api) == head
