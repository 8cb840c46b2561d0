"""The HubSpot sandbox runs a custom action only in workflows of the object types the action
declares (`objectTypes`), as HubSpot offers it only there: "Sync to Fortnox customer" in contact
and company workflows, never in a deal workflow."""

from __future__ import annotations

import pytest
import requests

from sandbox.hubspot.testing import Receiver, admin

HUB = 9000001
SYNC_CUSTOMER = "fortnox_sync_customer"  # the project's uid: its id depends on file order


@pytest.fixture
def app(hubspot_url):
    receiver = Receiver(
        answer=lambda r: (200, {"outputFields": {"hs_execution_state": "BLOCK"}})
    ).start()
    admin(hubspot_url, "POST", "/_sandbox/app", json={"public_base_url": receiver.url})
    yield receiver
    receiver.stop()


def _first(hubspot_url: str, object_type: str) -> str:
    return admin(hubspot_url, "GET", f"/_sandbox/portals/{HUB}/objects/{object_type}")[0]["id"]


@pytest.mark.parametrize("object_type", ["COMPANY", "CONTACT"])
def test_the_customer_action_runs_in_contact_and_company_workflows(hubspot_url, app, object_type):
    record = _first(hubspot_url, {"COMPANY": "companies", "CONTACT": "contacts"}[object_type])

    execution = admin(
        hubspot_url,
        "POST",
        "/_sandbox/workflows/execute",
        json={
            "portal": HUB,
            "definition_id": SYNC_CUSTOMER,
            "object_type": object_type,
            "object_id": record,
        },
    )

    assert execution["state"] == "BLOCK"
    [request] = app.received
    assert request.path == "/hubspot/workflow-actions/sync-customer"
    assert request.json()["object"] == {"objectId": int(record), "objectType": object_type}


def test_no_deal_workflow_offers_the_customer_action(hubspot_url, app):
    deal = _first(hubspot_url, "deals")

    answer = requests.post(
        f"{hubspot_url}/_sandbox/workflows/execute",
        json={
            "portal": HUB,
            "definition_id": SYNC_CUSTOMER,
            "object_type": "DEAL",
            "object_id": deal,
        },
        timeout=10,
    )

    assert answer.status_code == 400
    assert "declared for CONTACT, COMPANY, not for DEAL workflows" in answer.json()["message"]
    assert app.received == []
