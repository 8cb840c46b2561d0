"""The Bulk sync and Products tabs in a real browser (issue 15): an admin counts the companies
with a deal in the added pipeline, confirms, watches the progress and finds every one in
Fortnox; then turns product sync on and sees a product created in HubSpot become its article.
Photographed under tests/browser/screenshots/bulk-*.png and products-*.png."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from sync.models import Run
from tests.browser.steps import dev_sign_in, open_tab, shot
from tests.sync.test_product_sync_e2e import price_in_list
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

COMPANIES = 6


def test_bulk_sync_of_companies_then_product_sync_on(page, live_world, celery_worker_process):
    portal = portal_ready(live_world)
    names = [f"Kund {n} AB" for n in range(COMPANIES)]
    for name in names:
        company = portal.create("companies", {"name": name})
        portal.deal([], company=company, name=f"Deal of {name}")
    prospect = portal.create("companies", {"name": "Prospekt utan affär AB"})

    dev_sign_in(page, live_world, portal.hub)
    open_tab(page, "Bulk sync")
    shot(page, "bulk-01-choose")
    companies = page.locator("#bulk-companies")
    companies.get_by_role("button", name="Count").click()
    count = page.locator("#bulk-companies-count")
    # The sandbox's own demo companies with deals in the pipeline are in scope too: read the
    # number the page shows, then check every one of ours is in it and the prospect is not.
    expect(count).to_contain_text("companies will be synced", timeout=30_000)
    shot(page, "bulk-02-counted")
    shown = int(count.inner_text().split()[0])
    assert shown >= COMPANIES

    page.locator("#bulk-companies-confirm").click()
    progress = page.locator("#bulk-companies-progress")
    expect(progress).to_be_visible()
    shot(page, "bulk-03-running")
    expect(progress.locator("[data-field=total]")).to_have_text(str(shown))
    expect(page.locator("#bulk-companies-current [data-field=status_label]")).to_have_text(
        "Done", timeout=90_000
    )
    shot(page, "bulk-04-done")
    figures = {
        key: int(progress.locator(f"[data-field={key}]").inner_text())
        for key in ("synced", "in_step", "failed")
    }
    assert figures["failed"] == 0, page.locator("#bulk-companies-failures").inner_text()
    assert figures["synced"] + figures["in_step"] == shown

    customers = {c.get("Name") for c in portal.fortnox_records("customers")}
    assert set(names) <= customers
    assert "Prospekt utan affär AB" not in customers
    assert not Run.objects.filter(subject_id=prospect).exists()

    open_tab(page, "Products")
    page.get_by_label("Sync products to Fortnox articles").check()
    shot(page, "products-01-sync-on")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Sync products to Fortnox articles")).to_be_checked()
    shot(page, "products-02-saved")

    product = portal.create(
        "products",
        {"name": "Montering", "hs_sku": "MONT-1", "price": "850", "hs_product_type": "service"},
    )
    deadline = time.monotonic() + 60
    while not Run.objects.filter(subject_id=product).exists():
        assert time.monotonic() < deadline, "the product's change started no sync"
        time.sleep(0.3)
    [run] = wait_for_runs(product)
    assert run.status == "succeeded", run.error_message
    article = portal.fortnox_record("articles", "MONT-1")
    assert (article["Description"], article["Type"]) == ("Montering", "SERVICE")
    assert price_in_list(portal, "A", "MONT-1") == 850

    open_tab(page, "Runs")
    expect(page.locator("#runs tbody tr").filter(has_text="Product sync")).to_contain_text("MONT-1")
    shot(page, "products-03-runs")
