"""The Overview tab as a new admin sees it: the set-up checklist, the deals that reached a won
stage of a pipeline not added, and the connection in words, against both sandboxes."""

from __future__ import annotations

import re

import pytest
import requests

from integrations.models import HubSpotInstallation
from sync.models import SyncSettings
from tests.flows import (
    FORTNOX_NO_ORDER_COMPANY,
    HUB,
    Portal,
    browser_connect_fortnox,
    csrf_token,
    visible_text,
    webhook_events_decided,
)
from tests.portals.settings_forms import form_submit
from tests.portals.settings_helpers import open_page, post_form, section_text, signed_in
from tests.sync.test_runs_e2e import wait_for_app_properties, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


def test_the_checklist_says_what_is_missing_links_to_it_and_goes_when_done(
    world, browser, celery_worker_process
):
    signed_in(world, browser)
    wait_for_app_properties(HubSpotInstallation.objects.get(hub_id=HUB))

    page = open_page(world, browser, "")
    checklist = section_text(page.text, "setup")
    assert "1 of 4 steps done" in checklist
    assert "Connect Fortnox To do No Fortnox company is connected" in checklist
    assert "Add a pipeline with a trigger stage To do No pipeline is added" in checklist
    assert "The Products settings have not been saved yet" in checklist
    assert "Create the app's properties in HubSpot ✓ Done" in checklist
    assert f'href="/settings/{HUB}/sync/"' in page.text  # the pipeline step's link

    browser_connect_fortnox(world, browser)
    sync_page = open_page(world, browser, "sync/")
    post_form(
        world,
        browser,
        sync_page,
        f"/settings/{HUB}/sync/pipelines/default/",
        {
            "pipeline-default-trigger_stage_ids": ["closedwon"],
            "pipeline-default-document_type": "invoice",
        },
    )
    page = open_page(world, browser, "")
    assert "3 of 4 steps done" in section_text(page.text, "setup")

    # Saving the Products tab as it is (SKU search, skip) is a choice made as well.
    saved = form_submit(browser, f"{world.app}/settings/{HUB}/products/", "products-form")
    assert "Saved." in visible_text(saved.text)
    history = visible_text(open_page(world, browser, "history/").text)
    assert "Products settings — saved unchanged" in history
    page = open_page(world, browser, "")
    assert 'id="setup"' not in page.text
    assert "Set-up checklist" not in visible_text(page.text)


def test_deals_that_reached_a_won_stage_of_a_pipeline_not_added_are_counted(
    world, browser, celery_worker_process
):
    signed_in(world, browser)
    portal = Portal(world)
    renewals = {"pipeline": "9100001"}
    for name in ("Renewal A", "Renewal B"):
        deal = portal.deal([], name=name, stage="9100002", extra=renewals)
        portal.move(deal, "9100003")  # Renewed: closed, won
    lost = portal.deal([], name="Renewal C", stage="9100002", extra=renewals)
    portal.move(lost, "9100004")  # Not renewed: closed, lost
    won = portal.deal([], name="Big deal")
    portal.move(won, "closedwon")
    # HubSpot sends the webhooks a moment later, in batches.
    assert world.hubspot_admin("POST", "/_sandbox/webhooks/drain", json={"timeout": 20})["drained"]
    webhook_events_decided()

    page = open_page(world, browser, "")

    text = section_text(page.text, "not-synced")
    assert "2 deals in pipeline Renewals reached Renewed and were not synced." in text
    assert "1 deal in pipeline Sales Pipeline reached Closed Won and was not synced." in text
    assert "Not renewed" not in text
    assert f'href="/settings/{HUB}/sync/"' in page.text

    sync_page = open_page(world, browser, "sync/")
    post_form(
        world,
        browser,
        sync_page,
        f"/settings/{HUB}/sync/pipelines/9100001/",
        {
            "pipeline-9100001-trigger_stage_ids": ["9100003"],
            "pipeline-9100001-document_type": "order",
        },
    )
    text = section_text(open_page(world, browser, "").text, "not-synced")
    assert "Renewals" not in text
    assert "1 deal in pipeline Sales Pipeline reached Closed Won" in text


def test_the_connection_is_in_words_with_licences_and_the_disconnect_is_confirmed(world, browser):
    signed_in(world, browser)
    browser_connect_fortnox(world, browser)

    page = open_page(world, browser, "")

    hubspot = section_text(page.text, "hubspot")
    assert "Read deals" in hubspot and "Attach the document's PDF to the deal" in hubspot
    assert "crm.objects.deals.read" not in hubspot
    assert re.search(r"Tokens last refreshed \w{3}\.? \d{1,2}, 20\d\d", hubspot)
    fortnox = section_text(page.text, "fortnox")
    assert "Status Connected" in fortnox
    assert "Invoices" in fortnox and "Orders" in fortnox and "Company information" in fortnox
    assert "companyinformation" not in fortnox
    assert "Orders need the Fortnox licences Oo (Order & Quote) and Ar." in fortnox
    assert "Reconnect Fortnox" in fortnox

    confirm = open_page(world, browser, "fortnox/disconnect/")
    text = section_text(confirm.text, "disconnect")
    assert "Automatic creation stops" in text
    assert "Runs and their notes on deals stay" in text
    assert "already in Fortnox stay there" in text

    done = post_form(world, browser, confirm, "/fortnox/disconnect", {"portal": HUB})
    assert done.url == f"{world.app}/settings/{HUB}/"
    text = visible_text(done.text)
    assert "Fortnox is disconnected." in text
    assert "No Fortnox company is connected" in section_text(done.text, "fortnox")
    assert "Connect Fortnox To do" in section_text(done.text, "setup")


