"""Who gets in (issue 14): super admins and allowed users edit; a sales rep, refused at HubSpot's
consent, reaches the page through a signed sign-in link and sees it read-only; support staff
see any portal read-only from Django admin. The live service and the HubSpot sandbox over
HTTP; the sandbox signs `hubspot.fetch` calls as HubSpot does."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from integrations.models import HubSpotInstallation
from portals.models import PortalEditor, SettingsChange, SignInLink
from sandbox.hubspot.signing import signed_headers
from tests.flows import HUB, browser_install, csrf_token, visible_text

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_ID, SALES_ID = 501, 502
READ_ONLY = "You can see these settings but not change them."


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


@pytest.fixture
def installed(world, browser) -> HubSpotInstallation:
    page = browser_install(world, browser)  # the sandbox's first user: a super admin
    assert page.status_code == 200, page.text
    return HubSpotInstallation.objects.get(hub_id=HUB)


def mint_link(world, user_id: int, locale: str = "en-us") -> dict:
    """The settings component asks for a sign-in link: a signed hubspot.fetch."""
    answer = world.hubspot_admin(
        "POST",
        "/_sandbox/card-fetch",
        json={
            "portal": HUB,
            "user_id": user_id,
            "location": "settings",
            "method": "POST",
            "path": "/hubspot/sign-in-link",
            "body": {"locale": locale},
        },
    )
    assert answer["status"] == 200, answer
    return answer["body"]


def sign_in_by_link(world, user_id: int, locale: str = "en-us") -> requests.Session:
    session = requests.Session()
    page = session.get(mint_link(world, user_id, locale)["url"], timeout=10)
    assert page.url == f"{world.app}/settings/{HUB}/", page.text
    return session


def users_tab(world, browser) -> requests.Response:
    return browser.get(f"{world.app}/settings/{HUB}/users/", timeout=10)


def allow(world, browser, email: str) -> requests.Response:
    page = users_tab(world, browser)
    return browser.post(
        f"{world.app}/settings/{HUB}/users/",
        data={"csrfmiddlewaretoken": csrf_token(page.text), "email": email},
        timeout=10,
    )


def test_a_super_admin_edits_and_allows_a_user(world, browser, installed):
    page = users_tab(world, browser)
    text = visible_text(page.text)
    assert page.status_code == 200
    assert READ_ONLY not in text
    assert "Super admins admin@sandbox.example" in text
    assert "No users allowed yet." in text

    added = allow(world, browser, "Sales@Sandbox.example")

    assert added.url == f"{world.app}/settings/{HUB}/users/"
    text = visible_text(added.text)
    assert "sales@sandbox.example may now change the settings." in text
    assert "sales@sandbox.example admin@sandbox.example" in text  # the user, allowed by
    change = SettingsChange.objects.get(installation=installed)
    assert (change.email, change.setting, change.old_value, change.new_value) == (
        "admin@sandbox.example",
        "Allowed to change the settings",
        "—",
        "sales@sandbox.example",
    )


def test_an_address_that_is_no_user_of_the_portal_is_refused_naming_the_fix(
    world, browser, installed
):
    page = allow(world, browser, "stranger@elsewhere.example")

    assert page.status_code == 400
    assert (
        f"stranger@elsewhere.example is not a user of HubSpot account {HUB}. Check the address, "
        "or add the user in HubSpot first." in visible_text(page.text)
    )
    assert not PortalEditor.objects.exists()


def test_a_sales_user_is_refused_at_hubspots_consent(world, browser):
    start = browser.get(f"{world.app}/hubspot/install", allow_redirects=False, timeout=10)
    consent = browser.get(
        f"{start.headers['Location']}&sandbox_portal={HUB}&sandbox_user={SALES_ID}", timeout=30
    )

    assert consent.status_code == 400
    assert "sales@sandbox.example cannot install apps" in visible_text(consent.text)
    assert not HubSpotInstallation.objects.exists()


def test_a_sales_user_reaches_the_page_by_a_signed_link_and_only_reads_it(world, installed):
    link = mint_link(world, SALES_ID)
    assert link["url"].startswith(f"{world.app}/sign-in/") and link["expires_in"] == 300
    sales = requests.Session()

    page = sales.get(link["url"], timeout=10)

    assert page.url == f"{world.app}/settings/{HUB}/"
    text = visible_text(page.text)
    assert "sales@sandbox.example" in text
    assert (
        f"{READ_ONLY} Only super admins of this HubSpot account and users a super admin allowed "
        "on the Users tab can change them." in text
    )
    users = users_tab(world, sales)
    assert "Only super admins can allow or remove users." in visible_text(users.text)
    assert 'id="add-editor"' not in users.text
    refused = sales.post(
        f"{world.app}/settings/{HUB}/users/",
        data={"csrfmiddlewaretoken": csrf_token(users.text), "email": "sales@sandbox.example"},
        timeout=10,
    )
    assert refused.status_code == 403
    assert "Only super admins of this HubSpot account" in visible_text(refused.text)
    disconnect = sales.post(
        f"{world.app}/fortnox/disconnect",
        data={"csrfmiddlewaretoken": csrf_token(users.text), "portal": HUB},
        timeout=10,
    )
    assert disconnect.status_code == 403
    connect = sales.get(
        f"{world.app}/fortnox/connect", params={"portal": HUB}, allow_redirects=False, timeout=10
    )
    assert connect.status_code == 403
    assert not PortalEditor.objects.exists()


def test_a_user_a_super_admin_allowed_may_edit(world, browser, installed):
    allow(world, browser, "sales@sandbox.example")
    sales = sign_in_by_link(world, SALES_ID)

    page = sales.get(f"{world.app}/settings/{HUB}/", timeout=10)
    assert READ_ONLY not in visible_text(page.text)
    connect = sales.get(
        f"{world.app}/fortnox/connect", params={"portal": HUB}, allow_redirects=False, timeout=10
    )
    assert connect.status_code == 302
    assert connect.headers["Location"].startswith(f"{world.fortnox}/oauth-v1/auth?")
    # An allowed user edits the settings but does not allow others.
    users = users_tab(world, sales)
    assert 'id="add-editor"' not in users.text

    # Removed by the super admin: read-only at the next sign-in, and at once for changes.
    editor = PortalEditor.objects.get()
    page = users_tab(world, browser)
    removed = browser.post(
        f"{world.app}/settings/{HUB}/users/remove/{editor.pk}",
        data={"csrfmiddlewaretoken": csrf_token(page.text)},
        timeout=10,
    )
    assert "sales@sandbox.example may no longer change the settings." in visible_text(removed.text)
    connect = sales.get(
        f"{world.app}/fortnox/connect", params={"portal": HUB}, allow_redirects=False, timeout=10
    )
    assert connect.status_code == 403
    assert [c.new_value for c in SettingsChange.objects.order_by("id")] == [
        "sales@sandbox.example",
        "—",
    ]


def test_a_link_works_once(world, installed):
    url = mint_link(world, SALES_ID)["url"]
    assert requests.get(url, timeout=10).url == f"{world.app}/settings/{HUB}/"

    again = requests.get(url, timeout=10)

    assert again.status_code == 410
    text = visible_text(again.text)
    assert "This sign-in link has already been used" in text
    assert "press “Open settings” for a new link" in text


def test_an_expired_link_is_refused_with_the_fix(world, installed):
    url = mint_link(world, SALES_ID)["url"]
    # Six minutes pass before the user clicks (links live five).
    SignInLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    page = requests.get(url, timeout=10)

    assert page.status_code == 410
    assert "This sign-in link has expired" in visible_text(page.text)
    assert f"/settings/{HUB}/" not in page.url


def test_a_link_in_hubspots_swedish_opens_the_page_in_swedish(world, installed):
    session = requests.Session()
    page = session.get(mint_link(world, SALES_ID, locale="sv-se")["url"], timeout=10)

    assert session.cookies.get("django_language") == "sv"
    assert '<html lang="sv"' in page.text
    assert (
        "Bara superadministratörer i det här HubSpot-kontot och användare som en "
        "superadministratör gett behörighet under fliken Användare kan ändra dem."
        in visible_text(page.text)
    )


def test_unsigned_or_forged_link_requests_are_refused(world, installed):
    url = f"{world.app}/hubspot/sign-in-link?userId={ADMIN_ID}&portalId={HUB}&appId=1001"
    body = '{"locale":"en"}'
    unsigned = requests.post(url, data=body, timeout=10)
    now_ms = int(time.time() * 1000)
    wrong_secret = requests.post(
        url,
        data=body,
        headers=signed_headers("card", "not-the-secret", "POST", url, body, now_ms),
        timeout=10,
    )
    # Signed for the sales rep, sent for the admin.
    signed_for = url.replace(f"userId={ADMIN_ID}", f"userId={SALES_ID}")
    secret = world.hubspot_admin("GET", "/_sandbox/app")["client_secret"]
    swapped = requests.post(
        url,
        data=body,
        headers=signed_headers("card", secret, "POST", signed_for, body, now_ms),
        timeout=10,
    )
    stale = requests.post(
        url,
        data=body,
        headers=signed_headers("card", secret, "POST", url, body, now_ms - 6 * 60 * 1000),
        timeout=10,
    )
    genuine = requests.post(
        url,
        data=body,
        headers=signed_headers("card", secret, "POST", url, body, now_ms),
        timeout=10,
    )

    for refused in (unsigned, wrong_secret, swapped, stale):
        assert refused.status_code == 401, refused.text
        assert "url" not in refused.json()
    assert genuine.status_code == 200 and genuine.json()["url"]
    assert SignInLink.objects.count() == 1


def test_a_link_for_a_portal_without_the_app_is_refused(world, installed):
    answer = world.hubspot_admin(
        "POST",
        "/_sandbox/card-fetch",
        json={
            "portal": 9000002,
            "user_id": 601,
            "location": "settings",
            "method": "POST",
            "path": "/hubspot/sign-in-link",
        },
    )
    assert answer["status"] == 404
    assert answer["body"] == {"error": "the app is not installed in this HubSpot account"}


def test_without_the_users_scope_the_oauth_user_edits_and_is_offered_to_authorise_again(
    world, browser
):
    world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{HUB}/account",
        json={"withheld_scopes": ["settings.users.read"]},
    )
    browser_install(world, browser)
    assert "settings.users.read" not in HubSpotInstallation.objects.get().scopes

    page = users_tab(world, browser)

    text = visible_text(page.text)
    assert READ_ONLY not in text
    assert "The app cannot see who is a super admin in HubSpot" in text
    assert 'id="add-editor"' in page.text
    offer = browser.get(
        f"{world.app}/hubspot/install", params={"portal": HUB}, allow_redirects=False, timeout=10
    )
    assert "settings.users.read" in requests.utils.unquote(offer.headers["Location"])
    # A sales rep by link cannot be told apart from a super admin: read-only, saying why.
    sales = sign_in_by_link(world, SALES_ID)
    text = visible_text(sales.get(f"{world.app}/settings/{HUB}/", timeout=10).text)
    assert "The app has no permission to see who is a super admin in HubSpot" in text

    # Authorised again with the scope: the user is now known to be a super admin.
    world.hubspot_admin("PATCH", f"/_sandbox/portals/{HUB}/account", json={"withheld_scopes": []})
    browser_install(world, browser)
    text = visible_text(users_tab(world, browser).text)
    assert "Super admins admin@sandbox.example" in text
    assert "The app cannot see who is a super admin" not in text


def test_support_staff_see_any_portal_read_only_from_django_admin(world, installed):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(
        "support", password="s3cret-pass!", is_staff=True, is_superuser=True
    )
    staff = requests.Session()
    login = staff.get(f"{world.app}/admin/login/", timeout=10)
    staff.post(
        f"{world.app}/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": csrf_token(login.text),
            "username": "support",
            "password": "s3cret-pass!",
            "next": "/admin/",
        },
        timeout=10,
    )
    admin_page = staff.get(
        f"{world.app}/admin/integrations/hubspotinstallation/{installed.pk}/change/", timeout=10
    )
    assert "Open read-only" in admin_page.text

    page = staff.get(f"{world.app}/settings/{HUB}/", timeout=10)

    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Support staff (read-only)" in text
    assert "You are looking as support staff" in text
    users = users_tab(world, staff)
    assert users.status_code == 200
    for path in (f"/settings/{HUB}/users/", "/fortnox/disconnect"):
        refused = staff.post(
            f"{world.app}{path}",
            data={"csrfmiddlewaretoken": csrf_token(users.text), "portal": HUB, "email": "x@y.se"},
            timeout=10,
        )
        assert refused.status_code == 403, path
        assert "You are looking as support staff" in visible_text(refused.text)
    assert not PortalEditor.objects.exists()


def test_an_installer_who_is_not_a_super_admin_only_reads_once_hubspot_tells_roles(world, browser):
    # Marketplace Access lets a user install, but only super admins and allowed users edit.
    world.hubspot_admin(
        "POST",
        f"/_sandbox/portals/{HUB}/users",
        json={"id": 503, "email": "ops@sandbox.example", "marketplace_access": True},
    )
    start = browser.get(f"{world.app}/hubspot/install", allow_redirects=False, timeout=10)
    page = browser.get(
        f"{start.headers['Location']}&sandbox_portal={HUB}&sandbox_user=503", timeout=30
    )

    assert page.url == f"{world.app}/settings/{HUB}/"
    text = visible_text(page.text)
    assert "ops@sandbox.example" in text
    assert f"{READ_ONLY} Only super admins of this HubSpot account" in text
    assert HubSpotInstallation.objects.get().installed_by_email == "ops@sandbox.example"


def test_the_settings_component_reads_the_connection_state(world, installed):
    answer = world.hubspot_admin(
        "POST",
        "/_sandbox/card-fetch",
        json={
            "portal": HUB,
            "user_id": SALES_ID,
            "location": "settings",
            "method": "GET",
            "path": "/hubspot/settings-status",
        },
    )

    assert answer["status"] == 200
    assert answer["body"]["fortnox"]["status"] == "not_connected"
    assert answer["body"]["problem"] == "Fortnox is not connected."
    unsigned = requests.get(
        f"{world.app}/hubspot/settings-status?portalId={HUB}&userId={SALES_ID}", timeout=10
    )
    assert unsigned.status_code == 401
