"""Issue 14's path, as a new admin walks it in a real browser: install on a fresh portal, follow
the checklist, connect Fortnox, add a pipeline, choose the products policy and a default article
from the list, save a mapping (a bad one refused), let every user press the app card's buttons,
dry run a deal, move it in HubSpot, see the run,
Replay a failed one, switch to Swedish, let a sales user look in read-only, read the history,
disconnect. Each page is photographed under tests/browser/screenshots/."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from sandbox.driver import FORTNOX_COMPANY, Portal, World
from tests.browser.steps import (
    connect_fortnox_through_consent,
    fresh_portal,
    install_through_consent,
    move_deal,
    open_tab,
    settings_url,
    shot,
)

SALES_USER_ID = 502  # the sandbox portal's sales rep: no super admin, no Marketplace Access


def sign_in_link(world: World, hub: int, user_id: int, locale: str = "en-us") -> str:
    """What the settings component does: a signed hubspot.fetch for a one-time link."""
    answer = world.hubspot_admin(
        "POST",
        "/_sandbox/card-fetch",
        json={
            "portal": hub,
            "user_id": user_id,
            "location": "settings",
            "method": "POST",
            "path": "/hubspot/sign-in-link",
            "body": {"locale": locale},
        },
    )
    assert answer["status"] == 200, answer
    return answer["body"]["url"]


def runs_row_settled(page: Page, deal_name: str, timeout_s: float = 60) -> object:
    """The newest row of the Runs tab for the deal, once its run has ended (reloading)."""
    deadline = time.monotonic() + timeout_s
    while True:
        row = page.locator("#runs tbody tr", has_text=deal_name).first
        if row.count() and re.search(r"Succeeded|Failed|Skipped", row.inner_text()):
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"no finished run of {deal_name!r} on the Runs tab")
        page.wait_for_timeout(500)
        page.reload()


def saved(page: Page) -> None:
    expect(page.locator("ul.messages")).to_contain_text("Saved")


def test_a_new_admin_sets_up_the_app_alone(page, live_world, chromium, celery_worker_process):
    world = live_world
    hub = fresh_portal(world, "Självbetjäning AB")
    portal = Portal(world, hub=hub, company=FORTNOX_COMPANY)
    articles = portal.fortnox_records("articles")
    assert articles, "the Fortnox sandbox company has articles to choose from"
    invoices_before = len(portal.fortnox_records("invoices"))

    # Install: the checklist says what is missing.
    install_through_consent(page, world, hub)
    setup = page.locator("#setup")
    expect(setup).to_contain_text("Set-up checklist")
    expect(page.locator("#step-fortnox")).to_have_class(re.compile("todo"))
    shot(page, "admin-01-checklist")

    connect_fortnox_through_consent(page, world)
    expect(page.locator("#step-fortnox")).to_have_class(re.compile("done"))
    expect(page.locator("#fortnox")).to_contain_text(
        world.fortnox_admin("GET", f"/_sandbox/companies/{FORTNOX_COMPANY}")["name"]
    )
    shot(page, "admin-02-connected")

    # Invoices & orders: the portal's own pipelines, by label; Closed won → invoice.
    open_tab(page, "Invoices & orders")
    pipeline = page.locator("section.pipeline", has_text="Sales Pipeline")
    pipeline.get_by_label("Closed Won", exact=True).check()
    pipeline.get_by_label("Invoice", exact=True).check()
    pipeline.get_by_role("button", name="Add pipeline").click()
    saved(page)
    expect(page.locator("section.pipeline", has_text="Sales Pipeline")).to_contain_text(
        "Creates a draft invoice when a deal enters: Closed Won"
    )
    shot(page, "admin-03-pipeline")

    # Products: the default article is picked from Fortnox's own list, never typed.
    open_tab(page, "Products")
    page.get_by_label("Use the default article, with the line item's name and price").check()
    default = articles[0]
    page.get_by_label("Search the company's articles").fill(default["ArticleNumber"])
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_label("Default article", exact=True).select_option(value=default["ArticleNumber"])
    page.get_by_label("Use the default article, with the line item's name and price").check()
    page.locator("#products-form").get_by_role("button", name="Save").click()
    saved(page)
    expect(page.get_by_label("Default article", exact=True)).to_have_value(default["ArticleNumber"])
    shot(page, "admin-04-products")

    # Field mappings: a mapping Fortnox would refuse is refused with its reason; a good one saves.
    open_tab(page, "Field mappings")
    form = page.locator("#mappings-form")
    form.locator("select[name='company__CountryCode']").select_option(value="createdate")
    form.get_by_role("button", name="Save").click()
    errors = page.locator("#mapping-errors")
    expect(errors).to_contain_text("CountryCode")
    shot(page, "admin-05-mapping-refused")
    form = page.locator("#mappings-form")
    form.locator("select[name='company__CountryCode']").select_option(value="country")
    form.locator("select[name='document__YourOrderNumber']").select_option(value="dealname")
    form.get_by_role("button", name="Save").click()
    saved(page)
    shot(page, "admin-06-mapping-saved")

    # General: who may use the app card's buttons, and what Create now offers first.
    open_tab(page, "General")
    general = page.locator("#general")
    expect(general).to_contain_text("HubSpot's way for apps to ask who may edit one record")
    expect(page.get_by_label("Super admins and the users allowed on the Users tab")).to_be_checked()
    page.get_by_label("Every user who can open the record in HubSpot").check()
    page.get_by_label("An order").check()
    general.get_by_role("button", name="Save").click()
    saved(page)
    expect(page.get_by_label("Every user who can open the record in HubSpot")).to_be_checked()
    expect(page.get_by_label("An order")).to_be_checked()
    shot(page, "admin-06a-general-app-cards")

    # The checklist is done.
    open_tab(page, "Overview")
    expect(page.locator("#setup")).to_have_count(0)

    # Dry run a deal: one known article, one the company does not have (the default article).
    customer = portal.create("companies", {"name": "Provkörning AB", "city": "Uppsala"})
    deal = portal.create(
        "deals",
        {
            "dealname": "Konsultuppdrag Uppsala",
            "pipeline": "default",
            "dealstage": "qualifiedtobuy",
        },
        [("companies", customer)],
    )
    known = default if len(articles) == 1 else articles[1]
    portal.create(
        "line_items",
        {"name": "Rådgivning", "quantity": "2", "price": "1500", "hs_sku": known["ArticleNumber"]},
        [("deals", deal)],
    )
    portal.create(
        "line_items",
        {"name": "Ny tjänst", "quantity": "1", "price": "500", "hs_sku": "NY-TJANST-1"},
        [("deals", deal)],
    )
    open_tab(page, "Dry run")
    page.get_by_label("Deal name").fill("Konsultuppdrag")
    page.locator("#dry-run-search").get_by_role("button", name="Search").click()
    page.locator("#deals").get_by_role("link", name="Konsultuppdrag Uppsala").click()
    expect(page.locator("#dry-run-title")).to_contain_text("Konsultuppdrag Uppsala")
    rows = page.locator("#rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(known["ArticleNumber"])
    expect(rows.nth(1)).to_contain_text(default["ArticleNumber"])
    expect(page.locator("#totals")).to_contain_text("3,500.00")  # HubSpot: 2 × 1,500 + 500
    expect(page.locator("#nothing-changed")).to_contain_text("Nothing was created or changed")
    shot(page, "admin-06b-dry-run")
    assert len(portal.fortnox_records("invoices")) == invoices_before

    # Move the deal in HubSpot: the run appears as succeeded, with its document number, and the
    # document in Fortnox equals what the dry run showed.
    move_deal(page, world, deal, "Closed Won", hub)
    page.goto(settings_url(world, hub))
    open_tab(page, "Runs")
    row = runs_row_settled(page, "Konsultuppdrag Uppsala")
    expect(row).to_contain_text("Succeeded")
    [invoice] = [
        i for i in portal.fortnox_records("invoices") if i["CustomerName"] == "Provkörning AB"
    ]
    expect(row).to_contain_text(f"Invoice {invoice['DocumentNumber']}")
    assert f"{invoice['Total']:,.2f}" == "4,375.00"  # as the dry run showed
    shot(page, "admin-06c-run-succeeded")

    # A failed run, fixed in HubSpot, Replayed from the page.
    broken = portal.create(
        "deals",
        {"dealname": "Saknad SKU", "pipeline": "default", "dealstage": "qualifiedtobuy"},
        [("companies", customer)],
    )
    line = portal.create(
        "line_items", {"name": "Rådgivning", "quantity": "1", "price": "900"}, [("deals", broken)]
    )
    move_deal(page, world, broken, "Closed Won", hub)
    page.goto(settings_url(world, hub))
    open_tab(page, "Runs")
    row = runs_row_settled(page, "Saknad SKU")
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("SKU")
    shot(page, "admin-06d-run-failed")
    world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{hub}/objects/line_items/{line}",
        json={"properties": {"hs_sku": known["ArticleNumber"]}},
    )
    row.get_by_role("link").first.click()
    page.get_by_role("button", name="Replay now").click()
    open_tab(page, "Runs")
    row = runs_row_settled(page, "Saknad SKU")
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("Invoice ")
    shot(page, "admin-06e-replayed")

    # Swedish, switched on the page.
    open_tab(page, "Overview")
    page.get_by_label("Language").select_option(value="sv")
    page.get_by_role("button", name="Switch").click()
    nav = page.get_by_role("navigation", name="Inställningar")
    expect(nav.locator("[aria-current=page]")).to_have_text("Översikt")
    shot(page, "admin-07-swedish")
    page.get_by_label("Språk").select_option(value="en")
    page.get_by_role("button", name="Byt").click()
    expect(page.get_by_role("navigation", name="Settings sections")).to_be_visible()

    # A sales user who may not install reaches the page through the settings component's link,
    # and only reads it.
    sales = page.context.browser.new_context(locale="en-GB").new_page()
    sales.goto(sign_in_link(world, hub, SALES_USER_ID))
    sales.wait_for_url(settings_url(world, hub))
    expect(sales.locator("#read-only")).to_contain_text(
        "You can see these settings but not change them."
    )
    sales.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name="Products", exact=True
    ).click()
    expect(sales.locator("#products-form").get_by_role("button", name="Save")).to_have_count(0)
    shot(sales, "admin-08-sales-read-only")
    sales.context.close()

    # On a phone (360 px): the runs table scrolls inside its section, the page itself does not.
    page.set_viewport_size({"width": 360, "height": 740})
    open_tab(page, "Runs")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "admin-08b-phone-runs")
    open_tab(page, "Products")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "admin-08c-phone-products")
    page.set_viewport_size({"width": 1280, "height": 900})

    # History: what was changed, by whom.
    open_tab(page, "History")
    history = page.locator("#history")
    expect(history).to_contain_text("default article number")
    expect(history).to_contain_text(default["ArticleNumber"])
    expect(history).to_contain_text("Sales Pipeline")
    expect(history).to_contain_text("Who may use the app card's buttons")
    shot(page, "admin-09-history")

    # Disconnect, after a confirmation that says what happens to history.
    open_tab(page, "Overview")
    page.locator("#fortnox").get_by_role("link", name="Disconnect Fortnox").click()
    shot(page, "admin-10-disconnect-confirm")
    page.get_by_role("button", name="Disconnect Fortnox").click()
    expect(page.locator("#fortnox")).to_contain_text("No Fortnox company is connected")
    shot(page, "admin-11-disconnected")
