"""The Fortnox sandbox's document page (sandbox/fortnox/ui.py): where FORTNOX_DOCUMENT_URL
points in development."""

from __future__ import annotations

import io

import pypdf
import requests

from sandbox.driver import visible_text
from tests.sandbox.test_fortnox_api import Api

DATABASE_NUMBER = "1000001"  # company 1's


def test_an_invoice_page_shows_customer_rows_and_totals_and_opens_its_pdf(fortnox_url):
    fx = Api(fortnox_url)
    customer = fx("POST", "/3/customers", {"Customer": {"Name": "Demo Kund AB"}})
    number = customer.json()["Customer"]["CustomerNumber"]
    created = fx(
        "POST",
        "/3/invoices",
        {
            "Invoice": {
                "CustomerNumber": number,
                "InvoiceRows": [
                    {"Description": "Konsulttimme", "DeliveredQuantity": 3, "Price": 1200},
                    {"Description": "Licens", "DeliveredQuantity": 1, "Price": 500,
                     "Discount": 10, "DiscountType": "PERCENT"},
                ],
            }
        },
    )  # fmt: skip
    assert created.status_code == 201, created.text
    invoice = created.json()["Invoice"]
    url = f"{fortnox_url}/_sandbox/ui/{DATABASE_NUMBER}/invoice/{invoice['DocumentNumber']}"

    page = requests.get(url, timeout=5)

    assert page.status_code == 200
    text = visible_text(page.text)
    assert f"Faktura {invoice['DocumentNumber']}" in text
    assert "Utkast (ej bokförd)" in text
    assert f"Demo Kund AB Kundnr {number}" in text
    assert "Konsulttimme 3 1 200,00" in text
    assert "Licens 1 500,00 10,00 %" in text
    # Fortnox's own figures: 3 × 1 200 + 500 − 10 % = 4 050 net, 25 % VAT, rounded to whole
    # kronor.
    assert "Netto 4 050,00 Moms 1 012,50 Öresavrundning 0,50 Att betala (SEK) 5 063,00" in text
    pdf = requests.get(f"{url}.pdf", timeout=5)
    assert pdf.headers["Content-Type"] == "application/pdf"
    pdf_text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert f"Faktura {invoice['DocumentNumber']}" in pdf_text


def test_an_order_page_and_an_unknown_document(fortnox_url):
    fx = Api(fortnox_url)
    created = fx(
        "POST",
        "/3/orders",
        {"Order": {"CustomerNumber": "1", "OrderRows": [
            {"Description": "Stol", "OrderedQuantity": 2, "DeliveredQuantity": 2, "Price": 800}
        ]}},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    order = created.json()["Order"]["DocumentNumber"]

    page = requests.get(f"{fortnox_url}/_sandbox/ui/{DATABASE_NUMBER}/order/{order}", timeout=5)
    assert page.status_code == 200
    text = visible_text(page.text)
    assert f"Order {order}" in text and "Stol 2" in text and "Ej fakturerad" in text

    missing = requests.get(f"{fortnox_url}/_sandbox/ui/{DATABASE_NUMBER}/invoice/999", timeout=5)
    assert missing.status_code == 404
    assert "Fakturan 999 finns inte" in visible_text(missing.text)
