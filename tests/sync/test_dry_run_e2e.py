"""The dry run (sync/dry_run.py) against both sandboxes: it reads like a run and writes nothing,
neither in Fortnox nor in HubSpot nor in our database, even where the run would update a
customer or have its token renewed."""

from __future__ import annotations

import pytest
import requests

from integrations.models import FortnoxConnection, HubSpotInstallation
from sync.dry_run import deal_dry_run
from sync.models import CustomerMapping, Run, SyncSettings
from tests.flows import Portal
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {"name": "Konsult", "quantity": "2", "price": "1000", "hs_sku": "1", "hs_tax_rate": "25"}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def _requests(base: str, **params) -> list[dict]:
    answer = requests.get(f"{base}/_sandbox/requests", params=params, timeout=10)
    answer.raise_for_status()
    return answer.json()


def _clear_requests(portal: Portal) -> None:
    for base in (portal.world.fortnox, portal.world.hubspot):
        requests.delete(f"{base}/_sandbox/requests", timeout=10).raise_for_status()


def test_a_customer_update_the_run_would_make_is_shown_and_not_made(portal):
    # The customer's web address comes from a company property HubSpot does not report to the
    # app (its webhook subscriptions name `website`, not `domain`), so no change sync updates
    # the customer before the dry run looks (sync/webhooks.py).
    sync_settings = SyncSettings.objects.get(installation__hub_id=portal.hub)
    sync_settings.field_mappings = {"company": {"WWW": "domain"}}
    sync_settings.save()
    company = portal.create(
        "companies",
        {
            "name": "Flyttar AB",
            "fortnox_organisation_number": "556321-0987",
            "domain": "flyttar.se",
        },
    )
    first = portal.deal([LINE], company=company)
    portal.move(first)
    assert wait_for_runs(first)[0].status == "succeeded"
    number = portal.record("companies", company)["properties"]["fortnox_customer_number"]
    card_before = portal.fortnox_record("customers", number)
    mapping_before = CustomerMapping.objects.values().get()
    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/companies/{company}",
        json={"properties": {"domain": "flyttar.nu"}},
    )
    second = portal.deal([LINE], company=company)
    _clear_requests(portal)

    result = deal_dry_run(HubSpotInstallation.objects.get(hub_id=portal.hub), second)

    assert result.failure is None
    assert result.customer.number == number and result.customer.matched_by == "mapping"
    [(updated, changed)] = result.would.customers_updated
    assert updated == number and changed == {"WWW": "flyttar.nu"}
    # Only reads reached either service; the customer card and our mapping are as they were.
    fortnox_calls = _requests(portal.world.fortnox, path_prefix="/3/")
    hubspot_calls = _requests(portal.world.hubspot, portal=portal.hub, path_prefix="/crm/")
    assert fortnox_calls and {c["method"] for c in fortnox_calls} == {"GET"}
    assert hubspot_calls and all(
        c["method"] == "GET" or c["path"].endswith(("/batch/read", "/search"))
        for c in hubspot_calls
    )
    assert portal.fortnox_record("customers", number) == card_before
    assert CustomerMapping.objects.values().get() == mapping_before
    assert Run.objects.count() == 1
    assert portal.notes(second) == []


def test_a_token_fortnox_refuses_mid_way_is_renewed_outside_and_kept(portal):
    deal = portal.deal([LINE])
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    refresh_token_before = FortnoxConnection.objects.get(status="connected").refresh_token
    # Fortnox forgets the access token the app holds as fresh: its first call gets a 401.
    portal.world.fortnox_admin("POST", "/_sandbox/faults/expire-tokens")

    result = deal_dry_run(installation, deal)

    assert result.failure is None and [r.net for r in result.rows] == [2000]
    connection = FortnoxConnection.objects.get(status="connected")
    # The single-use refresh token was renewed and stored (not rolled back with the dry run):
    # a real run still works.
    assert connection.refresh_token != refresh_token_before
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
