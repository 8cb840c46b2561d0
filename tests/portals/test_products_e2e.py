"""The Products tab end to end: a signed-in browser, the service (live server) and both
sandboxes over HTTP. The default article is picked from the connected Fortnox company's own
articles; what cannot work is refused with the field and the fix."""

from __future__ import annotations

import pytest

from integrations.models import FortnoxConnection
from portals.models import SettingsChange
from tests.flows import HUB, browser_connect_fortnox, visible_text
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


def test_the_default_article_is_searched_in_fortnox_picked_and_saved(world, browser):
    # Without JavaScript: the search form lists the company's matching articles.
    page = browser.get(_url(world), params={"article_q": "licens"}, timeout=30)
    assert page.status_code == 200
    _values, options = form_read(page.text, "products-form")
    assert ("2", "2 · Licens, månad") in options["default_article_number"]
    assert "1 article found." in visible_text(page.text)
    # The company's unit register is what the unit can be.
    assert ("h", "h · timmar") in options["new_article_unit"]

    saved = browser.post(
        _url(world) + "?article_q=licens",
        data={
            **form_read(page.text, "products-form")[0],
            "not_found_policy": "default_article",
            "default_article_number": "2",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": _url(world)},
        timeout=30,
    )

    assert saved.status_code == 200 and "Saved." in visible_text(saved.text)
    values, options = form_read(saved.text, "products-form")
    assert values["not_found_policy"] == "default_article"
    assert values["default_article_number"] == "2"
    assert ("2", "2 · Licens, månad") in options["default_article_number"]
    change = SettingsChange.objects.get(setting="default article number")
    assert (change.old_value, change.new_value, change.section) == ("—", "2", "Products")


def test_the_picker_searches_the_company_articles_as_json(world, browser):
    answer = browser.get(f"{_url(world)}articles.json", params={"q": "hand"}, timeout=30)

    assert answer.status_code == 200
    assert answer.json() == {"articles": [{"number": "3", "label": "3 · Handbok"}]}


def test_a_default_article_policy_without_a_default_article_is_refused(world, browser):
    answer = form_submit(browser, _url(world), "products-form", not_found_policy="default_article")

    assert answer.status_code == 400
    assert (
        "Default article: the chosen policy uses the default article, but none is chosen."
        in visible_text(answer.text)
    )
    values, _options = form_read(browser.get(_url(world), timeout=30).text, "products-form")
    assert values["not_found_policy"] == "skip"  # nothing saved


def test_an_article_the_company_does_not_have_is_refused(world, browser):
    answer = form_submit(
        browser,
        _url(world),
        "products-form",
        no_line_items_policy="default_row",
        default_article_number="NOPE-99",
    )

    assert answer.status_code == 400
    assert "the connected Fortnox company has no article NOPE-99" in visible_text(answer.text)
    values, _options = form_read(browser.get(_url(world), timeout=30).text, "products-form")
    assert values["no_line_items_policy"] == "fail"
    assert values["default_article_number"] == ""


def test_a_sales_account_outside_the_sales_accounts_is_refused(world, browser):
    answer = form_submit(browser, _url(world), "products-form", new_article_sales_account="4010")

    assert answer.status_code == 400
    assert "Sales account: '4010' is not a sales account." in visible_text(answer.text)


def test_the_tab_speaks_swedish_with_swedish_errors(world, browser):
    browser.headers["Accept-Language"] = "sv"
    page = browser.get(_url(world), timeout=30)
    assert "Produkter och artiklar i Fortnox" in visible_text(page.text)
    assert "Försäljningskonto" in visible_text(page.text)

    answer = form_submit(browser, _url(world), "products-form", not_found_policy="default_article")

    assert answer.status_code == 400
    assert "Standardartikel: det valda alternativet använder standardartikeln" in visible_text(
        answer.text
    )


def test_with_the_bookkeeping_permission_the_sales_account_is_picked_from_the_chart(world, browser):
    # A connection granted `bookkeeping` (the app does not ask for it by default): tokens the
    # sandbox issues for the same company with that scope as well.
    connection = FortnoxConnection.objects.get(status="connected")
    token = world.fortnox_admin(
        "POST",
        "/_sandbox/tokens",
        json={"company": "1", "scopes": [*connection.scopes, "bookkeeping"]},
    )
    connection.store_tokens(
        token["access_token"], token["refresh_token"], token["expires_in"], token["scope"].split()
    )
    connection.save()

    page = browser.get(_url(world), timeout=30)
    _values, options = form_read(page.text, "products-form")
    numbers = [value for value, _text in options["new_article_sales_account"]]
    assert numbers == ["", "3001", "3002", "3003", "3004", "3041", "3105", "3106", "3108"]
    assert ("3002", "3002 · Försäljning inom Sverige, 12 % moms") in options[
        "new_article_sales_account"
    ]

    refused = form_submit(browser, _url(world), "products-form", new_article_sales_account="1930")
    assert refused.status_code == 400
    saved = form_submit(browser, _url(world), "products-form", new_article_sales_account="3002")
    assert saved.status_code == 200
    assert form_read(saved.text, "products-form")[0]["new_article_sales_account"] == "3002"
