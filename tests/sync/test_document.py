"""The Fortnox document a deal becomes (a pure function: no API involved)."""

from __future__ import annotations

from datetime import date

import pytest

from integrations.fortnox.documents import document_shape
from integrations.hubspot.crm import CrmRecord
from sync.articles import ResolvedRow
from sync.context import RunFailure
from sync.customers import ResolvedCustomer
from sync.document import document_build, external_reference
from sync.mapping import mappings_for
from sync.reader import DealSnapshot, LineItem


def _snapshot(*items: dict, currency: str = "", customer_type: str = "companies"):
    deal = CrmRecord(
        "901",
        {
            "dealname": "Annual licence",
            "deal_currency_code": currency,
            "closedate": "2026-11-30T10:00:00Z",
            "description": "",
        },
    )
    line_items = [LineItem(str(i), props, None) for i, props in enumerate(items, start=1)]
    customer = CrmRecord("77", {"firstname": "Åsa", "lastname": "Öberg"})
    return DealSnapshot(deal, line_items, customer_type, customer, portal_currency="SEK")


def _build(snapshot, document_type="invoice", **kwargs):
    rows = [ResolvedRow(item, f"A{item.id}") for item in snapshot.line_items]
    return document_build(
        document_type=document_type,
        run_id=42,
        customer=ResolvedCustomer("7"),
        snapshot=snapshot,
        rows=rows,
        mappings=mappings_for({}),
        today=date(2026, 11, 25),
        **kwargs,
    )


def test_invoice_rows_carry_article_quantity_price_and_discounts():
    snapshot = _snapshot(
        {"name": "Licence", "quantity": "3", "price": "1000", "hs_discount_percentage": "10"},
        {"name": "Setup", "quantity": "1", "price": "500", "discount": "50", "hs_tax_rate": "25"},
    )
    invoice = _build(snapshot)
    assert invoice["CustomerNumber"] == "7"
    assert invoice["Currency"] == "SEK"
    assert invoice["VATIncluded"] is False
    assert invoice["InvoiceDate"] == "2026-11-25"
    assert invoice["DeliveryDate"] == "2026-11-30"
    assert invoice["ExternalInvoiceReference1"] == "HubSpot-run-0000000042"
    assert "YourOrderNumber" not in invoice  # the buyer's PO: not the deal name (issue 13)
    # The unit discount 50 of 500 is exactly 10 %: sent as a PERCENT, whose meaning is certain.
    assert invoice["InvoiceRows"] == [
        {
            "ArticleNumber": "A1",
            "DeliveredQuantity": 3,
            "Price": 1000,
            "Description": "Licence",
            "Discount": 10,
            "DiscountType": "PERCENT",
        },
        {
            "ArticleNumber": "A2",
            "DeliveredQuantity": 1,
            "Price": 500,
            "Description": "Setup",
            "Discount": 10,
            "DiscountType": "PERCENT",
            "VAT": 25,
        },
    ]


def test_orders_carry_both_quantities_equal():
    order = _build(_snapshot({"name": "Licence", "quantity": "2", "price": "10"}), "order")
    assert order["OrderDate"] == "2026-11-25"
    assert order["OrderRows"][0]["OrderedQuantity"] == 2
    assert order["OrderRows"][0]["DeliveredQuantity"] == 2
    assert "InvoiceRows" not in order


def test_a_price_finer_than_the_ore_becomes_one_exact_amount():
    [row] = _build(
        _snapshot({"name": "Bolt", "quantity": "10000", "price": "0.125", "amount": "1250"})
    )["InvoiceRows"]
    assert row["DeliveredQuantity"] == 1 and row["Price"] == 1250
    assert row["Description"] == "Bolt (10000 st à 0,125)"


def test_a_unit_discount_that_is_no_exact_percent_becomes_the_net_price():
    [row] = _build(
        _snapshot(
            {"name": "Kit", "quantity": "3", "price": "99.90", "discount": "10", "amount": "269.70"}
        )
    )["InvoiceRows"]
    assert row["Price"] == 89.9 and "Discount" not in row
    assert row["Description"] == "Kit (listpris 99,9, rabatt 10 per st)"


@pytest.mark.parametrize(
    ("props", "needle"),
    [
        ({"hs_discount_percentage": "120"}, "120 %"),
        ({"discount": "150"}, "150 per unit"),
        ({"hs_tax_rate": "high"}, "hs_tax_rate 'high'"),
    ],
)
def test_bad_line_figures_fail_naming_the_line(props, needle):
    with pytest.raises(RunFailure) as failure:
        _build(_snapshot({"name": "Gadget", "quantity": "1", "price": "100", **props}))
    assert "Gadget" in failure.value.message and needle in failure.value.message


def test_a_recurring_line_says_its_period():
    [row] = _build(
        _snapshot({"name": "Licence", "price": "100", "hs_recurring_billing_period": "P12M"})
    )["InvoiceRows"]
    assert row["Description"] == "Licence (12 månader)"


def test_reverse_charge_rows_carry_vat_0():
    snapshot = _snapshot({"name": "x", "price": "1", "hs_tax_rate": "25"})
    rows = [ResolvedRow(item, "A1") for item in snapshot.line_items]
    invoice = document_build(
        document_type="invoice",
        run_id=1,
        customer=ResolvedCustomer("7", vat_type="EUREVERSEDVAT"),
        snapshot=snapshot,
        rows=rows,
        mappings=mappings_for({}),
        today=date(2026, 11, 25),
    )
    assert invoice["InvoiceRows"][0]["VAT"] == 0


def test_a_foreign_currency_leaves_the_rate_to_fortnox():
    invoice = _build(_snapshot({"name": "x", "price": "1"}, currency="eur"))
    assert invoice["Currency"] == "EUR"
    assert "CurrencyRate" not in invoice and "CurrencyUnit" not in invoice


def test_a_contact_customer_becomes_your_reference():
    invoice = _build(_snapshot({"name": "x", "price": "1"}, customer_type="contacts"))
    assert invoice["YourReference"] == "Åsa Öberg"


def test_a_non_swedish_tax_rate_fails_with_the_fix():
    with pytest.raises(RunFailure) as failure:
        _build(_snapshot({"name": "Gadget", "price": "1", "hs_tax_rate": "19"}))
    assert "19 %" in failure.value.message and "Gadget" in failure.value.message
    assert "Correct the line item's tax rate" in failure.value.fix


def test_external_references_cannot_be_substrings_of_each_other():
    assert external_reference(1) not in external_reference(10)
    assert len(external_reference(1)) == len(external_reference(9_999_999_999))


def test_each_kind_takes_its_fields_from_the_one_table_of_shapes():
    snapshot = _snapshot({"name": "Licence", "quantity": "2", "price": "10"})
    for kind in ("invoice", "order"):
        shape = document_shape(kind)
        document = _build(snapshot, kind)
        assert document[shape.date_field] == "2026-11-25"
        for quantity_field in shape.quantity_fields:
            assert document[shape.rows_key][0][quantity_field] == 2


def test_an_unknown_document_type_is_refused_naming_the_kinds():
    with pytest.raises(ValueError, match="use one of invoice, order"):
        _build(_snapshot({"name": "x", "price": "1"}), "quote")
