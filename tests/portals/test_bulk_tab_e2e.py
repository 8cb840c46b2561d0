"""The Bulk sync tab (issue 15): the scope's choices as the portal has them, the count before
anything is synced, refusals that name the fix, and the history of starts and cancels. The
syncs themselves: tests/sync/test_bulk_sync_e2e.py. Live service, both sandboxes over HTTP."""

from __future__ import annotations

import re
import time

import pytest
import requests

from integrations.models import HubSpotInstallation
from portals.models import SettingsChange
from sync.models import BulkSync, Run
from tests.flows import HUB, Portal, visible_text
from tests.portals.settings_helpers import open_page, post_form, section_text
from tests.sync.test_bulk_sync_e2e import companies, seeded_in_scope
from tests.sync.test_runs_e2e import portal_ready

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


def counted(world, browser, data: dict, expect: str) -> requests.Response:
    page = open_page(world, browser, "bulk/")
    post_form(world, browser, page, f"/settings/{HUB}/bulk/count/", data)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = open_page(world, browser, "bulk/")
        if expect in visible_text(page.text):
            return page
        time.sleep(0.3)
    raise AssertionError(visible_text(page.text))


def test_a_lifecycle_stage_is_counted_then_discarded_and_nothing_is_synced(
    world, celery_worker_process, browser
):
    portal: Portal = portal_ready(world, browser=browser)
    for i in range(3):
        portal.create("companies", {"name": f"Kund {i} AB", "lifecyclestage": "customer"})
    for i in range(2):
        portal.create("companies", {"name": f"Lead {i} AB", "lifecyclestage": "lead"})

    page = open_page(world, browser, "bulk/")
    assert page.status_code == 200
    text = section_text(page.text, "bulk-companies")
    assert "Companies with a deal in a pipeline added to the sync (Sales Pipeline)" in text
    assert re.search(r'<option value="customer">Customer</option>', page.text)

    page = counted(
        world,
        browser,
        {"object_type": "companies", "scope": "lifecycle_stage", "lifecycle_stage": "customer"},
        "3 companies will be synced.",
    )
    assert "Sync 3 companies now" in visible_text(page.text)
    discard = re.search(r'action="([^"]*/cancel/)"', page.text).group(1)
    page = post_form(world, browser, page, discard, {})
    assert "The bulk sync was cancelled." in visible_text(page.text)
    assert "Sync 3 companies now" not in visible_text(page.text)
    assert not Run.objects.exists()
    assert not [c for c in portal.fortnox_records("customers") if c["Name"].startswith("Kund ")]
    assert not SettingsChange.objects.filter(section="Bulk sync").exists()  # never started


def test_without_the_lists_scope_the_page_says_so_and_offers_to_authorise_again(
    world, celery_worker_process, browser
):
    world.hubspot_admin(
        "PATCH", f"/_sandbox/portals/{HUB}/account", json={"withheld_scopes": ["crm.lists.read"]}
    )
    portal_ready(world, browser=browser)
    assert "crm.lists.read" not in HubSpotInstallation.objects.get().scopes

    page = open_page(world, browser, "bulk/")
    text = section_text(page.text, "bulk-companies")
    assert "The app may not read HubSpot lists: it was authorised without that permission." in text
    assert "Authorise the app again in HubSpot" in text
    answer = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/bulk/count/",
        {"object_type": "companies", "scope": "list", "list_id": "123"},
    )
    said = visible_text(answer.text)
    assert "The app has no permission to read HubSpot lists." in said
    assert "Authorise the app again in HubSpot" in said and "crm.lists.read" in said
    assert not BulkSync.objects.exists()


def test_a_portal_without_pipelines_is_told_to_add_one_or_pick_another_scope(
    world, celery_worker_process, browser
):
    portal_ready(world, browser=browser)
    from_page = open_page(world, browser, "bulk/")
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    installation.sync_settings.pipelines.all().delete()
    answer = post_form(
        world,
        browser,
        from_page,
        f"/settings/{HUB}/bulk/count/",
        {"object_type": "companies", "scope": "pipeline_deals"},
    )
    said = visible_text(answer.text)
    assert "No pipeline is added to the sync, so no company has a deal in one." in said
    assert "Add a pipeline on the Invoices & orders tab" in said
    assert not BulkSync.objects.exists()


def test_starting_and_cancelling_is_recorded_in_the_history(world, celery_worker_process, browser):
    portal = portal_ready(world, browser=browser)
    mine = companies(portal, 3, "Historik", pipeline="default")
    in_scope = 3 + len(seeded_in_scope(world) - set(mine))
    page = counted(
        world,
        browser,
        {"object_type": "companies", "scope": "pipeline_deals"},
        f"{in_scope} companies will be synced.",
    )
    # Fortnox answers slowly: the sync is still running when the admin tries a second one.
    world.fortnox_admin("POST", "/_sandbox/faults/latency", json={"min_ms": 1500, "max_ms": 1500})
    confirm = re.search(r'action="([^"]*/confirm/)"', page.text).group(1)
    page = post_form(world, browser, page, confirm, {})
    assert "The bulk sync has started." in visible_text(page.text)
    again = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/bulk/count/",
        {"object_type": "companies", "scope": "pipeline_deals"},
    )
    said = visible_text(again.text)
    assert "A bulk sync of these records is already running." in said
    assert "Wait until it has finished, or cancel it, then start another." in said
    cancel = re.search(r'action="([^"]*/cancel/)"', again.text).group(1)
    page = post_form(world, browser, again, cancel, {})
    assert "The bulk sync was cancelled." in visible_text(page.text)
    world.fortnox_admin("POST", "/_sandbox/faults/latency", json={"min_ms": 0, "max_ms": 0})
    bulk = BulkSync.objects.get()
    assert bulk.status == BulkSync.Status.CANCELLED
    assert Run.objects.filter(trigger_key=bulk.trigger_key, status="skipped").exists()

    history = visible_text(open_page(world, browser, "history/").text)
    assert "Bulk sync" in history
    assert "started" in history and "cancelled" in history
