"""The dry run's clients (sync/dry_run.py): a write with a placeholder is recorded and
answered without a request; any other write is refused before anything is sent."""

from __future__ import annotations

import pytest

from integrations.fortnox.client import FortnoxClient
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import note_create, record_update
from integrations.models import FortnoxConnection, HubSpotInstallation
from sync.dry_run import DryRunFortnoxClient, DryRunHubSpotClient, DryRunRefused, WouldLog


def test_writes_without_a_placeholder_are_refused_before_anything_is_sent(settings):
    settings.HUBSPOT_API_BASE = settings.FORTNOX_API_BASE = "http://127.0.0.1:9"  # no server
    log = WouldLog()
    hubspot = DryRunHubSpotClient(HubSpotInstallation(hub_id=1), log=log, token="t")
    fortnox = DryRunFortnoxClient(FortnoxConnection(database_number="1"), log=log, token="t")
    assert isinstance(hubspot, HubSpotClient) and isinstance(fortnox, FortnoxClient)

    with pytest.raises(DryRunRefused):
        note_create(hubspot, "<p>note</p>", 0, {"deals": "1"})
    with pytest.raises(DryRunRefused):
        fortnox.document_create("invoice", {"CustomerNumber": "1"})
    with pytest.raises(DryRunRefused):
        fortnox.request("DELETE", "customers/1", resource="customers")
    record_update(hubspot, "companies", "7", {"fortnox_customer_number": "(new)"})
    created = fortnox.customer_create({"Name": "Ny kund AB"})

    assert log.hubspot_updates == [("companies", "7", {"fortnox_customer_number": "(new)"})]
    assert created["CustomerNumber"] == "(new)" and log.customer_created == {"Name": "Ny kund AB"}
    assert fortnox.customer_get("(new)")["Name"] == "Ny kund AB"
