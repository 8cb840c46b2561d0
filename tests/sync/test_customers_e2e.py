"""Which Fortnox customer a deal is invoiced to, end to end (issue 13, items 4, 5, 6, 7, 10, 15):
each test reads the customer and the document back from the Fortnox sandbox and compares them
with the records in the HubSpot sandbox."""

from __future__ import annotations

import pytest
import requests

from sync.models import Run, RunStep
from tests.flows import (
    FORTNOX_NO_ORDER_COMPANY,
    Portal,
    browser_connect_fortnox,
    browser_install,
)
from tests.sync.test_customer_sync_e2e import wait_for_event
from tests.sync.test_money_e2e import D, line_amounts, row_nets
from tests.sync.test_runs_e2e import (
    configure,
    needs_shared_tools,
    note_text,
    portal_ready,
    requests_audited,
    wait_for_runs,
)

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {"name": "Consulting", "quantity": "2", "price": "500", "hs_sku": "1"}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def invoiced(portal: Portal, deal: str) -> tuple[dict, dict]:
    """The run's invoice and its customer, as Fortnox stores them."""
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    return invoice, portal.fortnox_record("customers", invoice["CustomerNumber"])


def fortnox_customer_calls(deal: str) -> list[str]:
    return [
        f"{step.method} {step.path}"
        for step in RunStep.objects.filter(run__subject_id=deal, kind="call", service="fortnox")
        if "customers" in step.path
    ]


# -- item 4: the deal's primary company --------------------------------------------------------
def test_of_two_companies_the_primary_one_is_invoiced(portal):
    other = portal.create("companies", {"name": "Sidobolaget AB"})
    primary = portal.create(
        "companies", {"name": "Huvudbolaget AB", "fortnox_organisation_number": "556100-0001"}
    )
    # The other company is associated first: the first one is no longer taken.
    deal = portal.deal([LINE], companies=[other, primary], primary_company=primary)

    invoice, customer = invoiced(portal, deal)

    hubspot = portal.record("companies", primary)["properties"]
    assert invoice["CustomerName"] == hubspot["name"] == "Huvudbolaget AB"
    assert customer["OrganisationNumber"] == hubspot["fortnox_organisation_number"]
    assert hubspot["fortnox_customer_number"] == invoice["CustomerNumber"]
    assert not portal.record("companies", other)["properties"].get("fortnox_customer_number")


def test_several_companies_and_none_primary_fails_naming_them(portal):
    first = portal.create("companies", {"name": "Första AB"})
    second = portal.create("companies", {"name": "Andra AB"})
    deal = portal.deal([LINE], companies=[first, second], primary_company=None)
    customers_before = portal.fortnox_records("customers")
    invoices_before = portal.fortnox_records("invoices")

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "failed"
    text = note_text(portal, deal)
    assert f"Första AB ({first})" in text and f"Andra AB ({second})" in text
    assert "none of them is its primary company" in text
    assert "Mark one of them as the primary company" in text
    assert portal.fortnox_records("customers") == customers_before
    assert portal.fortnox_records("invoices") == invoices_before


# -- item 5: mappings belong to a Fortnox company ----------------------------------------------
def test_reconnecting_to_another_fortnox_company_creates_the_customers_there(portal):
    company = portal.create(
        "companies", {"name": "Flyttbar AB", "fortnox_organisation_number": "556200-0002"}
    )
    first_invoice, _ = invoiced(portal, portal.deal([LINE], company=company))
    old_number = first_invoice["CustomerNumber"]
    # Company 2 already has a customer with that number: someone else.
    other = Portal(portal.world, hub=portal.hub, company=FORTNOX_NO_ORDER_COMPANY)
    while True:
        made = other.fortnox_api(
            "POST", "customers", json={"Customer": {"Name": "Någon annan AB"}}
        ).json()["Customer"]
        if int(made["CustomerNumber"]) >= int(old_number):
            break
    with requests.Session() as browser:
        assert browser_install(portal.world, browser, portal.hub).status_code == 200
        connected = browser_connect_fortnox(
            portal.world, browser, portal.hub, FORTNOX_NO_ORDER_COMPANY
        )
        assert connected.status_code == 200

    invoice, customer = invoiced(other, other.deal([LINE], company=company))

    hubspot = portal.record("companies", company)["properties"]
    assert invoice["CustomerName"] == hubspot["name"] == "Flyttbar AB"
    assert customer["OrganisationNumber"] == hubspot["fortnox_organisation_number"]
    assert any(c["Name"] == "Flyttbar AB" for c in other.fortnox_records("customers"))
    assert hubspot["fortnox_customer_number"] == invoice["CustomerNumber"]
    # The first company's customer is untouched.
    assert portal.fortnox_record("customers", old_number)["Name"] == "Flyttbar AB"


