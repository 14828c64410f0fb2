"""The browser tests' fixtures: a real ``opsledger serve`` on a free port, seeded
through the HTTP API (:mod:`.seed`), and a headless Chromium driven by Selenium.

Selenium is pointed at Debian's ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``
(``make browser``, infra/local/browser/install.sh), so Selenium Manager downloads
nothing. Without them the tests skip with the reason, except in CI (``CI`` set),
where they fail: there they must run.

Screenshots go to ``tests/browser/output/<test>/`` (git-ignored), or under
``$OPSLEDGER_BROWSER_OUTPUT`` when set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.console import Browser
from tests.browser.seed import ADMIN_TOKEN, Seeded, seed
from tests.browser.seed_pages import AUDITOR_TOKEN, PagesSeeded, seed_pages
from tests.e2e.server import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HERE = Path(__file__).resolve().parent


def _require_chromium() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    reason = (f"{' and '.join(missing)} not installed: run `make browser` "
              "(apt-get install chromium chromium-driver)")
    if os.environ.get("CI"):
        pytest.fail(f"the browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def seeded() -> Seeded:
    return Seeded()


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory,
                   seeded: Seeded) -> Iterator[ServerProcess]:
    _require_chromium()
    data = tmp_path_factory.mktemp("console") / "data"
    tokens = {**seeded.tokens(), AUDITOR_TOKEN: {
        "principal": "user:audra", "roles": ["auditor"], "teams": ["*"]}}
    server = ServerProcess(data, env={"OPSLEDGER_TOKENS": json.dumps(tokens)})
    with server:
        with httpx.Client(base_url=server.url, timeout=30,
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
            seed(client, seeded)
        yield server


@pytest.fixture(scope="session")
def pages_seeded(console_server: ServerProcess, seeded: Seeded) -> PagesSeeded:
    """What the pages beyond the overview and the team page show (seeded once)."""
    with httpx.Client(base_url=console_server.url, timeout=30,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        return seed_pages(client, seeded)


@pytest.fixture
def api(console_server: ServerProcess) -> Iterator[httpx.Client]:
    """The admin's HTTP client on the same server."""
    with httpx.Client(base_url=console_server.url, timeout=30,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        yield client


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    root = Path(os.environ.get("OPSLEDGER_BROWSER_OUTPUT") or HERE / "output")
    folder = root / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


@pytest.fixture
def browser(console_server: ServerProcess, output_dir: Path) -> Iterator[Browser]:
    _require_chromium()
    with Browser.start(console_server.url, output_dir, chromium=CHROMIUM,
                       chromedriver=CHROMEDRIVER) as b:
        yield b


@pytest.fixture(scope="module")
def module_browser(console_server: ServerProcess,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One Chromium for a whole test module (starting one takes a second or two)."""
    _require_chromium()
    with Browser.start(console_server.url, tmp_path_factory.mktemp("shots"),
                       chromium=CHROMIUM, chromedriver=CHROMEDRIVER) as b:
        yield b


@pytest.fixture
def shared_browser(module_browser: Browser, output_dir: Path) -> Browser:
    """The module's Chromium, signed out (no cookie, a blank page, its log read),
    saving this test's screenshots in its own folder."""
    module_browser.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    module_browser.driver.get("about:blank")
    module_browser.driver.get_log("browser")  # what a previous test left in the log
    module_browser.output = output_dir
    module_browser.shots = []
    return module_browser
