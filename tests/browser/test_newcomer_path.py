"""A new admin's first minutes, in a real browser: install on a fresh portal through HubSpot's
consent page, see the settings page, connect Fortnox through its consent page; and the
development sign-in link `make run` prints."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from sandbox.driver import FORTNOX_COMPANY, HUB, browser_install
from tests.browser.steps import (
    connect_fortnox_through_consent,
    dev_sign_in,
    fresh_portal,
    install_through_consent,
    move_deal,
    settings_url,
    shot,
    wait_for_note,
    wait_for_properties,
)
from tests.sync.test_runs_e2e import portal_ready


def test_install_on_a_fresh_portal_then_connect_fortnox(page, live_world):
    hub = fresh_portal(live_world, "Nyinstallerat AB")
    company = live_world.fortnox_admin("GET", f"/_sandbox/companies/{FORTNOX_COMPANY}")

    install_through_consent(page, live_world, hub)

    nav = page.get_by_role("navigation", name="Settings sections")
    expect(nav.locator("[aria-current=page]")).to_have_text("Overview")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Settings for HubSpot portal {hub}")
    expect(page.locator("#fortnox")).to_contain_text("No Fortnox company is connected")
    shot(page, "newcomer-01-installed")

    connect_fortnox_through_consent(
        page, live_world, before_consent=lambda consent: shot(consent, "newcomer-02-consent")
    )

    fortnox = page.locator("#fortnox")
    expect(fortnox).to_contain_text(company["name"])
    expect(fortnox).to_contain_text(company["organisation_number"])
    expect(fortnox.get_by_role("link", name="Disconnect Fortnox")).to_be_visible()
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


def test_the_demo_deal_moved_in_the_hubspot_sandbox_shows_its_invoice(
    page, live_world, celery_worker_process
):
    """`make run`'s demo: move the deal on the sandbox's deal page, read the note there, open
    its PDF, then the invoice on the Fortnox sandbox's page."""
    portal = portal_ready(live_world)
    customer = portal.create("companies", {"name": "Demo Kund AB"})
    deal = portal.deal(
        [
            {"name": "Article one", "quantity": "2", "price": "100", "hs_sku": "1"},
            {"name": "Article one, again", "quantity": "5", "price": "20", "hs_sku": "1"},
        ],
        company=customer,
        name="Demo: two line items",
    )

    move_deal(page, live_world, deal, "Closed Won")
    wait_for_note(page, live_world, deal, "created")

    note = page.locator("#notes .note")
    expect(note).to_have_count(1)
    expect(note.locator("strong").first).to_have_text(re.compile(r"^Fortnox invoice \d+ created$"))
    number = re.search(r"invoice (\d+)", note.locator("strong").first.inner_text()).group(1)
    wait_for_properties(page, live_world, deal, number)  # they land a moment after the note
    note = page.locator("#notes .note")
    expect(note).to_have_count(1)
    shot(page, "newcomer-05-deal-with-note")
    with page.context.expect_page() as opened:
        note.locator(".attachments a").first.click()
    pdf = opened.value
    assert pdf.url.startswith(f"{live_world.hubspot}/_sandbox/files/")
    pdf.close()

    company = live_world.fortnox_admin("GET", f"/_sandbox/companies/{FORTNOX_COMPANY}")
    page.goto(f"{live_world.fortnox}/_sandbox/ui/{company['database_number']}/invoice/{number}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Faktura {number}")
    expect(page.locator("#customer")).to_contain_text("Demo Kund AB")
    expect(page.locator("#rows tbody tr")).to_have_count(2)
    expect(page.locator("#total")).to_have_text("375,00")  # (2 × 100 + 5 × 20) + 25 % VAT
    shot(page, "newcomer-06-fortnox-invoice")
