"""The Products tab's product sync settings end to end (issue 15): a signed-in browser, the service
and both sandboxes over HTTP. Product sync is off until the admin turns it on; the price list is
picked from the connected Fortnox company's price lists (typed when they cannot be read); the
change is recorded in the history; a name-search portal is told what syncing by name means."""

from __future__ import annotations

import pytest

from integrations.models import FortnoxConnection, HubSpotInstallation
from portals.models import SettingsChange
from sync.models import SyncSettings
from tests.flows import HUB, Portal, browser_connect_fortnox, visible_text
from tests.portals.settings_forms import form_read, form_submit, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(world):
    browser = signed_in(world)
    assert browser_connect_fortnox(world, browser).status_code == 200
    yield browser
    browser.close()


def _url(world) -> str:
    return f"{world.app}/settings/{HUB}/products/"


def _settings() -> SyncSettings:
    return SyncSettings.objects.get(installation=HubSpotInstallation.objects.get(hub_id=HUB))


def test_product_sync_is_off_until_turned_on_with_a_price_list_of_the_company(world, browser):
    bookkeeper = Portal(world, hub=HUB)
    created = bookkeeper.fortnox_api(
        "POST", "pricelists", json={"PriceList": {"Code": "B", "Description": "Återförsäljare"}}
    )
    assert created.status_code == 201, created.text

    page = browser.get(_url(world), timeout=30)
    assert page.status_code == 200
    values, options = form_read(page.text, "products-form")
    assert "product_sync" not in values  # the box is not ticked: off by default
    assert values["price_list"] == "A"
    assert ("B", "B · Återförsäljare") in options["price_list"]
    text = visible_text(page.text)
    assert "Sync products to Fortnox articles" in text
    assert "its article is made inactive" in text
    assert "a product without a SKU is skipped" in text

    saved = form_submit(browser, _url(world), "products-form", product_sync="on", price_list="B")

    assert saved.status_code == 200 and "Saved." in visible_text(saved.text)
    values, _options = form_read(saved.text, "products-form")
    assert (values["product_sync"], values["price_list"]) == ("on", "B")
    assert (_settings().product_sync, _settings().price_list) == (True, "B")
    changes = {
        c.setting: (c.old_value, c.new_value, c.section) for c in SettingsChange.objects.all()
    }
    assert changes["price list"] == ("A", "B", "Products")
    assert changes["product sync"][2] == "Products"
    assert changes["product sync"][0] != changes["product sync"][1]

    turned_off = form_submit(browser, _url(world), "products-form", product_sync=None)
    assert turned_off.status_code == 200
    assert _settings().product_sync is False


def test_without_the_price_permission_the_price_list_is_typed(world, browser):
    connection = FortnoxConnection.objects.get(status="connected")
    token = world.fortnox_admin(
        "POST",
        "/_sandbox/tokens",
        json={"company": "1", "scopes": [s for s in connection.scopes if s != "price"]},
    )
    connection.store_tokens(
        token["access_token"], token["refresh_token"], token["expires_in"], token["scope"].split()
    )
    connection.save()

    page = browser.get(_url(world), timeout=30)
    values, options = form_read(page.text, "products-form")
    assert "price_list" not in options  # a text field, not a list
    assert values["price_list"] == "A"
    assert "The company's price lists could not be read" in visible_text(page.text)

    refused = form_submit(browser, _url(world), "products-form", price_list="  ")
    assert refused.status_code == 400
    assert "Price list: enter the code of a Fortnox price list" in visible_text(refused.text)
    saved = form_submit(browser, _url(world), "products-form", price_list="C")
    assert saved.status_code == 200
    assert _settings().price_list == "C"


def test_a_name_search_portal_is_told_what_syncing_by_name_means(world, browser):
    form_submit(browser, _url(world), "products-form", article_search="name")

    text = visible_text(browser.get(_url(world), timeout=30).text)

    assert "products are synced by name too" in text
    assert "If several active articles have the same name, the sync fails naming them" in text


def test_the_product_sync_settings_speak_swedish(world, browser):
    browser.headers["Accept-Language"] = "sv"

    text = visible_text(browser.get(_url(world), timeout=30).text)

    assert "Synka produkter till artiklar i Fortnox" in text
    assert "en produkt utan SKU hoppas över" in text
