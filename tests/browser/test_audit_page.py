"""The audit trail pages in a real browser: the trail with its filters (entity, actor,
type, time), an entity's versions with what changed between two, and the entity as of
a recording time and at a business time (the API's both-axes as-of query)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from selenium.webdriver.common.by import By

from tests.browser.console import Browser
from tests.browser.seed import SCOPED_TOKEN
from tests.browser.seed_pages import AUDITOR_TOKEN, PagesSeeded


def _fill(browser: Browser, css: str, value: str) -> None:
    """A field set as a person would leave it (datetime-local included)."""
    browser.driver.execute_script("arguments[0].value = arguments[1]", browser.find(css), value)


def test_the_audit_trail_filters_by_entity_actor_type_and_time(
        shared_browser: Browser, pages_seeded: PagesSeeded, api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(AUDITOR_TOKEN)
    browser.click(browser.driver.find_element(By.LINK_TEXT, "Audit trail"))
    assert browser.h1() == "Audit trail"
    first = api.get("/v1/audit", params={"limit": 100}).json()
    shown = [tr.find_elements(By.TAG_NAME, "td")[0].text
             for tr in browser.find_all("table.audit tbody tr")]
    assert shown == [str(r["position"]) for r in first["items"]]  # the API's first 100
    assert bool(browser.find_all("p.pager a")) == bool(first["next_cursor"])
    browser.check_page("audit")

    _fill(browser, "#f-entity", pages_seeded.incident)
    browser.click(browser.find("form.filters button"))
    names = [tr.find_elements(By.TAG_NAME, "td")[4].text.split("\n")[0]
             for tr in browser.find_all("table.audit tbody tr")]
    expected = api.get("/v1/audit", params={"entity_id": pages_seeded.incident}).json()["items"]
    assert names == [r["name"] for r in expected]
    assert "recorded later" in browser.find("table.audit").text
    browser.check_page("audit-entity")

    _fill(browser, "#f-type", "opsledger.incidents.IncidentAcknowledged.v1")
    _fill(browser, "#f-actor", "user:admin")
    browser.click(browser.find("form.filters button"))
    assert [tr.find_elements(By.TAG_NAME, "td")[4].text.split("\n")[0]
            for tr in browser.find_all("table.audit tbody tr")] == ["IncidentAcknowledged"]

    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    _fill(browser, "#f-type", "")
    _fill(browser, "#f-since", later)
    browser.click(browser.find("form.filters button"))
    assert browser.find("#records-heading + p").text == "No record matches these filters."
    browser.check_page("audit-nothing")


def test_an_entitys_versions_what_changed_and_as_of(
        shared_browser: Browser, pages_seeded: PagesSeeded, api: httpx.Client) -> None:
    browser = shared_browser
    browser.sign_in(AUDITOR_TOKEN)
    history = api.get(f"/v1/compliance/entities/{pages_seeded.incident}/history").json()["items"]
    browser.get(f"/console/audit/entities/{pages_seeded.incident}")
    assert len(browser.find_all("table.versions tbody tr")) == len(history)
    acknowledged = next(v for v in history if v["event_name"] == "IncidentAcknowledged")
    browser.click(browser.driver.find_element(
        By.LINK_TEXT, f"what version {acknowledged['version']} changed"))
    changes = {tr.find_elements(By.TAG_NAME, "td")[0].text: tr.find_elements(
        By.TAG_NAME, "td")[1].text for tr in browser.find_all("table.diff tbody tr")}
    assert changes["status"] == "changed"
    assert any(path.startswith("timeline[") and kind == "added"
               for path, kind in changes.items())
    browser.check_page("entity-diff")

    # How things stood 5 minutes after the opening, as known now: open, not yet
    # acknowledged (that happened 7 minutes after the opening).
    opened = datetime.fromisoformat(history[0]["time"].replace("Z", "+00:00"))
    _fill(browser, "#effective-at", (opened + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    browser.click(browser.find("#effective-at").find_element(By.XPATH, "ancestor::form//button"))
    assert browser.find("#as-of-result").text.startswith("Version 1,")
    state = browser.find("table.state").text
    assert "status open" in state
    # As known just before it was recorded, nothing of it existed.
    recorded = datetime.fromisoformat(history[0]["recorded_at"].replace("Z", "+00:00"))
    _fill(browser, "#effective-at", "")
    _fill(browser, "#as-of", (recorded - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    browser.click(browser.find("#as-of").find_element(By.XPATH, "ancestor::form//button"))
    assert browser.find("#as-of-result").text.startswith("Nothing yet")
    browser.check_page("entity-as-of")


def test_a_scoped_lead_does_not_see_another_teams_entity(
        shared_browser: Browser, pages_seeded: PagesSeeded) -> None:
    browser = shared_browser
    browser.sign_in(SCOPED_TOKEN)
    browser.get(f"/console/audit?entity_id={pages_seeded.incident}")
    assert browser.find("#records-heading + p").text == "No record matches these filters."
    browser.get(f"/console/audit/entities/{pages_seeded.incident}")
    assert browser.h1() == "404 Not found"
    browser.check_page("entity-other-team", status=404)
