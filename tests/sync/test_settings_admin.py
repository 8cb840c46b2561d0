"""Sync settings in Django admin: field mappings are checked against Fortnox's rules on save."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from integrations.models import HubSpotInstallation
from sync.models import SyncSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = User.objects.create_superuser("staff", "staff@example.se", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def sync_settings():
    installation = HubSpotInstallation.objects.create(hub_id=9000001)
    return SyncSettings.objects.create(installation=installation)


def _post(staff_client, sync_settings, mappings: str):
    return staff_client.post(
        f"/admin/sync/syncsettings/{sync_settings.pk}/change/",
        {
            "installation": sync_settings.installation.pk,
            "auto_create": "on",
            "article_search": "sku",
            "not_found_policy": "skip",
            "default_article_number": "",
            "no_line_items_policy": "fail",
            "field_mappings": mappings,
            "pipelines-TOTAL_FORMS": "0",
            "pipelines-INITIAL_FORMS": "0",
            "pipelines-MIN_NUM_FORMS": "0",
            "pipelines-MAX_NUM_FORMS": "1000",
        },
    )


def test_a_mapping_to_a_field_fortnox_lacks_is_refused_with_the_choices(
    staff_client, sync_settings
):
    response = _post(staff_client, sync_settings, '{"document": {"NoSuchField": "dealname"}}')

    assert response.status_code == 200  # the form again, with the error; nothing saved
    text = response.content.decode()
    assert "Fortnox has no field &#x27;NoSuchField&#x27;" in text
    sync_settings.refresh_from_db()
    assert sync_settings.field_mappings == {}


def test_a_valid_mapping_is_saved(staff_client, sync_settings):
    response = _post(staff_client, sync_settings, '{"document": {"YourReference": "dealname"}}')

    assert response.status_code == 302
    sync_settings.refresh_from_db()
    assert sync_settings.field_mappings == {"document": {"YourReference": "dealname"}}
