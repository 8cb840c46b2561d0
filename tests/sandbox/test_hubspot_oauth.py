"""The HubSpot sandbox's OAuth: authorize → code → token, refresh, introspection, uninstall."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hubspot.utils.oauth import get_auth_url

from sandbox.hubspot.testing import admin, sdk

CLIENT_ID = "sandbox-hubspot-client"
SECRET = "sandbox-hubspot-secret"
REDIRECT = "http://app.test/hubspot/oauth/callback"


@pytest.fixture
def app_config(hubspot_url):
    return admin(hubspot_url, "POST", "/_sandbox/app", json={"redirect_uri": REDIRECT})


def authorize_url(base, config, **overrides):
    url = get_auth_url(
        overrides.pop("client_id", CLIENT_ID),
        overrides.pop("redirect_uri", REDIRECT),
        scope=overrides.pop("scope", tuple(config["required_scopes"])),
        optional_scope=tuple(config["optional_scopes"]),
        state="xyz",
    )
    return url.replace("https://app.hubspot.com", base)


def code_for(base, config, portal=9000001):
    response = requests.get(
        f"{authorize_url(base, config)}&sandbox_portal={portal}", allow_redirects=False, timeout=5
    )
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def exchange(base, code, **overrides):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        **overrides,
    }
    return requests.post(f"{base}/oauth/v1/token", data=form, timeout=5)


def test_consent_page_lists_the_portals(hubspot_url, app_config):
    page = requests.get(authorize_url(hubspot_url, app_config), timeout=5)
    assert page.status_code == 200
    assert "Sandbox Demo AB (9000001)" in page.text and "9000002" in page.text


def test_code_flow_through_the_sdk(hubspot_url, app_config):
    code = code_for(hubspot_url, app_config)
    client = sdk(hubspot_url)
    tokens = client.oauth.tokens_api.create(
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_id=CLIENT_ID,
        client_secret=SECRET,
    )
    assert tokens.token_type == "bearer" and tokens.expires_in == 1800
    info = client.oauth.access_tokens_api.get(tokens.access_token)
    assert info.hub_id == 9000001 and info.user == "admin@sandbox.example" and info.user_id == 501
    assert info.app_id == 1001 and info.token_type == "access"
    assert {"oauth", "crm.objects.deals.read", "automation"} <= set(info.scopes)
    refresh_info = client.oauth.refresh_tokens_api.get(tokens.refresh_token)
    assert refresh_info.client_id == CLIENT_ID and refresh_info.hub_id == 9000001
    # The code is single-use.
    again = exchange(hubspot_url, code)
    assert again.status_code == 400 and again.json()["status"] == "BAD_AUTH_CODE"
    deals = sdk(hubspot_url, tokens.access_token).crm.deals.basic_api.get_page()
    assert deals.results
    assert admin(hubspot_url, "GET", "/_sandbox/portals/9000001")["installed"] is True


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"redirect_uri": "http://evil.test/cb"}, "invalid_redirect_uri"),
        ({"scope": ("oauth", "crm.objects.deals.read")}, "invalid_scope"),
        ({"scope": ("oauth", "tickets")}, "invalid_scope"),
    ],
)
def test_authorize_refuses_bad_requests_with_an_error_page(hubspot_url, app_config, change, error):
    url = authorize_url(hubspot_url, app_config, **change)
    response = requests.get(f"{url}&sandbox_portal=9000001", allow_redirects=False, timeout=5)
    assert response.status_code == 400
    assert response.headers["X-HubSpot-Sandbox-Error"] == error
    assert "Location" not in response.headers
    if error == "invalid_scope":
        assert "mismatch between the scopes" in response.text


def test_denied_consent_redirects_with_an_error(hubspot_url, app_config):
    response = requests.get(
        f"{authorize_url(hubspot_url, app_config)}&sandbox_deny=1", allow_redirects=False, timeout=5
    )
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["xyz"]


def test_token_errors(hubspot_url, app_config):
    code = code_for(hubspot_url, app_config)
    assert (
        exchange(hubspot_url, code, client_secret="wrong").json()["status"] == "BAD_CLIENT_SECRET"
    )
    assert (
        exchange(hubspot_url, code, redirect_uri="http://x.test/").json()["status"]
        == "BAD_REDIRECT_URI"
    )
    body = exchange(hubspot_url, "not-a-code").json()
    assert body["status"] == "BAD_AUTH_CODE" and body["message"] and body["correlationId"]


def test_refresh_is_reusable_until_uninstall(hubspot_url, app_config):
    tokens = exchange(hubspot_url, code_for(hubspot_url, app_config)).json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
    }
    first = requests.post(f"{hubspot_url}/oauth/v1/token", data=form, timeout=5).json()
    second = requests.post(f"{hubspot_url}/oauth/v1/token", data=form, timeout=5).json()
    assert first["refresh_token"] == second["refresh_token"] == tokens["refresh_token"]
    assert first["access_token"] != second["access_token"]
    stats = admin(hubspot_url, "GET", "/_sandbox/tokens/stats")
    assert stats["token_calls"] == {"authorization_code": 1, "refresh_token": 2}

    admin(hubspot_url, "POST", "/_sandbox/faults/uninstall", json={"portal": 9000001})
    refused = requests.post(f"{hubspot_url}/oauth/v1/token", data=form, timeout=5)
    assert refused.status_code == 400
    body = refused.json()
    assert (
        body["status"] == "BAD_REFRESH_TOKEN"
        and body["message"] == "missing or unknown refresh token"
    )
    api = requests.get(
        f"{hubspot_url}/crm/v3/objects/deals",
        headers={"Authorization": f"Bearer {second['access_token']}"},
        timeout=5,
    )
    assert api.status_code == 401
    assert admin(hubspot_url, "GET", "/_sandbox/tokens/stats")["refused"] == {"refresh_token": 1}


def test_the_app_uninstalls_itself(hubspot_url, app_config):
    tokens = exchange(hubspot_url, code_for(hubspot_url, app_config)).json()
    response = requests.delete(
        f"{hubspot_url}/appinstalls/v3/external-install",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert response.status_code == 204
    assert admin(hubspot_url, "GET", "/_sandbox/portals/9000001")["installed"] is False
    refused = requests.post(
        f"{hubspot_url}/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
        },
        timeout=5,
    )
    assert refused.json()["status"] == "BAD_REFRESH_TOKEN"


def test_deleting_the_refresh_token_keeps_the_access_token(hubspot_url, app_config):
    tokens = exchange(hubspot_url, code_for(hubspot_url, app_config)).json()
    sdk(hubspot_url).oauth.refresh_tokens_api.archive(tokens["refresh_token"])
    info = requests.get(f"{hubspot_url}/oauth/v1/access-tokens/{tokens['access_token']}", timeout=5)
    assert info.status_code == 200 and info.json()["hub_id"] == 9000001
    gone = requests.get(
        f"{hubspot_url}/oauth/v1/refresh-tokens/{tokens['refresh_token']}", timeout=5
    )
    assert gone.status_code == 404


def test_expired_token_introspection(hubspot_url, app_config):
    tokens = exchange(hubspot_url, code_for(hubspot_url, app_config)).json()
    admin(hubspot_url, "POST", "/_sandbox/faults/expire-tokens")
    info = requests.get(f"{hubspot_url}/oauth/v1/access-tokens/{tokens['access_token']}", timeout=5)
    assert info.status_code == 401 and json.loads(info.text)["category"] == "EXPIRED_AUTHENTICATION"
