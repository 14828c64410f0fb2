"""The risk heat map and the training matrix in a real browser: counts in the cells,
bands written as words with patterns (readable without colour), and each training
cell's status in words."""

from __future__ import annotations

import httpx
from selenium.webdriver.common.by import By

from tests.browser.console import Browser
from tests.browser.seed import ADMIN_TOKEN, SCOPED_TOKEN, Seeded
from tests.browser.seed_pages import PagesSeeded


def _cell(browser: Browser, likelihood: int, impact: int) -> str:
    return browser.find(f"td[data-likelihood='{likelihood}'][data-impact='{impact}']").text


def test_the_heat_map_counts_the_open_risks_in_words_and_numbers(
        shared_browser: Browser, seeded: Seeded, pages_seeded: PagesSeeded,
        api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(ADMIN_TOKEN)
    browser.get(f"/console/teams/{seeded.sre}")
    browser.click(browser.driver.find_element(By.LINK_TEXT, "Risk heat map"))
    assert browser.h1() == "Risk register"
    heat = api.get("/v1/risks/heatmap", params={"team_id": seeded.sre}).json()
    assert browser.find("#heatmap-heading").text == f"Heat map of the {heat['risks']} open risks"
    for cell in heat["cells"]:
        text = _cell(browser, cell["likelihood"], cell["impact"])
        assert f"{cell['inherent']} inherent" in text and f"{cell['residual']} residual" in text
    assert "1 inherent" in _cell(browser, 5, 5) and "SEVERE (25)" in _cell(browser, 5, 5)
    assert "HIGH (12)" in _cell(browser, 4, 3)
    assert "LOW (4)" in _cell(browser, 2, 2)
    # A pattern as well as a colour: the severe and high bands are hatched.
    image = browser.driver.execute_script(
        "return getComputedStyle(arguments[0]).backgroundImage",
        browser.find("td[data-likelihood='5'][data-impact='5']"))
    assert "repeating-linear-gradient" in image
    register = browser.find("table.register").text
    assert register.index("Card processor outage") < register.index("Stale runbooks")
    browser.check_page("risks")


def test_the_training_matrix_says_each_status_in_words(
        shared_browser: Browser, seeded: Seeded, pages_seeded: PagesSeeded) -> None:
    browser = shared_browser
    browser.sign_in(ADMIN_TOKEN)
    browser.get(f"/console/teams/{seeded.sre}")
    browser.click(browser.driver.find_element(By.LINK_TEXT, "Training matrix"))
    assert browser.h1() == "Training matrix: Site Reliability"
    columns = [th.text for th in browser.find_all("table.matrix thead th")]
    assert columns == ["Member", "Security basics", "Incident commander"]  # as defined
    rows = {tr.find_element(By.TAG_NAME, "th").text.split(" ")[0] + " "
            + tr.find_element(By.TAG_NAME, "th").text.split(" ")[1]:
            [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in browser.find_all("table.matrix tbody tr")}
    assert rows["Ada Lovelace"][0].startswith("\N{WARNING SIGN} expired")
    assert rows["Grace Hopper"][0].startswith("\N{HEAVY EXCLAMATION MARK SYMBOL} overdue")
    assert rows["Grace Hopper"][1].startswith("\N{CLOCK FACE THREE OCLOCK} due, required")
    assert rows["Ada Lovelace"][1].startswith("\N{EN DASH} not assigned")  # Senior SRE now
    browser.check_page("training-matrix")


def test_a_scoped_lead_sees_neither_of_another_team(
        shared_browser: Browser, seeded: Seeded, pages_seeded: PagesSeeded) -> None:
    browser = shared_browser
    browser.sign_in(SCOPED_TOKEN)
    browser.get("/console/risks")
    assert browser.find("#heatmap-heading").text == "Heat map of the 0 open risks"
    assert "Card processor outage" not in browser.driver.page_source
    browser.check_page("risks-scoped")
    browser.get(f"/console/teams/{seeded.sre}/trainings")
    assert browser.h1() == "404 Not found"
    browser.check_page("training-matrix-other-team", status=404)
