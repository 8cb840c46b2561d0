"""The Runs tab lists customer and product syncs with the deal runs (issue 15): what each sync did
in words, its trigger (workflow action, Replay, record change, bulk sync), status, error and fix,
and a link to the contact, company or product in HubSpot; a filter by kind; a sync's detail page
and Replay from there. Read over HTTP as the admin's browser gets the page, in English and
Swedish."""

from __future__ import annotations

import re

import pytest
import requests

from integrations.models import HubSpotInstallation
from sync.models import Run
from tests.flows import csrf_token, visible_text
from tests.sync.test_customer_sync_e2e import asked_runs
from tests.sync.test_customer_workflow_e2e import workflow_start, workflow_sync
from tests.sync.test_runs_e2e import portal_ready

pytestmark = pytest.mark.django_db(transaction=True)

UI_DOMAIN = "app-eu1.hubspot.com"  # what the HubSpot sandbox's account details answer


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


def record_url(hub: int, type_id: str, object_id: str) -> str:
    return f"https://{UI_DOMAIN}/contacts/{hub}/record/{type_id}/{object_id}"


def row_text(page: str, run: Run) -> str:
    match = re.search(rf'<tr id="run-{run.pk}">(.*?)</tr>', page, flags=re.S)
    assert match, f"no row for run {run.pk}"
    return visible_text(match.group(1))


def hrefs(page: str) -> set[str]:
    return {h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', page)}


def other_runs(installation: HubSpotInstallation) -> dict[str, Run]:
    """Runs other features start (product sync on a HubSpot change, a bulk sync of companies, a
    deal's invoice), as they end up in the database."""
    return {
        "product": Run.objects.create(
            installation=installation,
            subject_type="products",
            subject_id="7001",
            kind="product_sync",
            trigger="change",
            trigger_key="change:7001:1",
            status="succeeded",
            data_read={
                "record": {"name": "Skruv M8"},
                "outcome": {
                    "articles": [{"number": "SKRUV-M8", "name": "Skruv M8", "action": "created"}]
                },
            },
        ),
        "bulk": Run.objects.create(
            installation=installation,
            subject_type="companies",
            subject_id="7002",
            kind="customer_sync",
            trigger="bulk",
            trigger_key="bulk:1",
            status="succeeded",
            fortnox_customer_number="99",
            data_read={
                "record": {"name": "Bulkbolaget AB"},
                "outcome": {
                    "action": "unchanged",
                    "customer_number": "99",
                    "customer_name": "Bulkbolaget AB",
                    "matched_by": "mapping",
                    "updated_fields": [],
                },
            },
        ),
        "invoice": Run.objects.create(
            installation=installation,
            subject_id="7003",
            kind="invoice",
            trigger="stage",
            trigger_key="stage:default:closedwon",
            status="failed",
            data_read={"deal": {"dealname": "Licensaffären"}},
            error_message="Fortnox cannot find the article.",
        ),
    }


def test_customer_and_product_syncs_are_listed_with_the_deal_runs(
    world, celery_worker_process, browser
):
    portal = portal_ready(world, browser=browser)
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    company = portal.create(
        "companies", {"name": "Verkstad AB", "fortnox_organisation_number": "559900-2211"}
    )
    done, synced = workflow_sync(portal, "COMPANY", company)
    number = done["output_fields"]["fortnox_customer_number"]
    contact = portal.create(
        "contacts", {"firstname": "Sven", "lastname": "Ek", "country": "Atlantis"}
    )
    workflow_start(portal, "CONTACT", contact)
    [failed] = asked_runs(contact)
    others = other_runs(installation)
    runs_url = f"{world.app}/settings/{portal.hub}/runs/"

    page = browser.get(runs_url, timeout=10)

    assert page.status_code == 200
    assert row_text(page.text, synced).endswith(
        f"Succeeded Workflow action Company Verkstad AB Customer sync → customer {number}, created"
    )
    failed_row = row_text(page.text, failed)
    assert "Failed Workflow action Contact Sven Ek Customer sync" in failed_row
    assert "The country 'Atlantis' of the contact" in failed_row and "Fix:" in failed_row
    assert "Succeeded Record change Product Skruv M8 Product sync → article SKRUV-M8" in row_text(
        page.text, others["product"]
    )
    assert (
        "Succeeded Bulk sync Company Bulkbolaget AB Customer sync → customer 99, already in "
        "step: nothing sent to Fortnox"
    ) in row_text(page.text, others["bulk"])
    assert "Failed Deal stage Licensaffären Invoice" in row_text(page.text, others["invoice"])
    links = hrefs(page.text)
    assert record_url(portal.hub, "0-2", company) in links
    assert record_url(portal.hub, "0-1", contact) in links
    assert record_url(portal.hub, "0-7", "7001") in links
    assert record_url(portal.hub, "0-3", "7003") in links

    # The detail of a customer sync: what it did, its record, its Fortnox calls.
    detail = browser.get(f"{runs_url}{synced.pk}/", timeout=10)
    detail_text = visible_text(detail.text)
    assert f"In Fortnox Customer sync → customer {number}, created" in detail_text
    assert "Company Verkstad AB" in detail_text
    assert "fortnox POST /3/customers" in detail_text
    assert "Checked against the deal" not in detail_text and "Document" not in detail_text
    assert record_url(portal.hub, "0-2", company) in hrefs(detail.text)

    # The failed contact sync, fixed in HubSpot, replayed from its detail page.
    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/contacts/{contact}",
        json={"properties": {"country": "Sweden"}},
    )
    failed_detail = browser.get(f"{runs_url}{failed.pk}/", timeout=10)
    assert (
        "Replay reads the contact again as it is now and creates its Fortnox customer"
        in visible_text(failed_detail.text)
    )
    replayed = browser.post(
        f"{runs_url}{failed.pk}/replay",
        data={"csrfmiddlewaretoken": csrf_token(failed_detail.text)},
        timeout=10,
    )
    _, new = asked_runs(contact, 2)
    assert f"Replay started (run {new.pk}): it reads the contact again" in visible_text(
        replayed.text
    )
    assert new.status == "succeeded", new.error_message
    later = browser.get(runs_url, timeout=10).text
    assert (
        f"Succeeded Replay Contact Sven Ek Customer sync → customer "
        f"{new.fortnox_customer_number}, created"
    ) in row_text(later, new)


