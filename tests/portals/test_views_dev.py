"""The development-only sign-in that `make run` prints (portals/views_dev.py)."""

from __future__ import annotations

import pytest

from integrations.models import HubSpotInstallation
from tests.flows import visible_text

pytestmark = pytest.mark.django_db

HUB = 9000001


@pytest.fixture
def installation() -> HubSpotInstallation:
    return HubSpotInstallation.objects.create(
        hub_id=HUB, installed_by_user_id=7001, installed_by_email="admin@sandbox.example"
    )


def test_in_development_the_link_opens_the_settings_page_as_the_installing_user(
    client, settings, installation
):
    settings.CLOUDIFY_ENV = "development"

    signed_in = client.get(f"/dev/sign-in/{HUB}")
    assert signed_in.status_code == 302
    assert signed_in["Location"] == f"/settings/{HUB}/"
    assert "no-store" in signed_in["Cache-Control"]

    page = client.get(signed_in["Location"])
    assert page.status_code == 200
    text = visible_text(page.content.decode())
    assert f"Settings for HubSpot portal {HUB}" in text
    assert "admin@sandbox.example" in text


@pytest.mark.parametrize("environment", ["production", "test"])
def test_anywhere_else_the_link_does_not_exist_and_signs_nobody_in(
    client, settings, installation, environment
):
    settings.CLOUDIFY_ENV = environment

    refused = client.get(f"/dev/sign-in/{HUB}")
    assert refused.status_code == 404

    # Still signed out: the settings page sends the browser through HubSpot's sign-in.
    page = client.get(f"/settings/{HUB}/")
    assert page.status_code == 302
    assert page["Location"].startswith("/hubspot/install")


def test_in_development_a_portal_without_the_app_is_not_found(client, settings):
    settings.CLOUDIFY_ENV = "development"

    assert client.get(f"/dev/sign-in/{HUB}").status_code == 404
    assert client.get(f"/settings/{HUB}/").status_code == 302
