"""Bulk sync from the settings page (issue 15): a scoped "Sync companies now" counted first,
confirmed, paged through HubSpot and synced one run per company, with deal runs going first;
an interrupted sync resumed; a second sync of records in step. Through the live service, a
real worker and both sandboxes over HTTP; what is asserted is what a user sees: the page, the
Fortnox customer register, the HubSpot records, the requests Fortnox received."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from sync.bulk import STALE, bulk_sync_advance, bulk_syncs_sweep
from sync.models import BulkSync, Run
from tests.flows import HUB, Portal, visible_text
from tests.portals.settings_helpers import open_page, post_form
from tests.sync.test_runs_e2e import SHARED_TOOLS, portal_ready, requests_audited, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

BULK = "bulk/"


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


@pytest.fixture
def portal(world, celery_worker_process, browser) -> Portal:
    """Installed and connected by an admin whose browser stays signed in to the settings page;
    the default pipeline (Sales Pipeline) added to the sync."""
    return portal_ready(world, browser=browser)


def companies(portal: Portal, count: int, prefix: str, pipeline: str | None = None) -> list[str]:
    """`count` companies, each with a deal in `pipeline` (None: no deal)."""
    ids = []
    for i in range(count):
        company = portal.create("companies", {"name": f"{prefix} {i:03d} AB"})
        if pipeline:
            stage = "appointmentscheduled" if pipeline == "default" else "9100002"
            portal.create(
                "deals",
                {"dealname": f"{prefix} {i:03d}", "pipeline": pipeline, "dealstage": stage},
                associations=[("companies", company)],
            )
        ids.append(company)
    return ids


def seeded_in_scope(world) -> set[str]:
    """The sandbox portal's own demo companies with a deal in the Sales Pipeline: in scope too."""
    deals = world.hubspot_admin("GET", f"/_sandbox/portals/{HUB}/objects/deals")
    return {
        company
        for deal in deals
        if deal["properties"].get("pipeline") == "default"
        for company in deal["associations"].get("companies", [])
    }


def count_on_page(world, browser, data: dict, expect: str) -> requests.Response:
    """The admin picks the scope and presses Count; the page shows the count once made."""
    page = open_page(world, browser, BULK)
    assert page.status_code == 200
    answer = post_form(
        world, browser, page, f"/settings/{HUB}/bulk/count/", {"object_type": "companies", **data}
    )
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = open_page(world, browser, BULK)
        if expect in visible_text(page.text):
            return page
        time.sleep(0.3)
    raise AssertionError(f"the page never said {expect!r}: {visible_text(page.text)[:2000]}")


def confirm_on_page(world, browser, page: requests.Response, label: str) -> None:
    """The admin presses "Sync N companies now"."""
    assert label in visible_text(page.text)
    action = re.search(r'action="([^"]*/confirm/)"', page.text).group(1)
    answer = post_form(world, browser, page, action, {})
    assert answer.status_code == 200
    assert "The bulk sync has started." in visible_text(answer.text)


