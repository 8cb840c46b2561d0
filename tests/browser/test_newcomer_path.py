"""A new admin's first minutes, in a real browser: install on a fresh portal through HubSpot's
consent page, see the settings page, connect Fortnox through its consent page; and the
development sign-in link `make run` prints."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from sandbox.driver import FORTNOX_COMPANY, HUB, browser_install
from tests.browser.steps import (
    connect_fortnox_through_consent,
    dev_sign_in,
    fresh_portal,
    install_through_consent,
    settings_url,
    shot,
)


def test_install_on_a_fresh_portal_then_connect_fortnox(page, live_world):
    hub = fresh_portal(live_world, "Nyinstallerat AB")
    company = live_world.fortnox_admin("GET", f"/_sandbox/companies/{FORTNOX_COMPANY}")

    install_through_consent(page, live_world, "Nyinstallerat AB", hub)

    nav = page.get_by_role("navigation", name="Settings sections")
    expect(nav.locator("[aria-current=page]")).to_have_text("Overview")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Settings for HubSpot portal {hub}")
    expect(page.locator("#fortnox")).to_contain_text("No Fortnox company is connected")
    shot(page, "newcomer-01-installed")

    connect_fortnox_through_consent(
        page, live_world, before_consent=lambda consent: shot(consent, "newcomer-02-fortnox-consent")
    )

    fortnox = page.locator("#fortnox")
    expect(fortnox).to_contain_text(company["name"])
    expect(fortnox).to_contain_text(company["organisation_number"])
    expect(fortnox.get_by_role("button", name="Disconnect Fortnox")).to_be_visible()
    shot(page, "newcomer-03-fortnox-connected")


def test_the_dev_sign_in_link_opens_the_settings_page_signed_in(page, live_world):
    with requests.Session() as someone_else:
        assert browser_install(live_world, someone_else).status_code == 200
    # This browser has never signed in: the page sends it to HubSpot.
    page.goto(settings_url(live_world, HUB))
    assert page.url.startswith(f"{live_world.hubspot}/oauth/authorize")

    dev_sign_in(page, live_world, HUB)

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Settings for HubSpot portal {HUB}")
    expect(page.locator(".settings-head")).to_contain_text("admin@sandbox.example")
    shot(page, "newcomer-04-dev-sign-in")
