# ------------------------------------------------------------------ the browser (issue #4)
#
# One headless Debian Chromium for the whole session, driven by Playwright's Python API.
# Never a downloaded browser build: a missing /usr/bin/chromium fails the run (it is not
# skipped), and .ci/run installs Debian's package.
import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("STYRKORT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"

# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
# between browser steps (loading data, reading results) are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo_site(transactional_db):
    """The demo region (Norrbotten, its divisions and the demo users)."""
    from demo.nara import load_demo

    load_demo()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="sv-SE"
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    page.console_errors = []
    page.on(
        "console",
        lambda message: message.type == "error" and page.console_errors.append(message.text),
    )
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()
