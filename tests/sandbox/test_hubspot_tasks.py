"""Tasks in the HubSpot sandbox as the service creates and finds them (integrations/hubspot/
crm.py): HubSpot's tasks guide's properties, the task→deal association, and the scopes."""

from __future__ import annotations

import pytest
import requests
from django.utils import timezone

from sandbox.hubspot.testing import admin
from tests.sandbox.test_hubspot_service import DEAL, HUB, installation, service  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_task_on_a_deal_is_created_read_back_and_found(installation, service):  # noqa: F811
    from integrations.hubspot import crm
    from integrations.hubspot.client import HubSpotClient

    client = HubSpotClient(installation)
    due = int(timezone.now().timestamp() * 1000)

    task_id = crm.task_create(
        client,
        subject="Fortnox invoice not created",
        body_html="<p>What to change: the SKU. run 7</p>",
        due_ms=due,
        owner_id="501",
        associate={"deals": DEAL},
    )

    deal = admin(service, "GET", f"/_sandbox/portals/{HUB}/objects/deals/{DEAL}")
    assert deal["associations"]["tasks"] == [task_id]
    task = admin(service, "GET", f"/_sandbox/portals/{HUB}/objects/tasks/{task_id}")["properties"]
    assert (task["hs_task_subject"], task["hs_task_status"], task["hubspot_owner_id"]) == (
        "Fortnox invoice not created",
        "NOT_STARTED",
        "501",
    )
    assert crm.record_tasks_read(client, "deals", DEAL) == {
        task_id: "<p>What to change: the SKU. run 7</p>"
    }
    # hs_timestamp (the due date) is required, as the tasks guide says.
    refused = requests.post(
        f"{service}/crm/v3/objects/tasks",
        headers={"Authorization": f"Bearer {installation.access_token}"},
        json={"properties": {"hs_task_subject": "no due date"}},
        timeout=5,
    )
    assert refused.status_code == 400 and "hs_timestamp" in refused.text
