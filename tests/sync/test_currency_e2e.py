"""A deal in a foreign currency, and the portal settings its document depends on (issue 13,
items 3 and 12), end to end through both sandboxes: Fortnox's document, read back, against the
deal as HubSpot stores it."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from tests.flows import Portal
from tests.sync.test_runs_e2e import note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


ACCOUNT_DETAILS = "/account-info/v3/details"


def _register(portal: Portal, code: str, **values) -> dict:
    """The bookkeeper sets the company's rate for `code` in Fortnox's currency register."""
    answer = portal.fortnox_api("PUT", f"currencies/{code}", json={"Currency": values})
    assert answer.status_code == 200, answer.text
    return answer.json()["Currency"]


def _account(portal: Portal, **settings) -> None:
    """The portal's account settings in HubSpot (company currency, time zone, currencies)."""
    portal.world.hubspot_admin("PATCH", f"/_sandbox/portals/{portal.hub}/account", json=settings)


def _line_amounts(portal: Portal, deal_id: str) -> Decimal:
    ids = portal.record("deals", deal_id)["associations"]["line_items"]
    return sum(
        (Decimal(portal.record("line_items", i)["properties"]["amount"]) for i in ids),
        Decimal("0"),
    )


def _deal_without_currency(portal: Portal, lines: list[dict]) -> str:
    """A deal as a single-currency portal has it: no deal_currency_code at all."""
    company = portal.create("companies", {"name": "Kund AB"})
    deal_id = portal.create(
        "deals",
        {"dealname": "Licence", "pipeline": "default", "dealstage": "appointmentscheduled"},
        [("companies", company)],
    )
    for line in lines:
        portal.create("line_items", line, [("deals", deal_id)])
    return deal_id


@pytest.mark.parametrize(
    ("code", "buy", "sell", "unit"),
    [("EUR", "11.2", "11.9", 1), ("NOK", "98.1", "99.4", 100)],
    ids=["EUR per 1", "NOK per 100"],
)
def test_a_foreign_deal_carries_fortnox_buy_rate_and_unit_and_the_note_shows_them(
    portal, code, buy, sell, unit
):
    _account(portal, currencies=["SEK", "EUR", "USD", "NOK"])
    register = _register(portal, code, BuyRate=float(buy), SellRate=float(sell), Unit=unit)
    deal = portal.deal(
        [{"name": "Licence", "quantity": "2", "price": "450", "hs_sku": "1"}], currency=code
    )

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    hubspot_deal = portal.record("deals", deal)["properties"]
    assert invoice["Currency"] == hubspot_deal["deal_currency_code"] == code
    assert Decimal(str(invoice["Net"])) == _line_amounts(portal, deal) == Decimal("900")
    # Fortnox's own rate for a customer invoice: the register's buying rate, per its unit.
    rate, per = Decimal(str(invoice["CurrencyRate"])), Decimal(str(invoice["CurrencyUnit"]))
    assert rate == Decimal(str(register["BuyRate"])) == Decimal(buy) != Decimal(sell)
    assert per == Decimal(str(register["Unit"])) == unit
    assert f"Exchange rate (set by Fortnox): {rate.normalize()} SEK per {per} {code}" in (
        note_text(portal, deal)
    )


def test_a_deal_without_currency_is_invoiced_in_the_portal_currency_read_once(portal):
    _account(portal, company_currency="EUR")
    register = _register(portal, "EUR", BuyRate=11.2, SellRate=11.9, Unit=1)
    requests.delete(f"{portal.world.hubspot}/_sandbox/requests", timeout=10).raise_for_status()
    deals = [
        _deal_without_currency(
            portal, [{"name": "Licence", "quantity": "1", "price": "1000", "hs_sku": "1"}]
        ),
        _deal_without_currency(
            portal, [{"name": "Support", "quantity": "3", "price": "120", "hs_sku": "1"}]
        ),
    ]

    runs = []
    for deal in deals:  # one after the other: the second run finds the cached details
        assert not portal.record("deals", deal)["properties"].get("deal_currency_code")
        portal.move(deal)
        runs += wait_for_runs(deal)

    for deal, run in zip(deals, runs, strict=True):
        assert run.status == "succeeded", run.error_message
        invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
        assert invoice["Currency"] == "EUR"  # HubSpot's company currency, not SEK
        assert Decimal(str(invoice["Net"])) == _line_amounts(portal, deal)
        assert Decimal(str(invoice["CurrencyRate"])) == Decimal(str(register["BuyRate"]))
        assert "SEK per 1 EUR" in note_text(portal, deal)
    reads = portal.world.hubspot_admin(
        "GET", "/_sandbox/requests", params={"portal": portal.hub, "path_prefix": ACCOUNT_DETAILS}
    )
    assert [(r["method"], r["status"]) for r in reads] == [("GET", 200)]


def test_the_delivery_date_is_the_close_date_in_the_portal_time_zone(portal):
    _account(portal, time_zone="Europe/Stockholm")
    deal = portal.deal(
        [{"name": "Licence", "quantity": "1", "price": "100", "hs_sku": "1"}],
        extra={"closedate": "2026-11-20T23:30:00.000Z"},
    )

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    closed = portal.record("deals", deal)["properties"]["closedate"]
    assert closed.startswith("2026-11-20T23:30")  # 00:30 on the 21st in Stockholm (CET)
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert invoice["DeliveryDate"] == "2026-11-21"


def test_a_currency_missing_from_the_fortnox_register_fails_with_the_fix(portal):
    _account(portal, currencies=["SEK", "EUR", "CHF"])
    assert portal.fortnox_api("GET", "currencies/CHF").status_code == 404
    deal = portal.deal(
        [{"name": "Licence", "quantity": "1", "price": "100", "hs_sku": "1"}], currency="CHF"
    )
    customers_before = portal.fortnox_records("customers")

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "failed" and not run.fortnox_document_number
    # Checked before anything is created in Fortnox: no customer is left behind.
    assert portal.fortnox_records("customers") == customers_before
    note = note_text(portal, deal)
    assert "Fortnox does not know the deal's currency CHF" in note
    assert "Register > Currencies" in note
    assert not [i for i in portal.fortnox_records("invoices") if i.get("Currency") == "CHF"]