def wait_for_bulk(bulk_id: int, timeout: float) -> BulkSync:
    """Until every run of the sync has finished (and its paging is done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bulk = BulkSync.objects.get(pk=bulk_id)
        live = Run.objects.filter(
            trigger_key=bulk.trigger_key, status__in=[Run.Status.QUEUED, Run.Status.RUNNING]
        )
        if bulk.cursor.get("done") and not live.exists():
            return bulk
        time.sleep(0.5)
    bulk = BulkSync.objects.get(pk=bulk_id)
    statuses = Counter(
        Run.objects.filter(trigger_key=bulk.trigger_key).values_list("status", flat=True)
    )
    raise AssertionError(f"bulk sync {bulk_id} did not finish: {bulk.cursor} {dict(statuses)}")


def customer_names(portal: Portal) -> Counter:
    return Counter(c["Name"] for c in portal.fortnox_records("customers"))


def runs_per_company(bulk: BulkSync) -> Counter:
    return Counter(
        Run.objects.filter(trigger_key=bulk.trigger_key).values_list("subject_id", flat=True)
    )


def test_a_scoped_bulk_sync_of_200_companies_counts_first_and_a_closed_deal_goes_first(
    world, portal, browser
):
    in_scope = companies(portal, 200, "Bulk", pipeline="default")
    no_deal = companies(portal, 10, "Prospect")
    other_pipeline = companies(portal, 5, "Renewal", pipeline="9100001")
    seeded = seeded_in_scope(world) - set(in_scope)
    total = 200 + len(seeded)

    page = count_on_page(
        world, browser, {"scope": "pipeline_deals"}, f"{total} companies will be synced."
    )
    assert Run.objects.filter(trigger=Run.Trigger.BULK).count() == 0  # nothing before the confirm
    confirm_on_page(world, browser, page, f"Sync {total} companies now")
    bulk = BulkSync.objects.get(installation__hub_id=HUB, status=BulkSync.Status.RUNNING)

    # Progress on the page while it runs (the page polls progress.json).
    deadline = time.monotonic() + 60
    while not BulkSync.objects.get(pk=bulk.pk).cursor.get("done"):
        assert time.monotonic() < deadline, "the paging did not finish"
        time.sleep(0.2)
    running = visible_text(open_page(world, browser, BULK).text)
    assert "Running" in running and f"Queued {total}" in running, running
    assert "Sent to Fortnox" in running and "This page refreshes by itself" in running
    progress = browser.get(
        f"{world.app}/settings/{HUB}/bulk/{bulk.pk}/progress.json", timeout=10
    ).json()
    assert progress["status"] == "running" and progress["queued"] == total
    assert progress["waiting"] > 0, "the sync should still be under way"

    # A deal closed during the import finishes within a minute: deal runs go first.
    buyer = portal.create("companies", {"name": "Brådskande AB"})
    assert (
        portal.fortnox_api(
            "POST", "articles", json={"Article": {"ArticleNumber": "RUSH", "Description": "Rush"}}
        ).status_code
        == 201
    )
    deal = portal.deal(
        [
            {
                "name": "Rush",
                "quantity": "1",
                "price": "100",
                "product": {"name": "Rush", "hs_sku": "RUSH"},
            }
        ],
        company=buyer,
    )
    closed_at = time.monotonic()
    portal.move(deal)
    [run] = wait_for_runs(deal, timeout=60)
    took = time.monotonic() - closed_at
    assert run.status == "succeeded", run.error_message
    assert took < 60, f"the deal waited {took:.0f} s"
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert invoice["CustomerName"] == "Brådskande AB"
    still = browser.get(f"{world.app}/settings/{HUB}/bulk/{bulk.pk}/progress.json", timeout=10)
    assert still.json()["waiting"] > 0, "the deal should have finished while the import ran"

    bulk = wait_for_bulk(bulk.pk, timeout=240)
    names = customer_names(portal)
    assert all(names[f"Bulk {i:03d} AB"] == 1 for i in range(200)), names
    assert not [n for n in names if n.startswith(("Prospect", "Renewal"))]
    assert names["Brådskande AB"] == 1
    assert set(runs_per_company(bulk)) == set(in_scope) | seeded
    assert set(runs_per_company(bulk).values()) == {1}
    numbers = {
        portal.record("companies", c)["properties"].get("fortnox_customer_number") for c in in_scope
    }
    assert "" not in numbers and None not in numbers and len(numbers) == 200
    for company in no_deal + other_pipeline:
        assert not portal.record("companies", company)["properties"].get("fortnox_customer_number")
    assert all(not portal.notes(c, object_type="companies") for c in in_scope[:5])  # no notes

    done = visible_text(open_page(world, browser, BULK).text)
    assert f"Sent to Fortnox {total}" in done and "Failed 0" in done, done
    customers_before = len(portal.fortnox_records("customers"))

    # A second bulk sync right after (Brådskande AB's deal is in the pipeline too now): every
    # company is in step, Fortnox gets no call at all.
    total += 1
    world.fortnox_admin("DELETE", "/_sandbox/requests")
    page = count_on_page(
        world, browser, {"scope": "pipeline_deals"}, f"{total} companies will be synced."
    )
    confirm_on_page(world, browser, page, f"Sync {total} companies now")
    second = BulkSync.objects.get(installation__hub_id=HUB, status=BulkSync.Status.RUNNING)
    second = wait_for_bulk(second.pk, timeout=180)
    assert world.fortnox_admin("GET", "/_sandbox/requests?path_prefix=/3/") == []
    assert set(runs_per_company(second).values()) == {1}
    assert len(runs_per_company(second)) == total
    again = visible_text(open_page(world, browser, BULK).text)
    assert f"Already in step (nothing sent) {total}" in again, again
    assert len(portal.fortnox_records("customers")) == customers_before


def test_an_interrupted_bulk_sync_resumes_and_syncs_every_company_once(
    world, portal, browser, tmp_path
):
    members = companies(portal, 60, "Lista")
    outside = companies(portal, 5, "Utanför")
    hubspot_list = world.hubspot_admin(
        "POST",
        f"/_sandbox/portals/{HUB}/lists",
        json={"name": "Kunder att föra över", "object_type": "companies", "record_ids": members},
    )
    page = count_on_page(
        world,
        browser,
        {"scope": "list", "list_id": hubspot_list["listId"]},
        "60 companies will be synced.",
    )
    assert "Kunder att föra över" in visible_text(page.text)

    # HubSpot's lists stop answering as the sync starts: the worker's paging stops, nothing is
    # queued, and the sync waits for the sweep.
    memberships = f"/crm/v3/lists/{hubspot_list['listId']}/memberships"
    world.hubspot_admin(
        "POST",
        "/_sandbox/faults/outage",
        json={"seconds": 600, "status": 503, "path_prefix": memberships},
    )
    confirm_on_page(world, browser, page, "Sync 60 companies now")
    bulk = BulkSync.objects.get(installation__hub_id=HUB, status=BulkSync.Status.RUNNING)
    deadline = time.monotonic() + 60
    while not BulkSync.objects.get(pk=bulk.pk).error:
        assert time.monotonic() < deadline, "the paging never met the outage"
        time.sleep(0.3)
    world.hubspot_admin("DELETE", "/_sandbox/faults")
    assert BulkSync.objects.get(pk=bulk.pk).queued == 0

    # A worker that paged two pages of 20, then died (its task never sent itself again).
    assert bulk_sync_advance(bulk.pk, page_size=20, max_pages=2) == "more"
    bulk.refresh_from_db()
    assert bulk.queued == 40 and not bulk.cursor["done"]

    # Beat: the heartbeat is stale, the sweep sends the task again; the real worker resumes.
    assert bulk_syncs_sweep(timezone.now() + STALE + timedelta(seconds=1))["resumed"] == 1
    bulk = wait_for_bulk(bulk.pk, timeout=180)
    assert bulk.queued == 60

    # A stale worker replaying the first pages after the resume creates nothing twice (the
    # sync is done by then; as if it were still running, for the replay to page at all).
    cursor = dict(bulk.cursor)
    BulkSync.objects.filter(pk=bulk.pk).update(
        cursor={**cursor, "position": {}, "done": False}, status=BulkSync.Status.RUNNING
    )
    assert bulk_sync_advance(bulk.pk, page_size=20) == "done"
    bulk.refresh_from_db()
    assert bulk.queued == 60

    per_company = runs_per_company(bulk)
    assert set(per_company) == set(members) and set(per_company.values()) == {1}
    names = customer_names(portal)
    assert all(names[f"Lista {i:03d} AB"] == 1 for i in range(60)), names
    assert not [n for n in names if n.startswith("Utanför")]
    for company in outside:
        assert not portal.record("companies", company)["properties"].get("fortnox_customer_number")
    if SHARED_TOOLS.is_dir():  # the lists, search and batch calls conform to HubSpot's SDK
        requests_audited(portal, tmp_path)


def test_sync_products_now_makes_each_product_an_article_and_lists_what_failed(
    world, portal, browser
):
    for i in range(8):
        portal.create(
            "products", {"name": f"Massvara {i}", "hs_sku": f"BULK-{i}", "price": f"{100 + i}"}
        )
    products = world.hubspot_admin("GET", f"/_sandbox/portals/{HUB}/objects/products")
    without_sku = [p for p in products if not p["properties"].get("hs_sku")]
    page = open_page(world, browser, BULK)
    answer = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/bulk/count/",
        {"object_type": "products", "scope": "all"},
    )
    assert answer.status_code == 200
    expect = f"{len(products)} products will be synced."
    deadline = time.monotonic() + 60
    while expect not in visible_text(page.text):
        assert time.monotonic() < deadline, visible_text(page.text)
        time.sleep(0.3)
        page = open_page(world, browser, BULK)
    confirm_on_page(world, browser, page, f"Sync {len(products)} products now")
    bulk = BulkSync.objects.get(installation__hub_id=HUB, object_type="products")
    bulk = wait_for_bulk(bulk.pk, timeout=120)

    articles = {a["ArticleNumber"]: a for a in portal.fortnox_records("articles")}
    for i in range(8):
        assert articles[f"BULK-{i}"]["Description"] == f"Massvara {i}"
    assert set(runs_per_company(bulk).values()) == {1} and len(runs_per_company(bulk)) == len(
        products
    )
    done = visible_text(open_page(world, browser, BULK).text)
    section = done[done.index("Products Latest bulk sync") :]
    # The demo products without a SKU are skipped, each listed with the reason, linked.
    assert f"Skipped (see why below) {len(without_sku)}" in section, section
    assert "Failed 0" in section
    html = open_page(world, browser, BULK).text
    for product in without_sku:
        [run] = Run.objects.filter(trigger_key=bulk.trigger_key, subject_id=product["id"])
        reason = run.data_read["outcome"]["articles"][0]["reason"]
        assert reason and reason in section
        assert f"/settings/{HUB}/runs/{run.pk}/" in html
    listed = re.search(r'id="bulk-products-failures".*?</table>', html, re.S).group(0)
    assert len(re.findall(r"<tr><td><a href=", listed)) == len(without_sku)  # only those
