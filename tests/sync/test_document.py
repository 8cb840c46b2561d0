"""The Fortnox document a deal becomes (a pure function: no API involved)."""

from __future__ import annotations

from datetime import date

import pytest

from integrations.fortnox.documents import document_shape
from integrations.hubspot.crm import CrmRecord
from sync.articles import ResolvedRow
from sync.context import RunFailure
from sync.customers import ResolvedCustomer
from sync.document import document_build, document_total, external_reference
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
        {"name": "Licence", "quantity": "3", "price": "1000.005", "hs_discount_percentage": "10"},
        {"name": "Setup", "quantity": "1", "price": "500", "discount": "50", "hs_tax_rate": "25"},
    )
    invoice = _build(snapshot)
    assert invoice["CustomerNumber"] == "7"
    assert invoice["Currency"] == "SEK"
    assert invoice["InvoiceDate"] == "2026-11-25"
    assert invoice["DeliveryDate"] == "2026-11-30"
    assert invoice["ExternalInvoiceReference1"] == "HubSpot-run-0000000042"
    assert "YourOrderNumber" not in invoice  # the buyer's PO: not the deal name (issue 13)
    assert invoice["InvoiceRows"] == [
        {
            "ArticleNumber": "A1",
            "DeliveredQuantity": 3.0,
            "Price": 1000.01,
            "Description": "Licence",
            "Discount": 10.0,
            "DiscountType": "PERCENT",
        },
        {
            "ArticleNumber": "A2",
            "DeliveredQuantity": 1.0,
            "Price": 500.0,
            "Description": "Setup",
            "Discount": 50.0,
            "DiscountType": "AMOUNT",
            "VAT": 25,
        },
    ]
    # 3 × 1000.01 less 10 % = 2700.03 (rounded), plus 500 less 50 = 450
    assert str(document_total(invoice["InvoiceRows"], "DeliveredQuantity")) == "3150.03"


def test_orders_use_ordered_quantity_and_order_date():
    order = _build(_snapshot({"name": "Licence", "quantity": "2", "price": "10"}), "order")
    assert order["OrderDate"] == "2026-11-25"
    assert order["OrderRows"][0]["OrderedQuantity"] == 2.0
    assert "InvoiceRows" not in order


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
        assert document[shape.rows_key][0][shape.quantity_field] == 2.0
        assert str(document_total(document[shape.rows_key], shape.quantity_field)) == "20.00"


def test_an_unknown_document_type_is_refused_naming_the_kinds():
    with pytest.raises(ValueError, match="use one of invoice, order"):
        _build(_snapshot({"name": "x", "price": "1"}), "quote")
