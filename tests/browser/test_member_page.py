"""The member page in a real browser: reached from the team page's roster, it shows
the member's role history and performance timeline (the API's member timeline);
another team's member is not found."""

from __future__ import annotations

import httpx
from selenium.webdriver.common.by import By

from tests.browser.console import Browser
from tests.browser.seed import ADMIN_TOKEN, SCOPED_TOKEN, Seeded
from tests.browser.seed_pages import PagesSeeded


def test_the_member_page_shows_the_performance_timeline(
        shared_browser: Browser, seeded: Seeded, pages_seeded: PagesSeeded,
        api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(ADMIN_TOKEN)
    browser.get(f"/console/teams/{seeded.sre}")
    browser.click(browser.driver.find_element(By.LINK_TEXT, "Ada Lovelace"))
    assert browser.path == f"/console/members/{pages_seeded.ada}"
    assert browser.h1() == "Ada Lovelace"
    assert "Senior SRE, effective" in browser.find("ol.history").text
    shown = [tr.find_elements(By.TAG_NAME, "td")[2].text
             for tr in browser.find_all("table.member-timeline tbody tr")]
    expected = [e["summary"] for e in api.get(
        f"/v1/performance/members/{pages_seeded.ada}/timeline",
        params={"limit": 100}).json()["items"]]
    assert shown == expected and len(shown) >= 3  # the API's timeline, in its order
    kinds = browser.find("table.counts-by-kind").text
    assert "role" in kinds.lower()
    browser.check_page("member")


def test_another_teams_member_is_not_found(shared_browser: Browser,
                                           pages_seeded: PagesSeeded) -> None:
    browser = shared_browser
    browser.sign_in(SCOPED_TOKEN)
    browser.get(f"/console/members/{pages_seeded.ada}")
    assert browser.h1() == "404 Not found"
    assert "Ada Lovelace" not in browser.driver.page_source
    browser.check_page("member-other-team", status=404)