def test_the_default_article_is_not_used_in_another_fortnox_company(portal):
    configure(portal, not_found_policy="default_article", default_article_number="1")
    odd = {"name": "Odd thing", "quantity": "1", "price": "99", "hs_sku": "NOPE"}
    invoice, _ = invoiced(portal, portal.deal([odd]))
    assert invoice["InvoiceRows"][0]["ArticleNumber"] == "1"
    with requests.Session() as browser:
        assert browser_install(portal.world, browser, portal.hub).status_code == 200
        connected = browser_connect_fortnox(
            portal.world, browser, portal.hub, FORTNOX_NO_ORDER_COMPANY
        )
        assert connected.status_code == 200
    other = Portal(portal.world, hub=portal.hub, company=FORTNOX_NO_ORDER_COMPANY)
    invoices_before = other.fortnox_records("invoices")
    # Company 2 has an article "1" too, but not the one the admin chose.
    assert (
        other.fortnox_record("articles", "1")["Description"]
        != (portal.fortnox_record("articles", "1")["Description"])
    )
    deal = other.deal([odd])

    other.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "failed"
    assert "no default article is set" in note_text(other, deal)
    assert other.fortnox_records("invoices") == invoices_before


# -- item 6: the matching rules ----------------------------------------------------------------
def test_a_shared_invoice_email_does_not_merge_two_companies(portal):
    shared = "ekonomi@koncernen.example"
    first = portal.create(
        "companies",
        {
            "name": "Dotter Ett AB",
            "fortnox_organisation_number": "556300-0003",
            "fortnox_invoice_email": shared,
        },
    )
    second = portal.create(
        "companies",
        {
            "name": "Dotter Två AB",
            "fortnox_organisation_number": "556300-0004",
            "fortnox_invoice_email": shared,
        },
    )

    first_invoice, first_customer = invoiced(portal, portal.deal([LINE], company=first))
    second_invoice, second_customer = invoiced(portal, portal.deal([LINE], company=second))

    assert first_invoice["CustomerNumber"] != second_invoice["CustomerNumber"]
    for customer, company in ((first_customer, first), (second_customer, second)):
        hubspot = portal.record("companies", company)["properties"]
        assert customer["Name"] == hubspot["name"]
        assert customer["OrganisationNumber"] == hubspot["fortnox_organisation_number"]
        # Item 15: the invoice e-mail is where Fortnox sends invoices, not the general e-mail.
        assert customer["EmailInvoice"] == hubspot["fortnox_invoice_email"]
        assert customer["Email"] == ""


def test_a_company_without_numbers_is_matched_by_its_exact_name_and_the_note_says_so(portal):
    existing = portal.fortnox_api(
        "POST", "customers", json={"Customer": {"Name": "Namnet Är Allt AB", "Type": "COMPANY"}}
    ).json()["Customer"]
    portal.fortnox_api("POST", "customers", json={"Customer": {"Name": "Namnet Är Allt AB Filial"}})
    company = portal.create("companies", {"name": "namnet är allt ab"})
    deal = portal.deal([LINE], company=company)

    invoice, _ = invoiced(portal, deal)

    assert invoice["CustomerNumber"] == existing["CustomerNumber"]
    assert "matched by name" in note_text(portal, deal)


