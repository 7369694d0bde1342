"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium) against a real `orchestra dev`.

One `orchestra dev` serves the whole package (started at the first browser test, stopped after the
last): its own process tree on the *test* database and broker, serving two code locations copied into
a temporary directory — `browser` (tests/browser/project.py) and `reloadable`, which a test breaks.
Each test gets a fresh browser context (no shared cookies or storage). With ORCHESTRA_SCREENSHOTS=1
the tests save PNGs of the main pages into docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, services_required, write_child_home
from tests.e2e.test_dev_flow import Dev, graphql, health

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "docs" / "screenshots"
HERE = Path(__file__).resolve().parent
RELOADABLE = '''import orchestra as dg


@dg.asset
def reloadable_asset() -> int:
    return 1


defs = dg.Definitions(assets=[reloadable_asset])
'''


def _missing(what: str) -> None:
    """Skip when the browser is absent, unless ORCHESTRA_REQUIRE_SERVICES=1 makes that a failure."""
    if services_required():
        pytest.fail(f"{what} is required (ORCHESTRA_REQUIRE_SERVICES=1); .ci/run installs it")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _missing(f"Chromium ({CHROMIUM}, Debian's `chromium` package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python (the `test` extra)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


class Server:
    def __init__(self, dev: Dev, project: Path, home: Path):
        self.dev, self.project, self.home = dev, project, home
        self.url = f"http://127.0.0.1:{dev.port}"


@pytest.fixture(scope="package")
def server(browser, django_db_setup, django_db_blocker, tmp_path_factory):
    """`orchestra dev` on a free port, serving the browser test project on the test database."""
    root = tmp_path_factory.mktemp("browser")
    project = root / "project"
    project.mkdir()
    shutil.copy(HERE / "project.py", project / "project.py")
    (project / "reloadable.py").write_text(RELOADABLE)
    (project / "workspace.yaml").write_text(
        "load_from:\n"
        "  - python_file: {relative_path: project.py, location_name: browser}\n"
        "  - python_file: {relative_path: reloadable.py, location_name: reloadable}\n"
    )
    with django_db_blocker.unblock():
        home = write_child_home(root / "home")
    dev = Dev(home, project, root / "dev.log")
    try:
        # Through the API, not the ORM: Playwright's sync API keeps an event loop running in this thread.
        dev.wait_for(lambda: health(dev.port) is not None, "the webserver")
        dev.wait_for(lambda: _loaded(dev.port) >= {"browser", "reloadable"}, "both code locations to load")
        yield Server(dev, project, home)
    finally:
        dev.kill()


LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"


def _loaded(port: int) -> set[str]:
    entries = graphql(port, LOCATIONS)["data"]["workspaceOrError"].get("locationEntries") or []
    return {entry["name"] for entry in entries if entry["loadStatus"] == "LOADED"}


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
    yield page
    context.close()
    assert script_errors == [], "uncaught JavaScript errors"


@pytest.fixture
def screenshot():
    """`screenshot(page, name)`: a full-page PNG in docs/screenshots/ when ORCHESTRA_SCREENSHOTS=1."""

    def save(page, name: str) -> None:
        if os.environ.get("ORCHESTRA_SCREENSHOTS") == "1":
            styled = page.evaluate("getComputedStyle(document.querySelector('header.top')).display === 'flex'")
            assert styled, f"{page.url}: ui.css did not apply; not saving an unstyled screenshot"
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return save