def test_a_missing_fortnox_permission_is_named_in_words_with_the_fix(world, browser):
    signed_in(world, browser)
    # A company whose Fortnox user may not grant every permission the app asks for.
    company = world.fortnox_admin(
        "POST",
        "/_sandbox/companies",
        json={
            "name": "Begränsad AB",
            "scopes_allowed": ["companyinformation", "customer", "article", "invoice"],
        },
    )
    browser_connect_fortnox(world, browser, company=company["id"])

    page = open_page(world, browser, "")

    problem = section_text(page.text, "problem")
    assert (
        "Fortnox did not grant: Currencies, Orders, Price lists and prices, "
        "Company settings (units, terms of payment)." in problem
    )
    assert "Reconnect Fortnox and approve every permission asked for." in problem


def test_a_missing_fortnox_licence_shows_on_the_overview_with_its_fix(
    world, browser, celery_worker_process
):
    signed_in(world, browser)
    browser_connect_fortnox(world, browser, company=FORTNOX_NO_ORDER_COMPANY)
    post_form(
        world,
        browser,
        open_page(world, browser, "sync/"),
        f"/settings/{HUB}/sync/pipelines/default/",
        {
            "pipeline-default-trigger_stage_ids": ["closedwon"],
            "pipeline-default-document_type": "order",
        },
    )
    # A run's messages are in the portal's language (Swedish by default): English here, as
    # the page.
    assert SyncSettings.objects.filter(installation__hub_id=HUB).update(language="en") == 1
    portal = Portal(world, company=FORTNOX_NO_ORDER_COMPANY)
    deal = portal.deal([{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}])
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "failed"

    page = open_page(world, browser, "")

    problem = section_text(page.text, "problem")
    assert (
        "There is no active Fortnox licence for an order: it needs Oo (Order & Quote) and Ar."
        in problem
    )
    assert "Ask your Fortnox administrator to activate Oo (Order & Quote) and Ar" in problem


def test_missing_hubspot_properties_are_created_from_the_page(
    world, browser, celery_worker_process
):
    signed_in(world, browser)
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    wait_for_app_properties(installation)
    # As if the background creation after the install had failed.
    HubSpotInstallation.objects.filter(pk=installation.pk).update(properties_created_at=None)
    page = open_page(world, browser, "")
    assert "Create the app's properties in HubSpot To do" in section_text(page.text, "setup")

    done = post_form(world, browser, page, f"/settings/{HUB}/properties/", {})

    assert "The app's properties are created in HubSpot." in visible_text(done.text)
    assert "Create the app's properties in HubSpot ✓ Done" in section_text(done.text, "setup")
    token = world.hubspot_admin("POST", "/_sandbox/tokens", json={"portal": HUB})["access_token"]
    deal_properties = requests.get(
        f"{world.hubspot}/crm/v3/properties/deals/fortnox_document_number",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert deal_properties.status_code == 200


def test_the_overview_and_the_invoices_tab_in_swedish(world, browser, celery_worker_process):
    signed_in(world, browser)
    portal = Portal(world)
    for name in ("Förnyelse A", "Förnyelse B"):
        deal = portal.deal([], name=name, stage="9100002", extra={"pipeline": "9100001"})
        portal.move(deal, "9100003")
    assert world.hubspot_admin("POST", "/_sandbox/webhooks/drain", json={"timeout": 20})["drained"]
    webhook_events_decided()
    page = open_page(world, browser, "")
    browser.post(
        f"{world.app}/i18n/setlang/",
        data={"language": "sv", "next": "/", "csrfmiddlewaretoken": csrf_token(page.text)},
        timeout=10,
    )

    page = open_page(world, browser, "")

    text = visible_text(page.text)
    assert f"Inställningar för HubSpot-portal {HUB}" in text
    checklist = section_text(page.text, "setup")
    assert "Checklista för att komma igång" in checklist
    assert "Anslut Fortnox Att göra Inget Fortnox-företag är anslutet" in checklist
    assert "2 affärer i pipelinen Renewals nådde Renewed och synkades inte." in section_text(
        page.text, "not-synced"
    )
    assert "Läsa affärer" in section_text(page.text, "hubspot")
    assert re.search(r"Nycklar senast förnyade 20\d\d-\d\d-\d\d \d\d:\d\d", text)

    sync_page = open_page(world, browser, "sync/")
    refused = post_form(
        world,
        browser,
        sync_page,
        f"/settings/{HUB}/sync/pipelines/9100001/",
        {"pipeline-9100001-document_type": "invoice"},
    )
    renewals = section_text(refused.text, "pipeline-9100001")
    assert "Renewals Inte tillagd" in renewals
    assert "Utlösande faser: välj minst en fas." in renewals
    assert "Dokument som skapas Faktura Order" in renewals
