"""The Field mappings tab end to end: the portal's real HubSpot properties to pick from, each
Fortnox field's limits, mappings that would break Fortnox's rules refused with the reason, and a
saved mapping reaching the next document (read back from the Fortnox sandbox)."""

from __future__ import annotations

import pytest

from tests.flows import Portal, visible_text
from tests.portals.settings_forms import form_read, form_submit, signed_in
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


@pytest.fixture
def browser(world, portal):
    with signed_in(world, portal.hub) as browser:
        yield browser


def _url(world, portal: Portal) -> str:
    return f"{world.app}/settings/{portal.hub}/mappings/"


def test_the_page_offers_the_portals_properties_and_shows_each_fields_limits(
    world, portal, browser
):
    page = browser.get(_url(world, portal), timeout=30)

    assert page.status_code == 200
    values, options = form_read(page.text, "mappings-form")
    assert values["company__Name"] == "name"  # the default mapping
    assert ("name", "Company name (name)") in options["company__Name"]
    assert ("dealname", "Deal Name (dealname)") in options["document__YourReference"]
    assert ("hs_sku", "SKU (hs_sku)") in options["row__Description"]
    text = visible_text(page.text)
    assert "YourReference Deal Name (dealname)" not in text  # nothing mapped by default
    assert "Up to 50 characters." in text  # YourReference, OurReference
    assert "A three-letter currency code" in text
    # From the HubSpot project's webhook subscriptions: the company's mapped name and city.
    assert "HubSpot tells the app at once when these mapped properties change" in text
    automatic = text.split("or a bulk sync:")[1].split("Changes to other")[0]
    assert "Customer, from the deal's company:" in automatic and "city" in automatic
    assert "dealname" not in automatic and "description" not in automatic


def test_a_saved_mapping_fills_the_next_document(world, portal, browser):
    saved = form_submit(
        browser, _url(world, portal), "mappings-form", document__YourOrderNumber="dealname"
    )

    assert saved.status_code == 200 and "Saved." in visible_text(saved.text)
    assert form_read(saved.text, "mappings-form")[0]["document__YourOrderNumber"] == "dealname"
    deal = portal.deal(
        [{"name": "Consulting", "quantity": "1", "price": "500", "hs_sku": "1"}], name="PO 4711"
    )
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert invoice["YourOrderNumber"] == "PO 4711"


# Each bad mapping and the reason the page gives; one form, so each error shows by its field.
REFUSED = {
    "company__City": ("no_such_property", "HubSpot has no companies property 'no_such_property'"),
    "contact__ZipCode": ("createdate", "'createdate' is a datetime property, up to 24 characters"),
    "company__CountryCode": (
        "numberofemployees",
        "'numberofemployees' is a number property; CountryCode takes a code.",
    ),
    "document__Language": (
        "dealtype",
        "the option 'newbusiness' of 'dealtype' is not a value Fortnox accepts in Language",
    ),
    "contact__Phone2": ("hs_object_id", None),  # a number in a long field is fine
    "company__Phone2": ("annualrevenue", None),
    "company__ZipCode": (
        "lifecyclestage",
        "the option 'marketingqualifiedlead' of 'lifecyclestage' is 22 characters long; "
        "Fortnox allows 10 in ZipCode.",
    ),
    "company__Name": ("", "Fortnox needs a customer name"),
}


def test_mappings_that_can_break_fortnox_rules_are_refused_with_the_reason(world):
    url = f"{world.app}/settings/{Portal.hub}/mappings/"
    with signed_in(world) as browser:
        before = form_read(browser.get(url, timeout=30).text, "mappings-form")[0]
        answer = form_submit(
            browser, url, "mappings-form", **{f: prop for f, (prop, _why) in REFUSED.items()}
        )

        assert answer.status_code == 400
        # The list of reasons at the top of the page.
        text = visible_text(answer.text).split("The mappings were not saved:")[1]
        text = text.split("When changes reach Fortnox")[0]
        for _field, (_prop, why) in REFUSED.items():
            if why:
                assert why in text
        assert "hs_object_id" not in text and "annualrevenue" not in text
        after = form_read(browser.get(url, timeout=30).text, "mappings-form")[0]
    assert after == before  # nothing saved
