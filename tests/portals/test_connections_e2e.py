"""Connections end to end: a browser, the service (live server) and both sandboxes over HTTP."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection as db_connection
from django.db import connections

from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.errors import (
    FortnoxLicenceMissing,
    FortnoxNeedsReconnect,
    FortnoxScopeMissing,
)
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.errors import HubSpotUninstalled
from integrations.models import FortnoxConnection, HubSpotInstallation
from portals.selectors import connection_status_get
from tests.flows import (
    FORTNOX_COMPANY,
    FORTNOX_NO_ORDER_COMPANY,
    HUB,
    browser_connect_fortnox,
    browser_install,
    csrf_token,
    visible_text,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _company(world, company_id: str) -> dict:
    return next(
        c for c in world.fortnox_admin("GET", "/_sandbox/companies") if c["id"] == company_id
    )


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


@pytest.fixture
def installed(world, browser) -> HubSpotInstallation:
    page = browser_install(world, browser)
    assert page.status_code == 200, page.text
    return HubSpotInstallation.objects.get(hub_id=HUB)


@pytest.fixture
def connected(world, browser, installed) -> FortnoxConnection:
    page = browser_connect_fortnox(world, browser)
    assert page.status_code == 200, page.text
    return FortnoxConnection.objects.get(installation=installed, status="connected")


def test_install_driven_by_hubspot_ends_signed_in_to_that_portal(world):
    result = world.hubspot_admin(
        "POST",
        "/_sandbox/install",
        json={"portal": HUB, "start_url": f"{world.app}/hubspot/install"},
    )

    assert result["status"] == 200
    assert result["final_url"] == f"{world.app}/settings/{HUB}/"
    text = visible_text(result["body"])
    assert f"Settings for HubSpot portal {HUB}" in text
    assert "admin@sandbox.example" in text
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    assert installation.status == "active"
    assert installation.installed_by_email == "admin@sandbox.example"
    assert {"crm.objects.deals.read", "oauth"} <= set(installation.scopes)


def test_the_settings_page_is_never_cached_never_framed_and_keeps_its_style(
    world, browser, installed, connected
):
    page = browser.get(f"{world.app}/settings/{HUB}/", timeout=10)

    assert page.status_code == 200
    assert f"Settings for HubSpot portal {HUB}" in visible_text(page.text)
    # Orders carry every row delivered (issue 13 item 1): the admin is told.
    assert "Orders are created with every row delivered" in visible_text(page.text)
    assert "no-store" in page.headers["Cache-Control"]
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    # The page's one inline <style> carries the nonce the policy allows, so it still applies.
    nonce = re.search(r'<style nonce="([^"]+)">', page.text).group(1)
    assert f"'nonce-{nonce}'" in policy
    assert "'unsafe-inline'" not in policy


def test_portal_answers_are_never_cached(world, browser, installed):
    answers = [
        browser.get(f"{world.app}/hubspot/install", allow_redirects=False, timeout=10),
        browser.get(f"{world.app}/fortnox/connect?portal={HUB}", allow_redirects=False, timeout=10),
        browser.get(f"{world.app}/fortnox/oauth/callback?state=x", timeout=10),
        browser.get(f"{world.app}/settings/9000002/", allow_redirects=False, timeout=10),
    ]
    for answer in answers:
        assert "no-store" in answer.headers["Cache-Control"], answer.url


def test_settings_of_another_portal_need_hubspot_to_vouch_for_the_user(world, browser, installed):
    # Signed in to HUB; another portal's settings send the user through HubSpot's OAuth.
    response = browser.get(f"{world.app}/settings/9000002/", allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert "/hubspot/install" in response.headers["Location"]


def test_a_refused_install_shows_hubspot_reason(world, browser):
    start = browser.get(f"{world.app}/hubspot/install", allow_redirects=False, timeout=10)
    page = browser.get(f"{start.headers['Location']}&sandbox_deny=1", timeout=30)

    assert page.url.startswith(f"{world.app}/hubspot/oauth/callback?")
    assert page.status_code == 400
    text = visible_text(page.text)
    assert "HubSpot did not install the app" in text
    assert "The user declined to connect the app." in text
    assert not HubSpotInstallation.objects.exists()


FORGED = "Your portal is suspended: call +46 8 000 000 and read out your HubSpot password."


def test_an_error_answer_with_a_state_we_did_not_issue_shows_none_of_its_text(world, browser):
    browser.get(f"{world.app}/hubspot/install", allow_redirects=False, timeout=10)
    page = browser.get(
        f"{world.app}/hubspot/oauth/callback",
        params={"error": "access_denied", "error_description": FORGED, "state": "forged"},
        timeout=10,
    )

    assert page.status_code == 400
    text = visible_text(page.text)
    assert "This sign-in link is no longer valid" in text
    assert "suspended" not in text and "access_denied" not in text


def test_an_error_answer_without_a_state_shows_only_our_words(world, browser):
    page = browser.get(
        f"{world.app}/hubspot/oauth/callback",
        params={"error": "access_denied", "error_description": FORGED},
        timeout=10,
    )

    assert page.status_code == 400
    text = visible_text(page.text)
    assert "The installation was cancelled or refused in HubSpot." in text
    assert "suspended" not in text and "access_denied" not in text
    assert not HubSpotInstallation.objects.exists()


def test_a_code_with_a_state_we_did_not_issue_installs_nothing(world, browser):
    start = browser.get(f"{world.app}/hubspot/install", allow_redirects=False, timeout=10)
    approved = browser.get(
        f"{start.headers['Location']}&sandbox_portal={HUB}", allow_redirects=False, timeout=30
    )
    callback = urlsplit(approved.headers["Location"])
    code = parse_qs(callback.query)["code"][0]  # a real code HubSpot issued

    page = browser.get(
        f"{world.app}/hubspot/oauth/callback", params={"code": code, "state": "forged"}, timeout=10
    )

    assert page.status_code == 400
    assert "This sign-in link is no longer valid" in visible_text(page.text)
    assert not HubSpotInstallation.objects.exists()


def test_tokens_are_unreadable_in_the_database(world, installed, connected):
    secrets = [installed.access_token, installed.refresh_token]
    secrets += [connected.access_token, connected.refresh_token]
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM integrations_hubspotinstallation")
        stored = [value for row in cursor.fetchall() for value in row]
        cursor.execute("SELECT access_token, refresh_token FROM integrations_fortnoxconnection")
        stored += [value for row in cursor.fetchall() for value in row]
    assert all(secrets) and len(stored) == 4
    for value in stored:
        for secret in secrets:
            assert secret not in value


def test_fortnox_connect_through_the_consent_stores_the_company(world, browser, installed):
    page = browser_connect_fortnox(world, browser)

    assert page.url == f"{world.app}/settings/{HUB}/"
    company = _company(world, FORTNOX_COMPANY)
    text = visible_text(page.text)
    assert f"Company {company['name']}" in text
    assert f"Organisation number {company['organisation_number']}" in text
    connection = FortnoxConnection.objects.get(installation=installed)
    assert connection.status == "connected"
    assert connection.company_name == company["name"]
    assert set(connection.scopes) >= {"invoice", "order", "customer", "article"}


def test_connecting_another_company_revokes_the_first(world, browser, installed, connected):
    first_token = connected.access_token

    page = browser_connect_fortnox(world, browser, company=FORTNOX_NO_ORDER_COMPANY)

    assert page.status_code == 200
    rows = FortnoxConnection.objects.filter(installation=installed).order_by("pk")
    assert [r.status for r in rows] == ["disconnected", "connected"]
    assert rows[1].company_name == _company(world, FORTNOX_NO_ORDER_COMPANY)["name"]
    assert world.fortnox_admin("GET", "/_sandbox/tokens/stats")["revoked"] >= 1
    old = requests.get(
        f"{world.fortnox}/3/companyinformation",
        headers={"Authorization": f"Bearer {first_token}"},
        timeout=10,
    )
    assert old.status_code == 401


def test_disconnect_revokes_and_forgets_the_tokens_and_keeps_history(world, browser, connected):
    settings_page = browser.get(f"{world.app}/settings/{HUB}/", timeout=10)
    old_token = connected.access_token

    page = browser.post(
        f"{world.app}/fortnox/disconnect",
        data={"portal": HUB, "csrfmiddlewaretoken": csrf_token(settings_page.text)},
        timeout=10,
    )

    assert page.status_code == 200
    assert "No Fortnox company is connected" in visible_text(page.text)
    connected.refresh_from_db()
    assert connected.status == "disconnected"
    assert connected.access_token == "" and connected.refresh_token == ""
    assert connected.company_name  # history stays
    old = requests.get(
        f"{world.fortnox}/3/companyinformation",
        headers={"Authorization": f"Bearer {old_token}"},
        timeout=10,
    )
    assert old.status_code == 401


@pytest.mark.postgres
def test_twenty_concurrent_callers_on_an_expired_token_cause_one_refresh(world, connected):
    if db_connection.vendor != "postgresql":
        pytest.skip("row locking across connections needs PostgreSQL (make test uses it)")
    world.fortnox_admin("POST", "/_sandbox/faults/expire-tokens")
    calls_before = world.fortnox_token_calls().get("refresh_token", 0)
    results: list[object] = []
    barrier = threading.Barrier(20)

    def caller() -> None:
        try:
            barrier.wait()
            results.append(FortnoxClient(connected).company_information()["CompanyName"])
        except Exception as exc:  # recorded and asserted below
            results.append(exc)
        finally:
            connections.close_all()  # each thread had its own database connection

    threads = [threading.Thread(target=caller) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert results == [connected.company_name] * 20
    assert world.fortnox_token_calls().get("refresh_token", 0) - calls_before == 1


def test_a_used_refresh_token_means_needs_reconnect_with_the_fix(world, installed, connected):
    # Someone else used the single-use refresh token (a copy of the app's data, say).
    stolen = requests.post(
        f"{world.fortnox}/oauth-v1/token",
        data={"grant_type": "refresh_token", "refresh_token": connected.refresh_token},
        auth=("sandbox-fortnox-client", "sandbox-fortnox-secret"),
        timeout=10,
    )
    assert stolen.status_code == 200
    world.fortnox_admin("POST", "/_sandbox/faults/expire-tokens")

    with pytest.raises(FortnoxNeedsReconnect) as caught:
        FortnoxClient(connected).company_information()

    assert "Reconnect Fortnox" in caught.value.fix
    connected.refresh_from_db()
    assert connected.status == "needs_reconnect"
    status = connection_status_get(installed)
    assert status["fortnox"]["label"] == "Needs reconnect"
    assert "refused to renew" in status["problem"]
    assert "Reconnect Fortnox" in status["fix"]


def test_missing_licence_names_the_licences(world, browser, installed):
    browser_connect_fortnox(world, browser, company=FORTNOX_NO_ORDER_COMPANY)
    connection = FortnoxConnection.objects.get(installation=installed, status="connected")

    with pytest.raises(FortnoxLicenceMissing) as caught:
        FortnoxClient(connection).document_create(
            "order", {"CustomerNumber": "1", "OrderRows": [{"ArticleNumber": "1"}]}
        )

    assert "Oo (Order & Quote) and Ar" in str(caught.value.message) + caught.value.fix
    assert caught.value.code == "2001101"


def test_missing_scope_names_the_permission(world, installed):
    pair = world.fortnox_admin(
        "POST",
        "/_sandbox/tokens",
        json={"company": FORTNOX_COMPANY, "scopes": ["companyinformation"]},
    )
    connection = FortnoxConnection(installation=installed)
    connection.store_tokens(
        pair["access_token"], pair["refresh_token"], 3600, ["companyinformation"]
    )
    connection.save()

    with pytest.raises(FortnoxScopeMissing) as caught:
        FortnoxClient(connection).customers_search(name="x")

    assert caught.value.code == "2000663"
    assert "Reconnect Fortnox" in caught.value.fix


def test_calls_succeed_after_a_rate_limit_storm(world, connected):
    world.fortnox_admin("POST", "/_sandbox/faults/rate-limit-storm", json={"seconds": 2})
    world.fortnox_admin("DELETE", "/_sandbox/requests")

    info = FortnoxClient(connected).company_information()

    assert info["CompanyName"] == connected.company_name
    statuses = [
        r["status"]
        for r in world.fortnox_admin("GET", "/_sandbox/requests")
        if r["path"] == "/3/companyinformation"
    ]
    assert statuses[0] == 429 and statuses[-1] == 200


def test_hubspot_uninstall_marks_the_installation_uninstalled(world, installed):
    world.hubspot_admin("POST", "/_sandbox/faults/uninstall", json={"portal": HUB})
    world.hubspot_admin("POST", "/_sandbox/faults/expire-tokens")

    with pytest.raises(HubSpotUninstalled) as caught:
        HubSpotClient(installed).call(
            f"deal 1 in portal {HUB}",
            "GET /crm/v3/pipelines/deals",
            lambda c: c.crm.pipelines.pipelines_api.get_all,
            "deals",
        )

    installed.refresh_from_db()
    assert installed.status == "uninstalled"
    assert "Install the app again" in caught.value.fix
    assert connection_status_get(installed)["installation_label"] == "Uninstalled"


def test_first_install_creates_the_apps_fortnox_properties(world, browser, celery_worker_process):
    browser_install(world, browser)
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    token = world.hubspot_admin("POST", "/_sandbox/tokens", json={"portal": HUB})["access_token"]

    def fortnox_properties(object_type: str) -> set[str]:
        answer = requests.get(
            f"{world.hubspot}/crm/v3/properties/{object_type}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        answer.raise_for_status()
        return {p["name"] for p in answer.json()["results"] if p.get("groupName") == "fortnox"}

    deadline = time.monotonic() + 30
    while installation.properties_created_at is None and time.monotonic() < deadline:
        time.sleep(0.2)
        installation.refresh_from_db()

    assert installation.properties_created_at is not None
    assert {"fortnox_document_number", "fortnox_status", "fortnox_last_run"} <= (
        fortnox_properties("deals")
    )
    assert "fortnox_customer_number" in fortnox_properties("companies")
    assert "fortnox_customer_number" in fortnox_properties("contacts")
