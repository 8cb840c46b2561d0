"""The Invoices & orders tab: HubSpot's pipelines and stages read live, added, edited and removed,
refused with the field named, and automatic creation on and off; against both sandboxes."""

from __future__ import annotations

import pytest
import requests

from integrations.models import HubSpotInstallation
from tests.flows import HUB, Portal, browser_connect_fortnox, visible_text
from tests.portals.settings_helpers import checked, open_page, post_form, section_text, signed_in
from tests.sync.test_runs_e2e import wait_for_app_properties, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

RENEWALS = "9100001"  # the sandbox portal's second deal pipeline


@pytest.fixture
def browser(world):
    with requests.Session() as session:
        signed_in(world, session)
        yield session


def _save_pipeline(world, browser, pipeline_id: str, stages: list[str], document: str):
    page = open_page(world, browser, "sync/")
    return post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/sync/pipelines/{pipeline_id}/",
        {
            f"pipeline-{pipeline_id}-trigger_stage_ids": stages,
            f"pipeline-{pipeline_id}-document_type": document,
        },
    )


def test_the_portals_pipelines_and_stages_are_shown_by_their_labels(world, browser):
    page = open_page(world, browser, "sync/")

    assert page.status_code == 200
    sales = section_text(page.text, "pipeline-default")
    assert sales.startswith("Sales Pipeline Not added")
    assert "Appointment Scheduled" in sales and "Closed Won" in sales and "Closed Lost" in sales
    renewals = section_text(page.text, f"pipeline-{RENEWALS}")
    assert "Renewals Not added" in renewals and "Renewed" in renewals
    assert "9100003" not in visible_text(page.text)
    assert checked(page.text, "auto_create") == ["on"]


def test_an_added_pipeline_is_shown_edited_and_removed_and_each_change_is_in_the_history(
    world, browser
):
    added = _save_pipeline(world, browser, RENEWALS, ["9100003"], "invoice")

    assert added.url == f"{world.app}/settings/{HUB}/sync/"
    assert "Saved: a deal in Renewals that enters Renewed creates a draft invoice." in visible_text(
        added.text
    )
    renewals = section_text(added.text, f"pipeline-{RENEWALS}")
    assert "Renewals Added" in renewals
    assert "Creates a draft invoice when a deal enters: Renewed." in renewals
    assert checked(added.text, f"pipeline-{RENEWALS}-trigger_stage_ids") == ["9100003"]

    edited = _save_pipeline(world, browser, RENEWALS, ["9100002", "9100003"], "order")
    renewals = section_text(edited.text, f"pipeline-{RENEWALS}")
    assert "Creates a draft order when a deal enters: Renewal due, Renewed." in renewals

    removed = post_form(
        world, browser, edited, f"/settings/{HUB}/sync/pipelines/{RENEWALS}/remove/", {}
    )
    assert "Removed: deals in Renewals no longer create documents." in visible_text(removed.text)
    assert "Renewals Not added" in section_text(removed.text, f"pipeline-{RENEWALS}")

    history = section_text(open_page(world, browser, "history/").text, "history")
    assert "Pipeline Renewals: trigger stages Renewal due, Renewed —" in history
    assert "Pipeline Renewals: document Order —" in history
    assert "Pipeline Renewals: trigger stages Renewed Renewal due, Renewed" in history
    assert "Pipeline Renewals: document — Invoice" in history
    assert "admin@sandbox.example" in history


def test_a_pipeline_without_a_trigger_stage_is_refused_naming_the_field(world, browser):
    refused = _save_pipeline(world, browser, RENEWALS, [], "invoice")

    assert refused.status_code == 400
    renewals = section_text(refused.text, f"pipeline-{RENEWALS}")
    assert "Trigger stages: pick at least one stage." in renewals
    assert "Renewals Not added" in renewals
    assert "Nothing" not in visible_text(open_page(world, browser, "history/").text)
    assert "No setting has been changed yet." in visible_text(
        open_page(world, browser, "history/").text
    )


def test_a_stage_of_another_pipeline_is_refused(world, browser):
    refused = _save_pipeline(world, browser, RENEWALS, ["closedwon"], "invoice")

    assert refused.status_code == 400
    renewals = section_text(refused.text, f"pipeline-{RENEWALS}")
    assert "Trigger stages: closedwon is not a stage of this pipeline in HubSpot." in renewals
    assert "Renewals Not added" in renewals


def test_a_deal_reaching_the_chosen_stage_becomes_the_chosen_document(
    world, browser, celery_worker_process
):
    browser_connect_fortnox(world, browser)
    wait_for_app_properties(HubSpotInstallation.objects.get(hub_id=HUB))
    _save_pipeline(world, browser, RENEWALS, ["9100003"], "order")
    portal = Portal(world)
    invoices_before = len(portal.fortnox_records("invoices"))
    deal = portal.deal(
        [{"name": "Support", "quantity": "1", "price": "1000", "hs_sku": "1"}],
        stage="9100002",
        extra={"pipeline": RENEWALS},
        name="Renewal 2027",
    )

    portal.move(deal, "9100003")

    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    order = portal.fortnox_record("orders", run.fortnox_document_number)
    assert order["CustomerName"] == "Kund AB"
    assert len(portal.fortnox_records("invoices")) == invoices_before


def test_automatic_creation_off_is_saved_shown_and_recorded(world, browser):
    page = open_page(world, browser, "sync/")

    off = post_form(world, browser, page, f"/settings/{HUB}/sync/automatic/", {})

    assert "Saved: automatic creation is off." in visible_text(off.text)
    assert checked(off.text, "auto_create") == []
    on = post_form(world, browser, off, f"/settings/{HUB}/sync/automatic/", {"auto_create": "on"})
    assert checked(on.text, "auto_create") == ["on"]
    history = section_text(open_page(world, browser, "history/").text, "history")
    assert "Invoices & orders: Create documents automatically off on" in history
    assert "Invoices & orders: Create documents automatically on off" in history


def test_when_hubspot_refuses_the_pipelines_the_tab_says_so_and_saves_nothing(world, browser):
    _save_pipeline(world, browser, "default", ["closedwon"], "invoice")
    world.hubspot_admin(
        "POST",
        "/_sandbox/faults/fail-next",
        json={"count": 3, "status": 403, "path_prefix": "/crm/v3/pipelines"},
    )

    page = open_page(world, browser, "sync/")
    # The form's page is read (refused too), then the save reads the pipelines again.
    refused = _save_pipeline(world, browser, RENEWALS, ["9100003"], "invoice")

    assert page.status_code == 200
    assert "HubSpot's pipelines could not be read." in section_text(page.text, "hubspot-problem")
    assert "Sales Pipeline: Invoice" in section_text(page.text, "stored")
    assert "Nothing was saved: HubSpot's pipelines could not be read." in visible_text(refused.text)
    assert "Renewals Not added" in section_text(refused.text, f"pipeline-{RENEWALS}")
