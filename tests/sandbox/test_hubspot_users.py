"""The HubSpot sandbox's users: the settings users API through the official SDK, and who may
complete the OAuth consent (super admins and users with Marketplace Access only)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hubspot.settings.users.exceptions import ApiException

from sandbox.hubspot.testing import admin, sdk, token
from tests.sandbox.test_hubspot_oauth import REDIRECT, authorize_url, exchange

HUB = 9000001


@pytest.fixture
def app_config(hubspot_url):
    return admin(hubspot_url, "POST", "/_sandbox/app", json={"redirect_uri": REDIRECT})


def test_the_users_api_tells_super_admins_apart_and_finds_users_by_email(hubspot_url):
    users = sdk(hubspot_url, token(hubspot_url)).settings.users.users_api

    admin_user = users.get_by_id("501")
    sales = users.get_by_id("SALES@sandbox.example", id_property="EMAIL")
    page = users.get_page(limit=1)

    assert (admin_user.email, admin_user.super_admin, admin_user.role_ids) == (
        "admin@sandbox.example",
        True,
        [],
    )
    assert (sales.id, sales.super_admin, sales.role_ids) == ("502", False, ["7001"])
    assert [u.email for u in page.results] == ["admin@sandbox.example"]
    assert page.paging.next.after
    rest = users.get_page(limit=100, after=page.paging.next.after)
    assert [u.email for u in rest.results] == ["sales@sandbox.example"]
    assert rest.paging is None
    with pytest.raises(ApiException) as missing:
        users.get_by_id("nobody@sandbox.example", id_property="EMAIL")
    assert missing.value.status == 404


def test_the_users_api_needs_its_scope(hubspot_url):
    without = token(hubspot_url, scopes=["oauth", "crm.objects.deals.read"])
    with pytest.raises(ApiException) as refused:
        sdk(hubspot_url, without).settings.users.users_api.get_by_id("501")
    assert refused.value.status == 403
    assert "MISSING_SCOPES" in refused.value.body


def test_a_user_without_marketplace_access_is_refused_the_consent(hubspot_url, app_config):
    refused = requests.get(
        f"{authorize_url(hubspot_url, app_config)}&sandbox_portal={HUB}&sandbox_user=502",
        allow_redirects=False,
        timeout=5,
    )
    admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/users",
        json={"id": 503, "email": "ops@sandbox.example", "marketplace_access": True},
    )
    allowed = requests.get(
        f"{authorize_url(hubspot_url, app_config)}&sandbox_portal={HUB}&sandbox_user=503",
        allow_redirects=False,
        timeout=5,
    )

    assert refused.status_code == 400
    assert refused.headers["X-HubSpot-Sandbox-Error"] == "insufficient_permissions"
    assert "sales@sandbox.example cannot install apps" in refused.text
    assert allowed.status_code == 302
    code = parse_qs(urlsplit(allowed.headers["Location"]).query)["code"][0]
    tokens = exchange(hubspot_url, code).json()
    info = requests.get(
        f"{hubspot_url}/oauth/v1/access-tokens/{tokens['access_token']}", timeout=5
    ).json()
    assert (info["user"], info["user_id"]) == ("ops@sandbox.example", 503)


def test_the_consent_page_offers_each_user(hubspot_url, app_config):
    page = requests.get(authorize_url(hubspot_url, app_config), timeout=5)

    assert f"sandbox_portal={HUB}&amp;sandbox_user=502'>as sales@sandbox.example" in page.text


def test_a_withheld_optional_scope_is_not_granted(hubspot_url, app_config):
    admin(
        hubspot_url,
        "PATCH",
        f"/_sandbox/portals/{HUB}/account",
        json={"withheld_scopes": ["settings.users.read"]},
    )
    granted = requests.get(
        f"{authorize_url(hubspot_url, app_config)}&sandbox_portal={HUB}",
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(granted.headers["Location"]).query)["code"][0]

    scopes = exchange(hubspot_url, code).json()
    info = requests.get(
        f"{hubspot_url}/oauth/v1/access-tokens/{scopes['access_token']}", timeout=5
    ).json()
    assert "settings.users.read" in app_config["optional_scopes"]
    assert "settings.users.read" not in info["scopes"]
    assert "automation" in info["scopes"]
