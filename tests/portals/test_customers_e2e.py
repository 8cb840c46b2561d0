"""The Customers tab end to end: the preference and the optional matching rules, saved from the
page, decide which Fortnox customer the next document goes to (read back from the sandbox)."""

from __future__ import annotations

import pytest

from tests.flows import Portal, visible_text
from tests.portals.settings_forms import form_read, form_submit, signed_in
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {"name": "Consulting", "quantity": "2", "price": "500", "hs_sku": "1"}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def _save(world, portal: Portal, **changes):
    url = f"{world.app}/settings/{portal.hub}/customers/"
    with signed_in(world, portal.hub) as browser:
        answer = form_submit(browser, url, "customers-form", **changes)
        assert answer.status_code == 200, answer.text
        assert "Saved." in visible_text(answer.text)
        return form_read(answer.text, "customers-form")[0]


def _invoice_customer(portal: Portal, deal: str) -> dict:
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    return portal.fortnox_record("customers", invoice["CustomerNumber"])


def test_the_page_explains_the_fixed_rules(world, portal):
    with signed_in(world, portal.hub) as browser:
        text = visible_text(browser.get(f"{world.app}/settings/{portal.hub}/customers/").text)

    assert "Never by invoice e-mail" in text
    assert "found by its organisation number" in text
    assert "Fortnox customer number" in text


def test_preferring_the_contact_invoices_the_contact_of_a_deal_with_both(world, portal):
    shown = _save(world, portal, customer_preference="contact")
    assert shown["customer_preference"] == "contact"
    company = portal.create("companies", {"name": "Bolaget AB"})
    contact = portal.create(
        "contacts", {"firstname": "Lisa", "lastname": "Lind", "email": "lisa@example.se"}
    )

    customer = _invoice_customer(portal, portal.deal([LINE], company=company, contact=contact))

    assert (customer["Name"], customer["Type"]) == ("Lisa Lind", "PRIVATE")


def test_with_name_matching_off_a_namesake_company_becomes_a_new_customer(world, portal):
    existing = portal.fortnox_api(
        "POST", "customers", json={"Customer": {"Name": "Namne AB", "Type": "COMPANY"}}
    ).json()["Customer"]
    shown = _save(world, portal, match_by_name=None)
    assert "match_by_name" not in shown  # the box shows unticked
    company = portal.create("companies", {"name": "Namne AB"})

    customer = _invoice_customer(portal, portal.deal([LINE], company=company))

    assert customer["CustomerNumber"] != existing["CustomerNumber"]
    assert customer["Name"] == "Namne AB"


def test_with_email_matching_off_a_contact_becomes_a_new_customer(world, portal):
    email = "kim@hemma.example"
    person = portal.fortnox_api(
        "POST",
        "customers",
        json={"Customer": {"Name": "Kim Berg", "Email": email, "Type": "PRIVATE"}},
    ).json()["Customer"]
    _save(world, portal, match_contact_by_email=None)
    contact = portal.create("contacts", {"firstname": "Kim", "lastname": "Berg", "email": email})

    customer = _invoice_customer(portal, portal.deal([LINE], contact=contact))

    assert customer["CustomerNumber"] != person["CustomerNumber"]
    assert customer["Email"] == email


def test_the_tab_speaks_swedish(world):
    with signed_in(world) as browser:
        browser.headers["Accept-Language"] = "sv"
        text = visible_text(browser.get(f"{world.app}/settings/9000001/customers/").text)

    assert "Regler som alltid gäller" in text
    assert "Aldrig på fakturamejl" in text
