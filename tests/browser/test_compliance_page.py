"""The compliance page in a real browser: findings with their evidence events linked to
their audit records, the state filter, and the waive and accept-risk forms, which an
auditor sees and a lead does not; a member is not shown findings at all. A decision
appends its event by the auditor, and a page made before someone else's decision gets
the conflict page and appends nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.console import Browser
from tests.browser.seed import MEMBER_TOKEN, SCOPED_TOKEN
from tests.browser.seed_pages import AUDITOR_TOKEN, PagesSeeded


def _head(api: httpx.Client) -> int:
    return int(api.get("/v1/events", params={"after": 0, "limit": 1}).json()["head"])


def _open_findings(api: httpx.Client) -> list[dict[str, object]]:
    items: list[dict[str, object]] = api.get(
        "/v1/compliance/findings", params={"state": "open", "limit": 500}).json()["items"]
    return items


def test_an_auditor_sees_findings_with_evidence_linked_to_audit_records(
        shared_browser: Browser, pages_seeded: PagesSeeded, api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(AUDITOR_TOKEN)
    browser.click(browser.driver.find_element(By.LINK_TEXT, "Compliance"))
    assert browser.h1() == "Compliance findings"
    shown = browser.find_all("article.finding")
    assert len(shown) == len(_open_findings(api)) > 0
    assert {e.text for e in browser.find_all(".finding-state")} == {"open"}
    evidence = browser.find("article.finding table.evidence a")
    assert len(browser.find_all("article.finding form")) == 2 * len(shown)  # waive, accept
    browser.check_page("compliance")  # every evidence link answers (the audit records)
    browser.click(evidence)
    assert browser.path.startswith("/console/audit/entities/")
    browser.check_page("evidence-record")


def test_the_state_filter(shared_browser: Browser, api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(AUDITOR_TOKEN)
    browser.get("/console/compliance")
    Select(browser.find("#state")).select_by_value("resolved")
    browser.click(browser.find("form.filters button"))
    assert browser.path == "/console/compliance"
    states = {e.text for e in browser.find_all(".finding-state")}
    assert states <= {"resolved"}
    resolved = api.get("/v1/compliance/findings",
                       params={"state": "resolved", "limit": 500}).json()["items"]
    assert len(browser.find_all("article.finding")) == len(resolved)
    assert not browser.find_all("article.finding form")  # only open findings are decided
    browser.check_page("compliance-resolved")


def test_an_auditor_waives_a_finding_and_a_stale_page_gets_a_conflict(
        shared_browser: Browser, api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(AUDITOR_TOKEN)
    browser.get("/console/compliance")
    first, second = browser.find_all("article.finding")[:2]
    finding = first.find_element(By.TAG_NAME, "code").text
    other = second.find_element(By.TAG_NAME, "code").text
    first.find_element(By.CSS_SELECTOR, "textarea[name=reason]").send_keys(
        "entered late on purpose: the pager import")
    head = _head(api)
    browser.click(first.find_element(By.XPATH, ".//form[contains(@action, '/waive')]//button"))
    assert browser.find("p.notice").text == "The finding is waived."
    browser.check_page("waived")
    events = api.get("/v1/events", params={"after": head}).json()["items"]
    assert [(e["type"].split(".")[2], e["actor"]) for e in events][-1] == (
        "FindingWaived", "user:audra")
    assert api.get(f"/v1/compliance/findings/{finding}").json()["state"] == "waived"

    # The other finding's risk is accepted (in another tab) after this page was made.
    until = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    row = next(a for a in browser.find_all("article.finding")
               if a.find_element(By.TAG_NAME, "code").text == other)
    r = api.post(f"/v1/compliance/findings/{other}/accept-risk", json={
        "reason": "accepted in another tab", "until": until + ":00Z"},
        headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"})
    assert r.status_code == 200, r.text
    head = _head(api)
    row.find_element(By.CSS_SELECTOR, "form[action$='/accept-risk'] textarea").send_keys(
        "accepting it too")
    until_field = row.find_element(By.CSS_SELECTOR, "form[action$='/accept-risk'] "
                                                    "input[name=until]")
    browser.driver.execute_script("arguments[0].value = arguments[1]", until_field, until)
    browser.click(row.find_element(By.CSS_SELECTOR, "form[action$='/accept-risk'] button"))
    assert browser.h1() == "Conflict: this finding changed after you loaded the page"
    browser.check_page("finding-conflict", status=409)
    assert _head(api) == head


def test_a_lead_sees_findings_without_the_forms_and_a_member_sees_none(
        shared_browser: Browser, api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(SCOPED_TOKEN)
    browser.get("/console/compliance?state=all")
    assert browser.h1() == "Compliance findings"
    assert not browser.find_all("article.finding form")
    assert not browser.find_all("textarea[name=reason]")
    browser.check_page("compliance-lead")

    browser.get("/console/sign-in")
    browser.sign_in(MEMBER_TOKEN)
    assert "Compliance" not in [a.text for a in browser.find_all("nav a")]
    browser.get("/console/compliance")
    assert browser.h1() == "403 Forbidden"
    assert not browser.find_all("form[action*='/waive']")
    browser.check_page("compliance-member", status=403)
