"""More actions in a real browser: checking in on a goal from its page and triaging
feedback from the team's feedback page; each appends its event by the signed-in
principal, and a form made before someone else's change gets the conflict page and
appends nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.console import Browser
from tests.browser.seed import MEMBER_TOKEN, Seeded
from tests.browser.seed_pages import PagesSeeded, answer


def _head(api: httpx.Client) -> int:
    return int(api.get("/v1/events", params={"after": 0, "limit": 1}).json()["head"])


def _events_after(api: httpx.Client, head: int) -> list[tuple[str, str]]:
    items = api.get("/v1/events", params={"after": head}).json()["items"]
    return [(e["type"].split(".")[2], e["actor"]) for e in items]


def _goal(api: httpx.Client, seeded: Seeded, owner: str, title: str) -> str:
    return str(answer(api.post("/v1/goals", json={
        "team_id": seeded.sre, "owner_id": owner, "title": title,
        "metric": "pages per week", "baseline": 40, "target": 10, "unit": "pages",
        "deadline": (datetime.now(UTC) + timedelta(days=60)).date().isoformat()}))["id"])


def test_checking_in_on_a_goal_from_its_page(
        shared_browser: Browser, seeded: Seeded, pages_seeded: PagesSeeded,
        api: httpx.Client) -> None:
    browser = shared_browser
    goal = _goal(api, seeded, pages_seeded.grace, "Fewer pages at night")
    browser.sign_in(MEMBER_TOKEN)
    browser.get(f"/console/teams/{seeded.sre}")
    browser.click(browser.driver.find_element(By.LINK_TEXT, "Fewer pages at night"))
    assert browser.path == f"/console/goals/{goal}"
    assert browser.find("#check-ins-heading + p").text == "No check-in yet."
    head = _head(api)
    browser.find("#check-in-value").send_keys("25")
    browser.find("#check-in-note").send_keys("the noisy disk alert is gone")
    browser.click(browser.find("#check-in-value").find_element(By.XPATH, "ancestor::form//button"))
    assert browser.find("p.notice").text == "The check-in is recorded."
    assert browser.find("#goal-latest").text == "25.0 pages"
    assert browser.find("meter").get_attribute("value") == "50"  # 40 -> 25, target 10
    assert "the noisy disk alert is gone" in browser.find("table.check-ins").text
    browser.check_page("goal-checked-in")
    assert _events_after(api, head) == [("ProgressCheckedIn", "user:max")]


def test_a_stale_check_in_gets_a_conflict(
        shared_browser: Browser, seeded: Seeded, pages_seeded: PagesSeeded,
        api: httpx.Client) -> None:
    browser = shared_browser
    goal = _goal(api, seeded, pages_seeded.ada, "Shorter handovers")
    browser.sign_in(MEMBER_TOKEN)
    browser.get(f"/console/goals/{goal}")
    answer(api.post(f"/v1/goals/{goal}/check-ins", json={"value": 30}))
    head = _head(api)
    browser.find("#check-in-value").send_keys("20")
    browser.click(browser.find("#check-in-value").find_element(By.XPATH, "ancestor::form//button"))
    assert browser.h1() == "Conflict: this goal changed after you loaded the page"
    browser.check_page("goal-conflict", status=409)
    assert _head(api) == head
    assert api.get(f"/v1/goals/{goal}").json()["current_value"] == 30


def test_triaging_feedback_from_the_team_page(
        shared_browser: Browser, seeded: Seeded, pages_seeded: PagesSeeded,
        api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(MEMBER_TOKEN)
    browser.get(f"/console/teams/{seeded.sre}")
    browser.click(browser.driver.find_element(By.LINK_TEXT, "Feedback and triage"))
    assert browser.h1() == "Feedback: Site Reliability"
    forms = browser.find_all("table.feedback form")
    assert forms, "feedback to triage"
    feedback_id = forms[0].get_attribute("action").split("/")[-2]
    Select(forms[0].find_element(By.NAME, "priority")).select_by_value("high")
    Select(forms[0].find_element(By.NAME, "owner_id")).select_by_visible_text("Grace Hopper")
    other_id = forms[1].get_attribute("action").split("/")[-2]
    head = _head(api)
    browser.click(forms[0].find_element(By.TAG_NAME, "button"))
    assert browser.find("p.notice").text == "The feedback is triaged."
    browser.check_page("feedback-triaged")
    assert _events_after(api, head) == [("FeedbackTriaged", "user:max")]
    found = api.get(f"/v1/feedback/{feedback_id}").json()
    assert (found["status"], found["priority"], found["owner_id"]) == (
        "triaged", "high", pages_seeded.grace)

    # A form on the page goes stale: its feedback is triaged elsewhere meanwhile.
    browser.get(f"/console/teams/{seeded.sre}/feedback")
    stale = next(f for f in browser.find_all("table.feedback form")
                 if f.get_attribute("action").split("/")[-2] == other_id)
    answer(api.post(f"/v1/feedback/{other_id}/triage",
                    json={"priority": "low", "owner_id": pages_seeded.ada}))
    head = _head(api)
    browser.click(stale.find_element(By.TAG_NAME, "button"))
    assert browser.h1() == "Conflict: this feedback changed after you loaded the page"
    browser.check_page("feedback-conflict", status=409)
    assert _head(api) == head
    assert api.get(f"/v1/feedback/{other_id}").json()["priority"] == "low"
