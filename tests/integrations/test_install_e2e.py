"""What the install leaves in the HubSpot portal: the app's own properties, made by the app (the
sandbox seeds none of them: sandbox/hubspot/README.md)."""

from __future__ import annotations

import pytest
import requests

from integrations.models import HubSpotInstallation
from tests.flows import HUB, browser_install
from tests.sync.test_runs_e2e import wait_for_app_properties

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_install_creates_the_company_properties_the_default_mapping_reads(
    world, celery_worker_process
):
    with requests.Session() as browser:
        assert browser_install(world, browser).status_code == 200
    wait_for_app_properties(HubSpotInstallation.objects.get(hub_id=HUB))
    token = world.hubspot_admin("POST", "/_sandbox/tokens", json={"portal": HUB})["access_token"]
    answer = requests.get(
        f"{world.hubspot}/crm/v3/properties/companies",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    properties = {p["name"]: p for p in answer.json()["results"]}

    # What the admin sees in HubSpot's property settings: the app's group and labels.
    for name, label in (
        ("fortnox_organisation_number", "Organisation number (Fortnox)"),
        ("fortnox_invoice_email", "Invoice e-mail (Fortnox)"),
        ("fortnox_vat_number", "VAT number (Fortnox)"),
        ("fortnox_customer_number", "Fortnox customer number"),
    ):
        assert name in properties, f"the install did not create {name}"
        assert properties[name]["groupName"] == "fortnox"
        assert properties[name]["label"] == label
        assert properties[name]["hubspotDefined"] is False
