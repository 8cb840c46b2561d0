"""Customer syncs on the Runs tab, in a real browser (issue 15): a company synced and a contact that
failed through the "Sync to Fortnox customer" workflow action, the tab filtered to customer
syncs, the failed sync's page with its fix and Replay. Photographed under
tests/browser/screenshots/runs-*.png."""

from __future__ import annotations

from playwright.sync_api import expect

from sync.models import Run
from tests.browser.steps import dev_sign_in, open_tab, shot
from tests.sync.test_customer_sync_e2e import asked_runs
from tests.sync.test_customer_workflow_e2e import workflow_start, workflow_sync
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs


def test_customer_syncs_on_the_runs_tab(page, live_world, celery_worker_process):
    portal = portal_ready(live_world)
    company = portal.create(
        "companies", {"name": "Verkstad AB", "fortnox_organisation_number": "559900-2211"}
    )
    done, _ = workflow_sync(portal, "COMPANY", company)
    number = done["output_fields"]["fortnox_customer_number"]
    contact = portal.create(
        "contacts", {"firstname": "Sven", "lastname": "Ek", "country": "Atlantis"}
    )
    workflow_start(portal, "CONTACT", contact)
    [failed] = asked_runs(contact)
    deal = portal.deal([{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}])
    portal.move(deal)
    wait_for_runs(deal)
    # Once the company is a Fortnox customer, HubSpot's late change events of its creation may
    # start change syncs (sync/webhooks.py): they are runs of the tab too.
    wait_for_runs(company, count=Run.objects.filter(subject_id=company).count())
    customer_syncs = Run.objects.filter(kind="customer_sync").count()

    dev_sign_in(page, live_world, portal.hub)
    open_tab(page, "Runs")
    rows = page.locator("#runs tbody tr")
    expect(rows).to_have_count(customer_syncs + 1)
    created = rows.filter(has_text="Verkstad AB").filter(has_text="Workflow action")
    expect(created).to_contain_text(f"Customer sync → customer {number}, created")
    expect(rows.filter(has_text="Sven Ek")).to_contain_text("The country 'Atlantis'")
    shot(page, "runs-01-all-kinds")

    page.get_by_label("Kind").select_option(label="Customer sync")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(customer_syncs)
    expect(rows.filter(has_text="Invoice")).to_have_count(0)
    shot(page, "runs-02-customer-syncs")

    rows.filter(has_text="Sven Ek").get_by_role("link", name=str(failed.pk)).click()
    expect(page.locator("#summary dd a").first).to_have_text("Sven Ek")
    expect(page.locator("#error")).to_contain_text("The country 'Atlantis'")
    expect(page.locator("#replay")).to_contain_text(
        "Replay reads the contact again as it is now and creates its Fortnox customer"
    )
    shot(page, "runs-03-failed-contact-sync")

    # On a phone (360 px) the runs table scrolls inside its section, the page itself does not.
    page.set_viewport_size({"width": 360, "height": 740})
    open_tab(page, "Runs")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "runs-04-phone")