def test_a_contact_is_matched_by_email_only_to_a_private_customer(portal):
    email = "kim@hemma.example"
    # A company customer with the same e-mail is not the person.
    portal.fortnox_api(
        "POST", "customers", json={"Customer": {"Name": "Kims Firma AB", "Email": email}}
    )
    person = portal.fortnox_api(
        "POST",
        "customers",
        json={"Customer": {"Name": "Kim Berg", "Email": email, "Type": "PRIVATE"}},
    ).json()["Customer"]
    contact = portal.create("contacts", {"firstname": "Kim", "lastname": "Berg", "email": email})

    invoice, customer = invoiced(portal, portal.deal([LINE], contact=contact))

    assert invoice["CustomerNumber"] == person["CustomerNumber"]
    assert customer["Type"] == "PRIVATE"
    assert customer["Email"] == portal.record("contacts", contact)["properties"]["email"]


def test_a_customer_number_whose_organisation_number_disagrees_fails_naming_both(portal):
    stranger = portal.fortnox_api(
        "POST",
        "customers",
        json={"Customer": {"Name": "Främling AB", "OrganisationNumber": "556400-0005"}},
    ).json()["Customer"]
    company = portal.create(
        "companies",
        {
            "name": "Rätt Bolag AB",
            "fortnox_organisation_number": "556400-0006",
            "fortnox_customer_number": stranger["CustomerNumber"],
        },
    )
    deal = portal.deal([LINE], company=company)
    customers_before = portal.fortnox_records("customers")

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "failed"
    text = note_text(portal, deal)
    assert "Rätt Bolag AB" in text and "Främling AB" in text
    assert "556400-0005" in text and "556400-0006" in text
    assert portal.fortnox_records("customers") == customers_before


# -- item 7: the Fortnox customer follows HubSpot ----------------------------------------------
def test_a_changed_address_reaches_the_fortnox_customer_and_an_unchanged_one_costs_no_call(
    portal,
):
    company = portal.create(
        "companies",
        {
            "name": "Flyttfirman AB",
            "fortnox_organisation_number": "556500-0007",
            "address": "Gamla vägen 1",
            "zip": "111 22",
            "city": "Stockholm",
        },
    )
    invoiced(portal, portal.deal([LINE], company=company))

    unchanged_deal = portal.deal([LINE], company=company)
    invoice, _ = invoiced(portal, unchanged_deal)
    assert fortnox_customer_calls(unchanged_deal) == []

    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/companies/{company}",
        json={"properties": {"address": "Nya gatan 9", "zip": "411 03", "city": "Göteborg"}},
    )
    changed_deal = portal.deal([LINE], company=company)
    invoice, customer = invoiced(portal, changed_deal)

    hubspot = portal.record("companies", company)["properties"]
    assert invoice["CustomerNumber"] == hubspot["fortnox_customer_number"]
    assert (customer["Address1"], customer["ZipCode"], customer["City"]) == (
        hubspot["address"],
        hubspot["zip"],
        hubspot["city"],
    )
    assert (invoice["Address1"], invoice["City"]) == (hubspot["address"], hubspot["city"])
    # The change reaches Fortnox once: by the sync HubSpot's change event starts (the company
    # is a Fortnox customer) or by the deal's run, whichever comes first; the other sends nothing.
    wait_for_event(company, "city", "Göteborg")
    wait_for_runs(company, count=Run.objects.filter(subject_id=company).count())
    calls = fortnox_customer_calls(changed_deal) + fortnox_customer_calls(company)
    assert [call.split(" ")[0] for call in calls] == ["PUT"]


