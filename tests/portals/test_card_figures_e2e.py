"""The contact and company card's figures as the card receives them (issue 16, "Done when": the
card endpoint's answer for a customer with paid, unpaid, overdue, credited and cancelled invoices
and one in EUR). Perform Sync is pressed through the HubSpot sandbox's signed card request, and
the answer is checked against the Fortnox sandbox's own invoices, never against the service's
arithmetic."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.flows import Portal
from tests.portals.test_cards_e2e import card
from tests.sync.test_figures_e2e import (
    act,
    book,
    company_of_customer_1,
    deal_properties,
    deal_with_document,
    every_kind_of_invoice,
    expected_figures,
    pay,
)
from tests.sync.test_runs_e2e import SHARED_TOOLS, portal_ready, requests_audited

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def card_figures(body: dict) -> dict[str, Decimal]:
    shown = body["figures"]
    assert shown["currency"] == "SEK"
    return {
        "total": Decimal(shown["total_invoiced"]),
        "balance": Decimal(shown["balance"]),
        "overdue": Decimal(shown["overdue"]),
    }


def test_the_card_shows_fortnox_figures_for_paid_unpaid_overdue_credited_cancelled_and_eur(
    portal, world, tmp_path
):
    company = company_of_customer_1(portal)
    made = every_kind_of_invoice(portal)
    paid, unpaid, overdue = made["paid"], made["unpaid"], made["overdue"]
    credited, cancelled, euro = made["credited"], made["cancelled"], made["euro"]

    before = card(world, "/hubspot/cards/record", company)
    assert before["status"] == 200, before
    assert before["body"]["state"] == "not_synced"
    assert before["body"]["customer"]["number"] == "1"

    pressed = card(world, "/hubspot/cards/record/sync", company, method="POST", body={})
    assert pressed["status"] == 200, pressed
    answer = pressed["body"]
    if answer["busy"]:  # Fortnox was slow: the card polls until the work is done
        for _ in range(40):
            time.sleep(0.5)
            answer = card(world, "/hubspot/cards/record", company)["body"]
            if not answer["busy"]:
                break
    assert not answer["busy"]
    assert answer["outcome"]["status"] == "succeeded", answer["outcome"]

    expected = expected_figures(portal, "1")
    assert card_figures(answer) == expected
    assert answer["figures"]["synced_at"]
    listed = {row["number"]: row for row in answer["invoices"]}
    assert listed[paid]["status"] == "paid" and listed[paid]["balance"] == "0.00"
    assert listed[unpaid]["status"] == "unpaid"
    assert listed[overdue]["status"] == "overdue"
    assert listed[credited]["status"] == "credited"
    assert listed[cancelled]["status"] == "cancelled"
    eur = portal.fortnox_record("invoices", euro)
    assert listed[euro]["currency"] == "EUR"
    assert Decimal(listed[euro]["total"]) == Decimal(str(eur["Total"]))
    # Customer 1's card never shows the invoices of customers 10 and 11 (a substring search).
    assert {row["number"] for row in answer["invoices"]} <= {
        str(rec["DocumentNumber"])
        for rec in portal.fortnox_records("invoices")
        if str(rec["CustomerNumber"]) == "1"
    }

    # Beside the number, the customer's name as Fortnox has it.
    assert answer["customer"]["name"] == portal.fortnox_record("customers", "1")["Name"]

    # Opened again later, the card shows the same figures from what the service stored.
    again = card(world, "/hubspot/cards/record", company)["body"]
    assert again["state"] == "ready"
    assert card_figures(again) == expected
    # What Perform Sync sent (the invoice list by customer, full invoices, the record's
    # properties) conforms to Fortnox's spec and HubSpot's SDK.
    if SHARED_TOOLS.is_dir():  # ../shared/tools beside the repository (CI has it there)
        requests_audited(portal, tmp_path)


def deal_card_refreshed(world, deal: str) -> dict:
    """The deal card's "Refresh from Fortnox", polled until the work is done."""
    pressed = card(
        world, "/hubspot/cards/deal/sync", deal, object_type="0-3", method="POST", body={}
    )
    assert pressed["status"] == 200, pressed
    answer = pressed["body"]
    for _ in range(40):
        if not answer["busy"]:
            break
        time.sleep(0.5)
        answer = card(world, "/hubspot/cards/deal", deal, object_type="0-3")["body"]
    assert not answer["busy"]
    return answer


def test_the_deal_card_says_paid_after_finance_books_and_pays_the_invoice_in_fortnox(portal, world):
    deal, number = deal_with_document(portal)
    shown = card(world, "/hubspot/cards/deal", deal, object_type="0-3")["body"]
    assert [(d["kind"], d["number"], d["status"]) for d in shown["documents"]] == [
        ("invoice", number, "draft")
    ]

    book(portal, number)
    pay(portal, number)
    answer = deal_card_refreshed(world, deal)

    fortnox = portal.fortnox_record("invoices", number)
    assert fortnox["Booked"] and Decimal(str(fortnox["Balance"])) == 0
    [document] = answer["documents"]
    assert (document["number"], document["status"]) == (number, "paid")
    assert Decimal(document["total"]) == Decimal(str(fortnox["Total"]))
    assert Decimal(document["balance"]) == 0
    # What a HubSpot workflow can act on: the deal's own properties.
    assert deal_properties(portal, deal) == ("paid", Decimal("0"))


def test_the_deal_card_follows_an_orders_payment_through_its_invoice(
    world, celery_worker_process, tmp_path
):
    portal = portal_ready(world, document_type="order")
    deal, order = deal_with_document(portal)
    invoice_number = str(act(portal, "orders", order, "createinvoice")["Invoice"]["DocumentNumber"])
    book(portal, invoice_number)
    pay(portal, invoice_number)

    answer = deal_card_refreshed(world, deal)

    assert portal.fortnox_record("orders", order)["InvoiceReference"] in (
        invoice_number,
        int(invoice_number),
    )
    [document] = answer["documents"]
    assert (document["kind"], document["number"]) == ("order", order)
    assert document["invoice"]["number"] == invoice_number
    assert document["invoice"]["status"] == "paid"
    assert deal_properties(portal, deal) == ("paid", Decimal("0"))
    if SHARED_TOOLS.is_dir():  # the order, its invoice and the deal's properties, as sent
        requests_audited(portal, tmp_path)
