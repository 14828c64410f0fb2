"""A headless Chromium on the console, and the checks every page it visits must pass:
no JavaScript console error (``SEVERE`` entries, CSP violations included), no broken
link (every same-origin ``<a href>``, ``<img src>`` and ``<link href>`` answers 200
with the session), and a 1280x800 screenshot saved under the test's output folder.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import httpx
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

WIDTH, HEIGHT = 1280, 800
COOKIE = "opsledger_console"

_LINKS = """return [
  ...Array.from(document.querySelectorAll('a[href]:not([href^="#"])'), a => a.href),
  ...Array.from(document.querySelectorAll('img[src]'), i => i.src),
  ...Array.from(document.querySelectorAll('link[href]'), l => l.href),
];"""


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height, from its IHDR chunk."""
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return int(width), int(height)


@dataclass
class Browser:
    driver: webdriver.Chrome
    base_url: str
    output: Path
    shots: list[Path] = field(default_factory=list)

    @classmethod
    @contextmanager
    def start(cls, base_url: str, output: Path, *, chromium: Path,
              chromedriver: Path) -> Iterator[Browser]:
        options = Options()
        options.binary_location = str(chromium)
        for argument in ("--headless=new", f"--window-size={WIDTH},{HEIGHT}",
                         "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--disable-extensions", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync"):
            options.add_argument(argument)
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium refuses to run as root with it
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # Both paths are given, so Selenium Manager has nothing to find; offline, it
        # could not download anything even if it tried.
        os.environ.setdefault("SE_OFFLINE", "true")
        driver = webdriver.Chrome(service=Service(executable_path=str(chromedriver)),
                                  options=options)
        try:
            # The viewport itself is 1280x800 (not the window around it).
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
            yield cls(driver, base_url, output)
        finally:
            driver.quit()

    # -- navigation ------------------------------------------------------------

    def get(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    @property
    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    def sign_in(self, token: str) -> None:
        """Sign in with ``token``; a browser signed in already (the sign-in page sends it
        on) signs out first, as a person changing accounts would."""
        self.get("/console/sign-in")
        if self.find_all("form.sign-out"):
            self.click(self.driver.find_element(By.CSS_SELECTOR, "form.sign-out button"))
            self.get("/console/sign-in")
        self.driver.find_element(By.ID, "token").send_keys(token)
        self.click(self.driver.find_element(By.CSS_SELECTOR, "form.sign-in button"))

    def click(self, element: WebElement, timeout: float = 15) -> None:
        """Click something that loads another page, and wait until it has."""
        html = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        WebDriverWait(self.driver, timeout).until(_left(html))
        WebDriverWait(self.driver, timeout).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def h1(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def headings(self) -> list[str]:
        return [h.tag_name for h in self.driver.find_elements(
            By.CSS_SELECTOR, "h1, h2, h3, h4, h5, h6")]

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def session_cookie(self) -> str | None:
        cookie = self.driver.get_cookie(COOKIE)
        return None if cookie is None else str(cookie["value"])

    # -- what every page must pass -----------------------------------------------

    def check_page(self, name: str, status: int = 200) -> None:
        """No console error, no broken link, and the page's screenshot saved. A page
        answered with an error ``status`` on purpose (a conflict, another team's page)
        may have that one network entry of its own, and nothing else."""
        self.assert_no_console_errors(status)
        self.assert_accessible_structure()
        self.assert_in_page_links_have_targets()
        self.assert_no_broken_links()
        self.screenshot(name)

    def assert_no_console_errors(self, status: int = 200) -> None:
        own = f"{self.driver.current_url} - Failed to load resource: the server responded " \
              f"with a status of {status} "
        severe = [entry for entry in self.driver.get_log("browser")
                  if entry.get("level") == "SEVERE"
                  and not (status != 200 and entry.get("source") == "network"
                           and str(entry.get("message", "")).startswith(own))]
        assert severe == [], f"console errors on {self.driver.current_url}: {severe}"

    def assert_accessible_structure(self) -> None:
        """One ``<h1>``, headings that never skip a level, a label on every field, a
        skip link first, and the page's language."""
        levels = [int(tag[1]) for tag in self.headings()]
        assert levels and levels[0] == 1 and levels.count(1) == 1, levels
        assert all(b - a <= 1 for a, b in pairwise(levels)), levels
        unlabelled: list[str] = self.driver.execute_script(
            "return Array.from(document.querySelectorAll("
            "'input:not([type=hidden]), select, textarea'))"
            ".filter(f => f.labels.length === 0 && !f.getAttribute('aria-label'))"
            ".map(f => f.outerHTML);")
        assert unlabelled == [], f"fields without a label: {unlabelled}"
        first = self.driver.execute_script(
            "return document.querySelector('a[href], button, input:not([type=hidden])')"
            ".textContent.trim();")
        assert first == "Skip to main content"
        assert self.driver.execute_script("return document.documentElement.lang") == "en"

    def assert_in_page_links_have_targets(self) -> None:
        """Each ``<a href="#id">`` names an element of the page (the skip link's main)."""
        missing: list[str] = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href^=\"#\"]'), a => "
            "a.getAttribute('href')).filter(h => !document.getElementById(h.slice(1)));")
        assert missing == [], f"in-page links without a target: {missing}"

    def links(self) -> list[str]:
        found: list[str] = self.driver.execute_script(_LINKS)
        return sorted({urldefrag(url).url for url in found})

    def assert_no_broken_links(self) -> None:
        """Each same-origin link answers 200 with this session's cookie (after
        redirects); with a session, none of them leads to the sign-in page."""
        origin = urlsplit(self.base_url).netloc
        same_origin = [url for url in self.links() if urlsplit(url).netloc == origin]
        assert same_origin, f"no link at all on {self.driver.current_url}"
        value = self.session_cookie()
        cookies = {COOKIE: value} if value else {}
        signed_in = bool(self.find_all("form.sign-out"))
        broken = []
        with httpx.Client(cookies=cookies, timeout=30, follow_redirects=True) as client:
            for url in same_origin:
                answer = client.get(url)
                if answer.status_code != 200 or (
                        signed_in and answer.url.path == "/console/sign-in" != urlsplit(url).path):
                    broken.append((url, answer.status_code, str(answer.url)))
        assert broken == [], f"broken links on {self.driver.current_url}: {broken}"

    def screenshot(self, name: str) -> Path:
        path = self.output / f"{len(self.shots) + 1:02d}-{name}.png"
        assert self.driver.save_screenshot(str(path)), f"no screenshot of {name}"
        assert png_size(path) == (WIDTH, HEIGHT), (path, png_size(path))
        self.shots.append(path)
        return path


def _left(html: WebElement) -> Callable[[object], bool]:
    """The page ``html`` belonged to is gone. Like Selenium's ``staleness_of``, except
    that Chromium, asked about a node in the middle of a navigation, may answer "Node
    with given id does not belong to the document": that too means it is gone."""
    def gone(_driver: object) -> bool:
        try:
            html.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
        return False

    return gone
