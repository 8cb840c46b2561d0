"""Browser tests: Playwright for Python driving Debian's Chromium (never Playwright's own
browsers) against the app as a live server (gunicorn, as the image runs it) and both sandboxes.

- `app_server` (session): gunicorn on a free port, on the suite's test database, talking to the
  session's sandboxes, with CLOUDIFY_ENV=development as `make run` (the dev sign-in link works;
  the deal note's Fortnox link, written by the worker, keeps the test setting).
- `live_world`: a World (sandbox/driver.py) naming that server and both freshly reset sandboxes.
- `chromium` (one per run of this package) and `page` (a fresh context per test: no cookies
  carried over).
- tests/browser/steps.py: what a user does (install, connect Fortnox, open a tab, move a deal in
  the HubSpot sandbox, wait for the deal's note) and `shot(page, name)`, a full-page screenshot
  under tests/browser/screenshots/ (ignored by git: look at them).

Without Chromium at CHROMIUM (default /usr/bin/chromium) the tests skip, saying so; in CI
(`CI` set, as .ci/run does) they fail instead, so a CI machine without it cannot pass unseen.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.driver import World
from tests.conftest import (
    ROOT,
    TEST_LOG_DIR,
    free_port,
    gunicorn_command,
    service_env,
    wait_for_http,
)

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Headless in a container: no sandbox (root, no user namespaces), no GPU, and nothing that
# phones home (updates, sync, QUIC probes) so a test never waits on the network.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
STEP_TIMEOUT_MS = 10_000


def _chromium_required() -> None:
    if CHROMIUM.exists():
        return
    reason = (
        f"the browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
        "or set CHROMIUM to its path)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _transactional(transactional_db) -> None:
    """The server is another process: it must see each test's rows, and they are flushed after."""


@dataclass(frozen=True)
class AppServer:
    url: str
    process: subprocess.Popen


@pytest.fixture(scope="session")
def app_server(service_database_url, hubspot_server, fortnox_server) -> Iterator[AppServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(TEST_LOG_DIR / "browser-server.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        gunicorn_command(f"127.0.0.1:{port}", "--threads", "4"),
        cwd=ROOT,
        env=service_env(
            CLOUDIFY_ENV="development",
            DATABASE_URL=service_database_url,
            PUBLIC_BASE_URL=url,
            HUBSPOT_API_BASE=hubspot_server.url,
            HUBSPOT_APP_BASE=hubspot_server.url,
            FORTNOX_API_BASE=fortnox_server.url,
            FORTNOX_AUTH_BASE=fortnox_server.url,
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"{url}/healthz", timeout=30, process=process)
        yield AppServer(url=url, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def live_world(app_server, hubspot_url, fortnox_url) -> World:
    """The app server wired to both freshly reset sandboxes (HubSpot knows where the app is)."""
    world = World(app=app_server.url, hubspot=hubspot_url, fortnox=fortnox_url)
    world.app_configure()
    return world


@pytest.fixture(scope="package")
def chromium() -> Iterator[object]:
    _chromium_required()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API marks this thread as running its event loop while it is started,
    # which Django takes for async code and refuses the ORM (the tests' database flush). The
    # browser lives only while this package's tests run, and the check is lifted only then.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium) -> Iterator[object]:
    """A fresh browser context (no cookies) and page per test, English unless a test asks."""
    context = chromium.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
