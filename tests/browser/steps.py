"""What a user does in the browser, for the browser tests: each step waits until the page shows
its result, so a test reads as the path a person takes.

`page` is a Playwright Page, `world` a sandbox.driver.World (the `live_world` fixture).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from sandbox.driver import FORTNOX_COMPANY, HUB, World

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot, tests/browser/screenshots/<name>.png (ignored by git)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def settings_url(world: World, hub: int = HUB) -> str:
    return f"{world.app}/settings/{hub}/"


def fresh_portal(world: World, name: str) -> int:
    """A new HubSpot account in the sandbox (the demo portal's pipelines and records), without
    the app; its hub id."""
    return int(world.hubspot_admin("POST", "/_sandbox/portals", json={"name": name})["hub_id"])


def install_through_consent(page: Page, world: World, hub: int = HUB) -> None:
    """From the app's install link through HubSpot's consent page (choose the account) to the
    settings page, signed in."""
    account = world.hubspot_admin("GET", f"/_sandbox/portals/{hub}")["name"]
    page.goto(f"{world.app}/hubspot/install")
    page.get_by_role("link", name=f"{account} ({hub})").click()
    page.wait_for_url(settings_url(world, hub))


def connect_fortnox_through_consent(
    page: Page, world: World, company: str = FORTNOX_COMPANY, *, before_consent=None
) -> None:
    """On the settings page: Connect Fortnox, approve `company` on Fortnox's consent page, back
    on the settings page. `before_consent(page)` runs on the consent page (a screenshot)."""
    hub = re.search(r"/settings/(\d+)/", page.url).group(1)
    page.locator("#fortnox").get_by_role("link", name=re.compile(r"^Connect Fortnox$")).click()
    page.wait_for_url(re.compile(re.escape(world.fortnox) + r"/oauth-v1/auth\?"))
    if before_consent is not None:
        before_consent(page)
    page.locator(f"#allow-{company}").click()
    page.wait_for_url(settings_url(world, int(hub)))


def dev_sign_in(page: Page, world: World, hub: int = HUB) -> None:
    """The link `make run` prints (development only)."""
    page.goto(f"{world.app}/dev/sign-in/{hub}")
    page.wait_for_url(settings_url(world, hub))


def open_tab(page: Page, label: str) -> None:
    """Click a tab of the settings page's navigation and wait until it is the current one."""
    nav = page.get_by_role("navigation", name="Settings sections")
    nav.get_by_role("link", name=label, exact=True).click()
    expect(nav.locator("[aria-current=page]")).to_have_text(label)


def deal_page_url(world: World, deal: str, hub: int = HUB) -> str:
    """The HubSpot sandbox's view of a deal (sandbox/hubspot/ui.py)."""
    return f"{world.hubspot}/_sandbox/ui/portals/{hub}/deals/{deal}"


def move_deal(page: Page, world: World, deal: str, stage: str = "Closed won", hub: int = HUB):
    """Move the deal to the stage (its label) on the sandbox's deal page, as a salesperson does
    on the board; HubSpot then sends the stage-change webhook to the app."""
    page.goto(deal_page_url(world, deal, hub))
    page.get_by_label("Move to").select_option(label=stage)
    page.get_by_role("button", name="Move deal").click()
    expect(page.locator("#stage")).to_have_text(stage)


def wait_for_note(
    page: Page, world: World, deal: str, text: str, hub: int = HUB, timeout: float = 60
) -> None:
    """Reload the sandbox's deal page until a note on the deal shows `text` (a run's outcome:
    the worker writes the note once the run ends)."""
    _reload_until(page, world, deal, "#notes", text, hub, timeout, "note")


def wait_for_properties(
    page: Page, world: World, deal: str, text: str, hub: int = HUB, timeout: float = 30
) -> None:
    """Reload the sandbox's deal page until the deal's Fortnox properties show `text`: they land
    a moment after the note (a portal's runs' properties are batched, sync/deliveries)."""
    _reload_until(page, world, deal, "#fortnox-properties", text, hub, timeout, "property")


def _reload_until(
    page: Page,
    world: World,
    deal: str,
    selector: str,
    text: str,
    hub: int,
    timeout: float,
    what: str,
) -> None:
    deadline = time.monotonic() + timeout
    url = deal_page_url(world, deal, hub)
    while True:
        page.goto(url)
        found = page.locator(selector)
        if found.count() and text in found.first.inner_text():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} with {text!r} on deal {deal} after {timeout:.0f} s")
        page.wait_for_timeout(500)
