"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Chromium is installed by `make test` (scripts/ensure-chromium.sh). Where it is
missing these tests fail in CI and skip on a developer's machine.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# As the machine's probe found: without the background-networking flags Chromium
# keeps dialling out of a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the
    # tests make beside it are still plain synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if not shutil.which(CHROMIUM):
        message = f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo_db(transactional_db: None, settings: Any, data_dir: Any) -> None:
    # In the test's own data folder (the demo database goes in it), never the developer's.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def page(chromium: Any, live_server: Any, demo_db: None) -> Iterator[Any]:
    """A page signed in as the demo user."""
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo")
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/")
    page.base = live_server.url
    yield page
    context.close()
