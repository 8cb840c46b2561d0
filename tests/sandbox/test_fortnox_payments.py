"""Finance's side in the Fortnox sandbox: payments, credit, cancel, invoices made from orders,
overdue invoices, foreign currency, and the lastmodified stamp each change leaves."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import requests

from tests.sandbox.test_fortnox_api import Api, error_code, invoice

ROW = {"ArticleNumber": "1", "DeliveredQuantity": 1}  # 1000 kr + 25 % VAT = 1250


@pytest.fixture
def fx(fortnox_url) -> Api:
    return Api(fortnox_url)


def booked_invoice(fx: Api, **fields) -> dict:
    inv = invoice(fx, InvoiceRows=[ROW], **fields)
    r = fx("PUT", f"/3/invoices/{inv['DocumentNumber']}/bookkeep")
    assert r.status_code == 200, r.text
    return r.json()["Invoice"]


def pay(fx: Api, number: str, **fields) -> requests.Response:
    return fx("POST", "/3/invoicepayments", {"InvoicePayment": {"InvoiceNumber": number, **fields}})


def get_invoice(fx: Api, number: str) -> dict:
    return fx("GET", f"/3/invoices/{number}").json()["Invoice"]


def listed(fx: Api, **params) -> list[str]:
    return [i["DocumentNumber"] for i in fx("GET", "/3/invoices", **params).json()["Invoices"]]


def sandbox_today(fx: Api) -> date:
    return date.fromisoformat(
        requests.get(f"{fx.url}/_sandbox/clock", timeout=5).json()["now"][:10]
    )


def test_payment_lowers_the_balance_and_settles_the_invoice(fx):
    n = booked_invoice(fx)["DocumentNumber"]
    r = pay(fx, n, Amount=250, PaymentDate="2026-11-20", ModeOfPayment="BG")
    assert r.status_code == 201 and r.headers["Location"] == "invoicepayments"
    first = r.json()["InvoicePayment"]
    assert first["InvoiceNumber"] == int(n) and isinstance(first["Number"], str)
    assert first["Amount"] == 250 and first["AmountCurrency"] == 250
    assert first["Currency"] == "SEK" and first["CurrencyRate"] == 1
    assert first["Booked"] is False and first["PaymentDate"] == "2026-11-20"
    assert first["InvoiceTotal"] == "1250" and first["InvoiceCustomerNumber"] == "1"
    assert first["@url"].endswith(f"/3/invoicepayments/{first['Number']}")
    part = get_invoice(fx, n)
    assert part["Balance"] == 1000 and part["FinalPayDate"] is None
    assert n in listed(fx, filter="unpaid") and n not in listed(fx, filter="fullypaid")

    assert pay(fx, n, Amount=1000, PaymentDate="2026-11-25").status_code == 201
    paid = get_invoice(fx, n)
    assert paid["Balance"] == 0 and paid["FinalPayDate"] == "2026-11-25"
    assert n in listed(fx, filter="fullypaid")
    assert n not in listed(fx, filter="unpaid") and n not in listed(fx, filter="unpaidoverdue")
    item = next(i for i in fx("GET", "/3/invoices").json()["Invoices"] if i["DocumentNumber"] == n)
    assert item["Balance"] == 0 and item["FinalPayDate"] == "2026-11-25"


def test_payments_list_get_update_delete_bookkeep(fx):
    n = booked_invoice(fx)["DocumentNumber"]
    other = booked_invoice(fx)["DocumentNumber"]
    p1 = pay(fx, n, Amount=1250).json()["InvoicePayment"]
    pay(fx, other, Amount=100)
    assert p1["PaymentDate"] == sandbox_today(fx).isoformat()  # defaults to today
    body = fx("GET", "/3/invoicepayments", invoicenumber=n).json()
    assert body["MetaInformation"]["@TotalResources"] == 1
    item = body["InvoicePayments"][0]
    assert set(item) == {
        "@url",
        "Amount",
        "Booked",
        "Currency",
        "CurrencyRate",
        "CurrencyUnit",
        "InvoiceNumber",
        "Number",
        "PaymentDate",
        "Source",
        "WriteOffExist",
    }
    assert item["Number"] == p1["Number"] and item["InvoiceNumber"] == int(n)
    assert len(fx("GET", "/3/invoicepayments").json()["InvoicePayments"]) == 2

    number = p1["Number"]
    r = fx("PUT", f"/3/invoicepayments/{number}", {"InvoicePayment": {"Amount": 1000}})
    assert r.status_code == 200 and r.json()["InvoicePayment"]["Amount"] == 1000
    assert get_invoice(fx, n)["Balance"] == 250 and get_invoice(fx, n)["FinalPayDate"] is None
    assert fx("GET", f"/3/invoicepayments/{number}").json()["InvoicePayment"]["Amount"] == 1000

    assert fx("DELETE", f"/3/invoicepayments/{number}").status_code == 204
    assert get_invoice(fx, n)["Balance"] == 1250  # deleting an unbooked payment restores it
    assert fx("GET", f"/3/invoicepayments/{number}").status_code == 404

    p2 = pay(fx, n, Amount=1250).json()["InvoicePayment"]
    r = fx("PUT", f"/3/invoicepayments/{p2['Number']}/bookkeep")
    assert r.status_code == 200
    booked = r.json()["InvoicePayment"]
    assert booked["Booked"] is True and booked["VoucherSeries"] == "C"
    assert isinstance(booked["VoucherNumber"], int)
    for method, body in (("DELETE", None), ("PUT", {"InvoicePayment": {"Amount": 1}})):
        r = fx(method, f"/3/invoicepayments/{p2['Number']}", body)
        assert r.status_code == 400 and error_code(r) == 2000450
    assert get_invoice(fx, n)["Balance"] == 0


def test_payment_refused_on_unbooked_cancelled_or_missing_invoice(fx):
    draft = invoice(fx, InvoiceRows=[ROW])["DocumentNumber"]
    r = pay(fx, draft, Amount=100)
    assert r.status_code == 400 and error_code(r) == 2000450
    assert "inte bokförd" in r.json()["ErrorInformation"]["message"]
    assert fx("PUT", f"/3/invoices/{draft}/cancel").status_code == 200
    r = pay(fx, draft, Amount=100)
    assert r.status_code == 400 and "makulerad" in r.json()["ErrorInformation"]["message"]
    r = pay(fx, "999", Amount=100)
    assert r.status_code == 400 and error_code(r) == 2000434
    n = booked_invoice(fx)["DocumentNumber"]
    r = fx("POST", "/3/invoicepayments", {"InvoicePayment": {"InvoiceNumber": n, "Booked": True}})
    assert r.status_code == 400 and error_code(r) == 2001399  # read-only field
    assert pay(fx, n).status_code == 400  # no amount
    assert get_invoice(fx, n)["Balance"] == 1250


def test_payments_need_the_payment_scope(fortnox_url):
    fx = Api(fortnox_url, scopes=["invoice"])
    r = fx("GET", "/3/invoicepayments")
    assert r.status_code == 400 and error_code(r) == 2000663


def test_foreign_currency_invoice_and_payment(fx):
    inv = booked_invoice(fx, Currency="EUR")
    n = inv["DocumentNumber"]
    # The company register's buying rate and unit (seeded EUR 11.45 per 1).
    assert inv["CurrencyRate"] == 11.45 and inv["CurrencyUnit"] == 1
    assert inv["Total"] == 1250 and inv["Balance"] == 1250  # EUR, not rounded to whole units
    item = next(i for i in fx("GET", "/3/invoices").json()["Invoices"] if i["DocumentNumber"] == n)
    assert item["CurrencyRate"] == "11.45" and item["CurrencyUnit"] == 1
    r = pay(fx, n, Amount=1000)
    assert r.status_code == 400 and "AmountCurrency" in r.json()["ErrorInformation"]["message"]
    p = pay(fx, n, AmountCurrency=250, Amount=2875).json()["InvoicePayment"]
    assert p["Currency"] == "EUR" and p["AmountCurrency"] == 250 and p["Amount"] == 2875
    assert get_invoice(fx, n)["Balance"] == 1000  # in EUR
    p = pay(fx, n, AmountCurrency=1000).json()["InvoicePayment"]
    assert p["Amount"] == 11450  # SEK at the invoice's rate when only AmountCurrency is sent
    assert get_invoice(fx, n)["Balance"] == 0 and n in listed(fx, filter="fullypaid")


def test_overdue_follows_the_sandbox_clock(fx):
    today = sandbox_today(fx)
    past = invoice(
        fx,
        InvoiceRows=[ROW],
        InvoiceDate=(today - timedelta(days=40)).isoformat(),
        DueDate=(today - timedelta(days=10)).isoformat(),
    )
    assert past["DueDate"] == (today - timedelta(days=10)).isoformat()
    fx("PUT", f"/3/invoices/{past['DocumentNumber']}/bookkeep")
    current = booked_invoice(fx, DueDate=(today + timedelta(days=5)).isoformat())
    overdue = listed(fx, filter="unpaidoverdue")
    assert past["DocumentNumber"] in overdue and current["DocumentNumber"] not in overdue
    requests.post(f"{fx.url}/_sandbox/clock", json={"advance_seconds": 6 * 86400}, timeout=5)
    fx = Api(fx.url)  # the access token lived an hour
    assert current["DocumentNumber"] in listed(fx, filter="unpaidoverdue")
    pay(fx, past["DocumentNumber"], Amount=1250)
    assert past["DocumentNumber"] not in listed(fx, filter="unpaidoverdue")


def test_credit_links_both_invoices_and_offsets_the_balance(fx):
    n = booked_invoice(fx)["DocumentNumber"]
    r = fx("PUT", f"/3/invoices/{n}/credit")
    assert r.status_code == 200
    credit = r.json()["Invoice"]
    c = credit["DocumentNumber"]
    assert credit["Credit"] == "true" and credit["InvoiceReference"] == n
    assert credit["CreditInvoiceReference"] == "0" and credit["Total"] == -1250
    assert credit["Booked"] is False and credit["Balance"] == 0
    original = get_invoice(fx, n)
    assert original["Credit"] == "false" and original["CreditInvoiceReference"] == c
    assert original["Balance"] == 1250  # until the credit invoice is booked
    assert listed(fx, credit="true") == [c]
    r = fx("PUT", f"/3/invoices/{n}/credit")
    assert r.status_code == 400 and error_code(r) == 2000450  # credited once only
    booked = fx("PUT", f"/3/invoices/{c}/bookkeep").json()["Invoice"]
    assert booked["Balance"] == 0 and booked["FinalPayDate"] == sandbox_today(fx).isoformat()
    original = get_invoice(fx, n)
    assert original["Balance"] == 0 and original["FinalPayDate"] == booked["FinalPayDate"]
    assert n in listed(fx, filter="fullypaid") and c in listed(fx, filter="fullypaid")


def test_cancel_a_draft(fx):
    n = invoice(fx, InvoiceRows=[ROW])["DocumentNumber"]
    r = fx("PUT", f"/3/invoices/{n}/cancel")
    assert r.status_code == 200 and r.json()["Invoice"]["Cancelled"] is True
    assert listed(fx, filter="cancelled") == [n]
    assert n not in listed(fx, filter="unbooked")
    assert fx("PUT", f"/3/invoices/{n}/bookkeep").status_code == 400


def test_invoice_from_order_links_both(fx):
    order = fx(
        "POST",
        "/3/orders",
        {
            "Order": {
                "CustomerNumber": "1",
                "OrderRows": [{"ArticleNumber": "1", "OrderedQuantity": 1, "DeliveredQuantity": 1}],
            }
        },
    ).json()["Order"]
    o = order["DocumentNumber"]
    assert order["InvoiceReference"] == "0"
    inv = fx("PUT", f"/3/orders/{o}/createinvoice").json()["Invoice"]
    assert inv["OrderReference"] == o and inv["InvoiceReference"] == "0"
    assert fx("GET", f"/3/orders/{o}").json()["Order"]["InvoiceReference"] == inv["DocumentNumber"]
    fx("PUT", f"/3/invoices/{inv['DocumentNumber']}/bookkeep")
    pay(fx, inv["DocumentNumber"], Amount=1250)
    assert get_invoice(fx, inv["DocumentNumber"])["Balance"] == 0


def test_every_change_refreshes_lastmodified(fx):
    n = booked_invoice(fx)["DocumentNumber"]
    draft = invoice(fx, InvoiceRows=[ROW])["DocumentNumber"]
    order = fx("POST", "/3/orders", {"Order": {"CustomerNumber": "1", "OrderRows": [ROW]}}).json()[
        "Order"
    ]["DocumentNumber"]
    clock = f"{fx.url}/_sandbox/clock"

    def later() -> str:
        requests.post(clock, json={"advance_seconds": 120}, timeout=5)
        now = requests.get(clock, timeout=5).json()["now"]
        return now[:10] + " " + now[11:16]  # "YYYY-MM-DD HH:MM" in the sandbox's local time

    changes = [
        ("invoices", n, lambda: pay(fx, n, Amount=100)),
        ("invoices", n, lambda: fx("PUT", f"/3/invoices/{n}/externalprint")),
        (
            "invoices",
            draft,
            lambda: fx("PUT", f"/3/invoices/{draft}", {"Invoice": {"Comments": "x"}}),
        ),
        ("invoices", draft, lambda: fx("PUT", f"/3/invoices/{draft}/cancel")),
        ("invoices", n, lambda: fx("PUT", f"/3/invoices/{n}/credit")),
        ("orders", order, lambda: fx("PUT", f"/3/orders/{order}/createinvoice")),
    ]
    for resource, number, change in changes:
        since = later()
        assert number not in [
            d["DocumentNumber"]
            for d in fx("GET", f"/3/{resource}", lastmodified=since).json()[resource.capitalize()]
        ]
        assert change().status_code in (200, 201)
        touched = fx("GET", f"/3/{resource}", lastmodified=since).json()[resource.capitalize()]
        assert number in [d["DocumentNumber"] for d in touched], (resource, number)
    p = fx("GET", "/3/invoicepayments").json()["InvoicePayments"][0]["Number"]
    since = later()
    fx("DELETE", f"/3/invoicepayments/{p}")
    assert n in listed(fx, lastmodified=since)


def test_admin_patch_counts_as_a_change(fx):
    n = booked_invoice(fx)["DocumentNumber"]
    clock = f"{fx.url}/_sandbox/clock"
    requests.post(clock, json={"advance_seconds": 120}, timeout=5)
    now = requests.get(clock, timeout=5).json()["now"]
    since = now[:10] + " " + now[11:16]
    assert n not in listed(fx, lastmodified=since)
    r = requests.patch(f"{fx.url}/_sandbox/records/1/invoices/{n}", json={"Balance": 0}, timeout=5)
    assert r.status_code == 200
    assert n in listed(fx, lastmodified=since)