# -- item 10: foreign and EU customers ---------------------------------------------------------
def test_a_german_company_with_a_vat_number_is_a_reverse_charge_customer_in_english(portal):
    company = portal.create(
        "companies",
        {
            "name": "Beispiel GmbH",
            "country": "Germany",
            "fortnox_vat_number": "DE 123 456 789",
            # A German registration number: not a Swedish organisation number, and no failure.
            "fortnox_organisation_number": "HRB 12345",
        },
    )

    line = {**LINE, "hs_tax_rate": "25"}  # HubSpot says 25 %: reverse charge says 0 %
    deal = portal.deal([line], company=company)
    invoice, customer = invoiced(portal, deal)

    assert customer["CountryCode"] == "DE"
    assert customer["VATType"] == "EUREVERSEDVAT"
    assert customer["VATNumber"] == "DE123456789"
    assert invoice["Language"] == "EN"
    # Every row without VAT whatever HubSpot's rate, the net still HubSpot's line amount, and
    # the note explains the override instead of reporting a difference.
    [row] = invoice["InvoiceRows"]
    assert D(row["VAT"]) == 0 and D(invoice["TotalVAT"]) == 0
    assert row_nets(invoice) == line_amounts(portal, deal) == [D("1000")]
    text = note_text(portal, deal)
    assert "VAT 0 % on Consulting (omvänd skattskyldighet; HubSpot: 25" in text
    assert "Checked: matches the deal" in text

    # Matched by its VAT number next time, although Fortnox has no VAT search.
    again = portal.create(
        "companies",
        {"name": "Beispiel GmbH", "country": "DE", "fortnox_vat_number": "DE123456789"},
    )
    second, _ = invoiced(portal, portal.deal([LINE], company=again))
    assert second["CustomerNumber"] == invoice["CustomerNumber"]


@pytest.mark.parametrize(
    ("country", "vat_number", "vat_type", "code"),
    [
        ("Frankrike", "", "EUVAT", "FR"),
        ("United States", "", "EXPORT", "US"),
        ("Sverige", "", "SEVAT", "SE"),
    ],
)
def test_vat_type_and_country_code_follow_hubspots_country(
    portal, country, vat_number, vat_type, code
):
    # A Swedish portal (the default): documents in Swedish at home, in English abroad.
    configure(portal, language="sv")
    company = portal.create(
        "companies", {"name": f"Kund i {country}", "country": country, "fortnox_vat_number": ""}
    )

    invoice, customer = invoiced(portal, portal.deal([LINE], company=company))

    assert (customer["VATType"], customer["CountryCode"]) == (vat_type, code)
    assert invoice["Language"] == ("SV" if code == "SE" else "EN")


# -- item 15: field defaults -------------------------------------------------------------------
def test_the_deal_description_is_an_internal_comment_and_the_name_no_order_number(portal):
    name = "Ramavtal 2027 för hela koncernen, alla dotterbolag, inklusive support och utbildning"
    assert len(name) > 75
    deal = portal.deal(
        [LINE], name=name, extra={"description": "Intern: kunden vill ha faktura i januari"}
    )

    invoice, _ = invoiced(portal, deal)

    hubspot = portal.record("deals", deal)["properties"]
    assert invoice["Comments"] == hubspot["description"]
    assert invoice["Remarks"] == ""
    assert invoice["YourOrderNumber"] == ""


@needs_shared_tools
def test_the_customer_calls_conform_to_fortnox_spec_and_hubspot_sdk(portal, tmp_path):
    for base in (portal.world.fortnox, portal.world.hubspot):
        requests.delete(f"{base}/_sandbox/requests", timeout=10).raise_for_status()
    other = portal.create("companies", {"name": "Annan GmbH"})
    company = portal.create(
        "companies",
        {"name": "Prüfung GmbH", "country": "Tyskland", "fortnox_vat_number": "DE999999999"},
    )
    invoiced(portal, portal.deal([LINE], companies=[other, company], primary_company=company))
    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/companies/{company}",
        json={"properties": {"city": "München"}},
    )
    changed = portal.deal([LINE], companies=[other, company], primary_company=company)
    _, customer = invoiced(portal, changed)
    assert customer["City"] == "München" and customer["VATType"] == "EUREVERSEDVAT"

    requests_audited(portal, tmp_path)
