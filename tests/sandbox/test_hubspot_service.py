"""The service's own HubSpot code (integrations/hubspot/, sync/reader.py) against the sandbox:
every call it makes must be served the way it expects."""

from __future__ import annotations

import pytest
import requests
from django.utils import timezone

from sandbox.hubspot.testing import Receiver, admin

HUB = 9000001
DEAL = "10015"

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(settings, hubspot_url):
    settings.HUBSPOT_API_BASE = hubspot_url
    settings.HUBSPOT_APP_BASE = hubspot_url
    settings.PUBLIC_BASE_URL = "http://service.test"
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/app",
        json={"redirect_uri": "http://service.test/hubspot/oauth/callback"},
    )
    return hubspot_url


@pytest.fixture
def installation(service):
    from integrations.models import HubSpotInstallation

    pair = admin(service, "POST", "/_sandbox/tokens", json={"portal": HUB})
    installation = HubSpotInstallation(hub_id=HUB)
    installation.store_tokens(
        pair["access_token"], pair["refresh_token"], pair["expires_in"], pair["scopes"]
    )
    installation.save()
    return installation


def test_oauth_install_refresh_and_uninstall(service):
    from integrations.hubspot import oauth
    from integrations.hubspot.client import hubspot_token_info
    from integrations.hubspot.errors import HubSpotUninstalled

    url = oauth.authorization_url("state-1")
    assert url.startswith(f"{service}/oauth/authorize?")
    consent = requests.get(f"{url}&sandbox_portal={HUB}", allow_redirects=False, timeout=5)
    assert consent.status_code == 302, consent.text
    code = consent.headers["Location"].split("code=")[1].split("&")[0]
    token = oauth.exchange_code(code)
    info = hubspot_token_info(token["access_token"])
    assert info["hub_id"] == HUB and info["user"] == "admin@sandbox.example"
    assert oauth.refresh(token["refresh_token"])["access_token"] != token["access_token"]
    admin(service, "POST", "/_sandbox/faults/uninstall", json={"portal": HUB})
    with pytest.raises(HubSpotUninstalled):
        oauth.refresh(token["refresh_token"])


def test_app_properties_deal_read_note_and_pdf(installation, service):
    from integrations.hubspot import crm
    from integrations.hubspot.client import HubSpotClient
    from integrations.hubspot.properties import APP_PROPERTIES, hubspot_properties_ensure
    from sync.reader import deal_snapshot_read

    client = HubSpotClient(installation)
    created = hubspot_properties_ensure(client)
    # Every one of them: the sandbox seeds none (sandbox/hubspot/README.md).
    assert created == {"deals": 6, "contacts": 5, "companies": 8}
    assert created == {kind: len(props) for kind, props in APP_PROPERTIES.items()}
    assert hubspot_properties_ensure(client) == {"deals": 0, "contacts": 0, "companies": 0}

    snapshot = deal_snapshot_read(
        client, DEAL, document_properties=[], row_properties=[], customer_properties={}
    )
    assert [li.sku for li in snapshot.line_items] == ["KONS-1", "LIC-12", "SUP"]
    assert (
        snapshot.customer_type == "companies"
        and snapshot.customer.properties["name"] == "Nordljus Konsult AB"
    )
    assert snapshot.currency == "SEK"

    file = crm.file_upload(client, "Faktura 5001.pdf", b"%PDF-1.4 " + b"x" * 2000)
    note_id = crm.note_create(
        client,
        "<p>Fortnox invoice 5001 created</p>",
        int(timezone.now().timestamp() * 1000),
        {"deals": DEAL, "companies": "10001"},
        [file["id"]],
    )
    crm.record_update(
        client, "deals", DEAL, {"fortnox_document_number": "5001", "fortnox_status": "created"}
    )
    deal = admin(service, "GET", f"/_sandbox/portals/{HUB}/objects/deals/{DEAL}")
    assert deal["associations"]["notes"] == [note_id]
    assert deal["properties"]["fortnox_status"] == "created"
    note = admin(service, "GET", f"/_sandbox/portals/{HUB}/objects/notes/{note_id}")
    assert note["properties"]["hs_attachment_ids"] == file["id"]
    assert admin(service, "GET", f"/_sandbox/files/{file['id']}")["access"] == "PRIVATE"
    assert [p["id"] for p in crm.deal_pipelines(client)] == ["default", "9100001"]


def test_workflow_callback_from_the_service(installation, service):
    from integrations.hubspot import crm
    from integrations.hubspot.client import HubSpotClient

    app = Receiver(
        answer=lambda r: (200, {"outputFields": {"hs_execution_state": "BLOCK"}})
    ).start()
    try:
        admin(service, "POST", "/_sandbox/app", json={"public_base_url": app.url})
        execution = admin(
            service,
            "POST",
            "/_sandbox/workflows/execute",
            json={"definition_id": "5001", "object_id": DEAL},
        )
        crm.workflow_callback_complete(
            HubSpotClient(installation),
            execution["callbackId"],
            {"hs_execution_state": "SUCCESS", "fortnox_document_number": "7"},
        )
        done = admin(service, "GET", f"/_sandbox/workflows/executions/{execution['callbackId']}")
        assert done["state"] == "SUCCESS"
    finally:
        app.stop()


def test_the_client_refreshes_on_401_and_paces_through_429(installation, service):
    from integrations.hubspot.client import HubSpotClient

    admin(service, "POST", "/_sandbox/faults/expire-tokens")
    client = HubSpotClient(installation)
    admin(service, "POST", "/_sandbox/faults/fail-next", json={"count": 1, "status": 429})
    result = client.call(
        "deal pipelines",
        "GET /crm/v3/pipelines/deals",
        lambda c: c.crm.pipelines.pipelines_api.get_all,
        "deals",
    )
    assert result.results
    assert admin(service, "GET", "/_sandbox/tokens/stats")["token_calls"] == {"refresh_token": 1}