def test_runs_are_filtered_by_kind_and_shown_in_swedish(world, celery_worker_process, browser):
    portal = portal_ready(world, browser=browser)
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    others = other_runs(installation)
    for n in range(26):
        Run.objects.create(
            installation=installation,
            subject_type="contacts",
            subject_id=str(8000 + n),
            kind="customer_sync",
            trigger="workflow",
            trigger_key=f"workflow:{n}",
            status="failed",
            data_read={"record": {"firstname": "Kund", "lastname": f"Nummer {n}"}},
            error_message="Fortnox is not connected to this HubSpot portal.",
        )
    runs_url = f"{world.app}/settings/{portal.hub}/runs/"

    customers = browser.get(runs_url, params={"kind": "customer_sync"}, timeout=10).text
    products = browser.get(runs_url, params={"kind": "product_sync"}, timeout=10).text
    failed_products = browser.get(
        runs_url, params={"kind": "product_sync", "status": "failed"}, timeout=10
    ).text
    unknown = browser.get(runs_url, params={"kind": "everything"}, timeout=10).text

    assert "Kund Nummer 25" in customers and "Skruv M8" not in customers
    assert "Licensaffären" not in customers
    assert "?kind=customer_sync&page=2" in hrefs(customers)
    second = browser.get(runs_url, params={"kind": "customer_sync", "page": 2}, timeout=10).text
    assert "Bulkbolaget AB" in second and "Skruv M8" not in second
    assert "Skruv M8" in products and "Kund Nummer" not in products
    assert "Bulkbolaget AB" not in products and "Licensaffären" not in products
    assert "No runs match these filters." in visible_text(failed_products)
    assert '<option value="customer_sync" selected>' in customers
    # An unknown kind filters nothing: all 29 runs, two pages, links without a kind.
    assert "Page 1 of 2" in visible_text(unknown) and "?page=2" in hrefs(unknown)

    browser.cookies.set("django_language", "sv")
    swedish = browser.get(runs_url, params={"page": 2}, timeout=10).text

    text = visible_text(swedish)
    assert "Post i HubSpot" in text and "Typ" in text and "Kundsynk" in text
    assert (
        "Klar Massynk Företag Bulkbolaget AB Kundsynk → kund 99, stämmer redan: inget "
        "skickat till Fortnox" in row_text(swedish, others["bulk"])
    )
    assert "Ändring i posten Produkt Skruv M8 Produktsynk → artikel SKRUV-M8" in row_text(
        swedish, others["product"]
    )
