"""The Fortnox sandbox's REST API (/3/): shapes as recorded, validation, documents, PDFs."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pypdf
import pytest
import requests


class Api:
    def __init__(self, url: str, company: str = "1", scopes: list[str] | None = None) -> None:
        body: dict = {"company": company}
        if scopes is not None:
            body["scopes"] = scopes
        token = requests.post(f"{url}/_sandbox/tokens", json=body, timeout=5).json()
        self.url = url
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token['access_token']}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )

    def __call__(self, method: str, path: str, body=None, **params) -> requests.Response:
        data = json.dumps(body) if body is not None else None
        return self.session.request(
            method, self.url + path, data=data, params=params or None, timeout=10
        )


@pytest.fixture
def fx(fortnox_url) -> Api:
    return Api(fortnox_url)


def error_code(r: requests.Response) -> int:
    info = r.json()["ErrorInformation"]
    return info.get("code", info.get("Code"))


def invoice(fx: Api, **fields) -> dict:
    body = {"Invoice": {"CustomerNumber": "1", **fields}}
    r = fx("POST", "/3/invoices", body)
    assert r.status_code == 201, r.text
    return r.json()["Invoice"]


# -- shapes ----------------------------------------------------------------------------------
def test_customer_create_matches_recorded_shape(fx):
    r = fx("POST", "/3/customers/", {"Customer": {"Name": "A value"}})
    assert r.status_code == 201
    assert r.headers["Location"] == "customers"
    customer = r.json()["Customer"]
    assert customer["CustomerNumber"] == "3"  # series after the seeded 1 and 2
    assert customer["@url"].endswith("/3/customers/3")
    assert customer["Currency"] == "SEK" and customer["PriceList"] == "A"
    assert customer["Type"] == "COMPANY" and customer["VATType"] == "SEVAT"
    assert customer["DefaultDeliveryTypes"] == {
        "Invoice": "PRINT",
        "Order": "PRINT",
        "Offer": "PRINT",
    }
    r = fx("PUT", "/3/customers/3", {"Customer": {"Name": "Updated name"}})
    assert r.status_code == 200 and r.json()["Customer"]["Name"] == "Updated name"


def test_not_found_uses_capitalised_error_keys(fx):
    for path, code, message in (
        ("/3/customers/123456789", 2000433, "Kan inte hitta kunden."),
        ("/3/articles/123456789", 2000428, "Kan inte hitta artikeln."),
        ("/3/invoices/123456789", 2000434, "Kan inte hitta fakturan."),
        ("/3/orders/123456789", 2000439, "Kan inte hitta ordern."),
        ("/3/units/123456789", 2000432, "Kan inte hitta enheten."),
        ("/3/termsofpayments/123456789", 2000429, "Kan inte hitta betalningsvillkoret."),
    ):
        r = fx("GET", path)
        assert r.status_code == 404
        assert r.json() == {"ErrorInformation": {"Error": 1, "Message": message, "Code": code}}


def test_invalid_filter_is_recorded_lowercase_error(fx):
    r = fx("GET", "/3/invoices/", filter="doesntexist")
    assert r.status_code == 400
    # byte-for-byte as recorded (invoices/filter_invalid.yml)
    assert r.text == (
        '{"ErrorInformation":{"error":1,"message":"Ett ogiltigt filter har anv\\u00e4nts.",'
        '"code":2000587}}'
    )


def test_list_shapes_and_numbers_as_strings(fx):
    articles = fx("GET", "/3/articles").json()
    assert articles["MetaInformation"] == {
        "@TotalResources": 3,
        "@TotalPages": 1,
        "@CurrentPage": 1,
    }
    item = articles["Articles"][0]
    assert item["QuantityInStock"] == "0" and item["PurchasePrice"] == "0"
    assert item["SalesPrice"] == 1000
    assert set(item) >= {"@url", "ArticleNumber", "Description", "DisposableQuantity", "EAN"}
    invoices = fx("GET", "/3/invoices").json()["Invoices"]
    assert invoices[0]["CurrencyRate"] == "1"
    assert fx("GET", "/3/invoices/1").json()["Invoice"]["CurrencyRate"] == 1
    empty = fx("GET", "/3/customers", name="nothing").json()
    assert empty == {
        "MetaInformation": {"@TotalResources": 0, "@TotalPages": 0, "@CurrentPage": 1},
        "Customers": [],
    }


def test_units_and_terms_as_recorded(fx):
    units = fx("GET", "/3/units/").json()["Units"]
    codes = [u["Code"] for u in units]
    assert codes == ["förp", "h", "km", "st", "utl"]
    assert units[0]["@url"].endswith("/3/units/f%C3%B6rp")
    assert fx("GET", "/3/units/f%C3%B6rp").json()["Unit"]["Description"] == "förpackning"
    terms = [t["Code"] for t in fx("GET", "/3/termsofpayments").json()["TermsOfPayments"]]
    assert terms == ["0", "10", "15", "20", "30", "AG", "K", "PF"]
    r = fx(
        "POST", "/3/termsofpayments/", {"TermsOfPayment": {"Code": "21DAYS", "Description": "A"}}
    )
    assert r.status_code == 201 and r.headers["Location"] == "paymentterms"


def test_companyinformation(fx):
    info = fx("GET", "/3/companyinformation").json()["CompanyInformation"]
    assert info["CompanyName"] == "Sandbox Demo AB"
    assert info["OrganizationNumber"] == "556677-8899"
    assert info["DatabaseNumber"] == 1000001


# -- pagination, search, sort ---------------------------------------------------------------
def test_pagination_and_limit(fx):
    for i in range(4):
        assert fx("POST", "/3/customers", {"Customer": {"Name": f"Paged {i}"}}).status_code == 201
    page = fx("GET", "/3/customers", limit=2, page=2).json()
    assert page["MetaInformation"] == {"@TotalResources": 6, "@TotalPages": 3, "@CurrentPage": 2}
    assert [c["CustomerNumber"] for c in page["Customers"]] == ["3", "4"]
    beyond = fx("GET", "/3/customers", limit=2, page=9).json()
    assert beyond["Customers"] == [] and beyond["MetaInformation"]["@CurrentPage"] == 9
    assert fx("GET", "/3/customers", limit=500).status_code == 200
    too_big = fx("GET", "/3/customers", limit=501)
    assert too_big.status_code == 400 and error_code(too_big) == 2000588
    assert error_code(fx("GET", "/3/customers", nosuchparam="x")) == 2000588


def test_search_is_substring_and_parameters_combine(fx):
    fx("POST", "/3/articles", {"Article": {"ArticleNumber": "A1001", "Description": "Hammer"}})
    fx("POST", "/3/articles", {"Article": {"ArticleNumber": "1A100", "Description": "Hammer XL"}})
    fx("POST", "/3/articles", {"Article": {"ArticleNumber": "B2", "Description": "hammare"}})
    hits = fx("GET", "/3/articles", articlenumber="A100").json()["Articles"]
    assert sorted(a["ArticleNumber"] for a in hits) == ["1A100", "A1001"]
    hits = fx("GET", "/3/articles", description="HAMM").json()["Articles"]
    assert len(hits) == 3  # case-insensitive
    both = fx("GET", "/3/articles", articlenumber="A100", description="XL").json()
    assert [a["ArticleNumber"] for a in both["Articles"]] == ["1A100"]
    customers = fx("GET", "/3/customers", organisationnumber="556123").json()["Customers"]
    assert [c["CustomerNumber"] for c in customers] == ["1"]


def test_invoice_search_filters_and_sort(fx):
    a = invoice(fx, ExternalInvoiceReference1="DEAL-1001")
    invoice(fx, ExternalInvoiceReference1="DEAL-10011")
    hits = fx("GET", "/3/invoices", externalinvoicereference1="DEAL-1001").json()["Invoices"]
    assert len(hits) == 2  # substring: the caller filters exact matches itself
    assert hits[0]["ExternalInvoiceReference1"] == "DEAL-1001"
    unbooked = fx("GET", "/3/invoices", filter="unbooked").json()["MetaInformation"]
    assert unbooked["@TotalResources"] == 3
    fx("PUT", f"/3/invoices/{a['DocumentNumber']}/cancel")
    cancelled = fx("GET", "/3/invoices", filter="cancelled").json()["Invoices"]
    assert [i["DocumentNumber"] for i in cancelled] == [a["DocumentNumber"]]
    desc = fx("GET", "/3/invoices", sortby="documentnumber", sortorder="descending").json()
    assert [i["DocumentNumber"] for i in desc["Invoices"]] == ["3", "2", "1"]
    assert error_code(fx("GET", "/3/invoices", sortby="colour")) == 2000588


# -- validation ------------------------------------------------------------------------------
def test_disallowed_characters_give_2000359(fx):
    r = fx("POST", "/3/customers", {"Customer": {"Name": "Bad <script>"}})
    assert r.status_code == 400
    assert r.json()["ErrorInformation"]["code"] == 2000359
    ok = fx("POST", "/3/customers", {"Customer": {"Name": "Åsa & Söner (Öst) AB, 50% – ok!"}})
    assert ok.status_code == 201


def test_length_limits_from_the_spec(fx):
    r = invoice(fx, YourReference="x" * 50)
    assert r["YourReference"] == "x" * 50
    too_long = fx(
        "POST", "/3/invoices", {"Invoice": {"CustomerNumber": "1", "YourReference": "x" * 51}}
    )
    assert too_long.status_code == 400 and error_code(too_long) == 2000580
    row = fx(
        "POST",
        "/3/invoices",
        {"Invoice": {"CustomerNumber": "1", "InvoiceRows": [{"Description": "a" * 256}]}},
    )
    assert row.status_code == 400
    assert (
        invoice(fx, InvoiceRows=[{"Description": "a" * 255}])["InvoiceRows"][0]["Description"]
        == "a" * 255
    )


def test_unknown_customer_article_field_and_read_only(fx):
    r = fx("POST", "/3/invoices", {"Invoice": {"CustomerNumber": "999"}})
    assert r.status_code == 400 and error_code(r) == 2000204
    r = fx(
        "POST",
        "/3/invoices",
        {"Invoice": {"CustomerNumber": "1", "InvoiceRows": [{"ArticleNumber": "NOPE"}]}},
    )
    assert r.status_code == 400 and error_code(r) == 2001302
    r = fx("POST", "/3/customers", {"Customer": {"Name": "X", "Colour": "red"}})
    assert r.status_code == 400 and error_code(r) == 2001399
    r = fx("POST", "/3/articles", {"Article": {"Description": "X", "SalesPrice": 10}})
    assert r.status_code == 400 and error_code(r) == 2001399
    r = fx("POST", "/3/invoices", {"Invoice": {"CustomerNumber": "1", "Total": 5}})
    assert r.status_code == 400 and error_code(r) == 2001399
    r = fx("POST", "/3/customers", {"Customer": {"Name": "X"}, "Extra": 1})
    assert r.status_code == 400
    r = fx("POST", "/3/customers", {"Kund": {"Name": "X"}})
    assert r.status_code == 400 and error_code(r) == 2001392
    r = fx.session.post(fx.url + "/3/customers", data="{not json", timeout=5)
    assert r.status_code == 400 and error_code(r) == 2002115


# -- documents -------------------------------------------------------------------------------
def test_row_rounding_defaults_and_strings(fx):
    inv = invoice(
        fx,
        InvoiceRows=[
            {
                "ArticleNumber": "1",
                "Description": "Test",
                "DeliveredQuantity": 1.125,
                "Price": 1.123,
            },
            {"ArticleNumber": "1", "Price": 10.0},
        ],
    )
    first, second = inv["InvoiceRows"]
    assert first["DeliveredQuantity"] == "1.13" and first["Price"] == 1.12
    assert first["ContributionPercent"] == "100" and isinstance(first["ContributionValue"], str)
    assert second["DeliveredQuantity"] == "0" and second["Total"] == 0
    assert second["Description"] == "Konsulttimme" and second["Unit"] == "h"
    assert inv["Credit"] == "false" and inv["CreditInvoiceReference"] == "0"
    assert inv["Sent"] is False and inv["Booked"] is False


def test_totals_vat_per_row_and_roundoff(fx):
    inv = invoice(
        fx,
        InvoiceRows=[
            {"ArticleNumber": "1", "DeliveredQuantity": 1, "Price": 99.99},  # 25 %
            {"ArticleNumber": "3", "DeliveredQuantity": 2, "Price": 10.1},  # 6 %
        ],
    )
    assert inv["Net"] == 120.19
    assert inv["TotalVAT"] == 26.21  # 24.9975 + 1.212
    assert inv["Gross"] == 120.19
    assert inv["Total"] == 146 and inv["RoundOff"] == -0.4
    assert [r["VAT"] for r in inv["InvoiceRows"]] == [25, 6]
    assert inv["InvoiceRows"][1]["AccountNumber"] == 3003


def test_due_date_from_terms(fx):
    inv = invoice(fx, InvoiceDate="2023-01-30")
    assert inv["TermsOfPayment"] == "30" and inv["DueDate"] == "2023-03-01"  # as recorded
    inv = invoice(fx, InvoiceDate="2023-01-30", TermsOfPayment="10")
    assert inv["DueDate"] == "2023-02-09"
    private = fx("POST", "/3/invoices", {"Invoice": {"CustomerNumber": "2"}}).json()["Invoice"]
    today = date.fromisoformat(private["InvoiceDate"])
    assert private["DueDate"] == (today + timedelta(days=10)).isoformat()  # customer's terms
    assert invoice(fx, DueDate="2023-01-01")["DueDate"] == "2023-01-01"


def test_update_keeps_empty_strings_and_replaces_rows(fx):
    inv = invoice(
        fx, Comments="Keep me", InvoiceRows=[{"ArticleNumber": "1", "DeliveredQuantity": 1}]
    )
    number = inv["DocumentNumber"]
    r = fx("PUT", f"/3/invoices/{number}", {"Invoice": {"Comments": ""}})
    assert r.json()["Invoice"]["Comments"] == "Keep me"
    row_id = inv["InvoiceRows"][0]["RowId"]
    r = fx(
        "PUT",
        f"/3/invoices/{number}",
        {
            "Invoice": {
                "InvoiceRows": [{"RowId": row_id}, {"ArticleNumber": "2", "DeliveredQuantity": 2}]
            }
        },
    )
    rows = r.json()["Invoice"]["InvoiceRows"]
    assert [x["ArticleNumber"] for x in rows] == ["1", "2"]
    assert r.json()["Invoice"]["Total"] == 2500


def test_bookkeep_cancel_credit(fx):
    inv = invoice(fx, InvoiceRows=[{"ArticleNumber": "1", "DeliveredQuantity": 1}])
    n = inv["DocumentNumber"]
    booked = fx("PUT", f"/3/invoices/{n}/bookkeep").json()["Invoice"]
    assert booked["Booked"] is True and booked["Balance"] == 1250
    assert fx("PUT", f"/3/invoices/{n}", {"Invoice": {"Comments": "x"}}).status_code == 400
    assert fx("PUT", f"/3/invoices/{n}/cancel").status_code == 400
    unpaid = fx("GET", "/3/invoices", filter="unpaid").json()["Invoices"]
    assert [i["DocumentNumber"] for i in unpaid] == [n]
    credit = fx("PUT", f"/3/invoices/{n}/credit").json()["Invoice"]
    assert credit["Credit"] == "true" and credit["InvoiceReference"] == n
    assert credit["CreditInvoiceReference"] == "0"
    assert credit["Total"] == -1250
    assert (
        fx("GET", f"/3/invoices/{n}").json()["Invoice"]["CreditInvoiceReference"]
        == credit["DocumentNumber"]
    )


def test_orders_and_createinvoice(fx):
    r = fx(
        "POST",
        "/3/orders/",
        {
            "Order": {
                "CustomerNumber": "1",
                "OrderRows": [{"ArticleNumber": "2", "OrderedQuantity": 2}],
            }
        },
    )
    assert r.status_code == 201 and r.headers["Location"] == "orders"
    order = r.json()["Order"]
    row = order["OrderRows"][0]
    assert row["OrderedQuantity"] == "2" and row["DeliveredQuantity"] == "0"
    assert order["DeliveryState"] == "delivery" and order["OrderType"] == "Order"
    assert order["Total"] == 0  # priced by delivered quantity, as recorded
    n = order["DocumentNumber"]
    fx(
        "PUT",
        f"/3/orders/{n}",
        {"Order": {"OrderRows": [{"RowId": row["RowId"], "DeliveredQuantity": 2}]}},
    )
    inv = fx("PUT", f"/3/orders/{n}/createinvoice").json()["Invoice"]
    assert inv["OrderReference"] == n and inv["Total"] == 1250
    assert fx("GET", f"/3/orders/{n}").json()["Order"]["InvoiceReference"] == inv["DocumentNumber"]
    assert [
        o["DocumentNumber"]
        for o in fx("GET", "/3/orders", filter="invoicecreated").json()["Orders"]
    ] == [n]


def test_housework_rules_as_recorded(fx):
    def order(reduction, hw_type, housework=True):
        return fx(
            "POST",
            "/3/orders/",
            {
                "Order": {
                    "CustomerNumber": "1",
                    "TaxReductionType": reduction,
                    "OrderRows": [
                        {
                            "ArticleNumber": "1",
                            "HouseWork": housework,
                            "HouseWorkType": hw_type,
                            "OrderedQuantity": 1.0,
                        }
                    ],
                }
            },
        )

    r = order("rut", "CONSTRUCTION")
    assert r.status_code == 400 and r.json()["ErrorInformation"]["code"] == 2004021
    assert "'rut'" in r.json()["ErrorInformation"]["message"]
    assert error_code(order("rot", "OTHERCOSTS")) == 2002980
    assert error_code(order("rut", "COOKING")) == 2003157
    assert order("rot", "HVAC").status_code == 201
    assert order("rot", "OTHERCOSTS", housework=False).status_code == 201


def test_currency_and_prices(fx):
    r = fx("POST", "/3/customers", {"Customer": {"Name": "Euro AB", "Currency": "EUR"}})
    number = r.json()["Customer"]["CustomerNumber"]
    inv = fx("POST", "/3/invoices", {"Invoice": {"CustomerNumber": number}}).json()["Invoice"]
    assert inv["Currency"] == "EUR" and inv["CurrencyRate"] == 11.45  # the buying rate
    bad = fx("POST", "/3/customers", {"Customer": {"Name": "X", "Currency": "XYZ"}})
    assert error_code(bad) == 2004344
    r = fx(
        "POST",
        "/3/prices/",
        {"Price": {"ArticleNumber": "1", "PriceList": "A", "FromQuantity": 10, "Price": 900}},
    )
    assert r.status_code == 201
    assert fx("GET", "/3/prices/A/1/10").json()["Price"]["Price"] == 900
    assert len(fx("GET", "/3/prices/sublist/A/1").json()["Prices"]) == 2
    inv = invoice(fx, InvoiceRows=[{"ArticleNumber": "1", "DeliveredQuantity": 12}])
    assert inv["InvoiceRows"][0]["Price"] == 900
    assert fx("GET", "/3/currencies/EUR").json()["Currency"]["SellRate"] == 11.5


# -- PDFs ------------------------------------------------------------------------------------
def pdf_text(r: requests.Response) -> str:
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(r.content)).pages)


def test_preview_and_print(fx):
    inv = invoice(fx, InvoiceRows=[{"ArticleNumber": "1", "DeliveredQuantity": 3}])
    n = inv["DocumentNumber"]
    text = pdf_text(fx("GET", f"/3/invoices/{n}/preview"))
    assert f"Faktura {n}" in text and "Total: 3750.00 SEK" in text
    assert "Exempelkunden AB" in text and "Konsulttimme" in text and "Moms 25%" in text
    assert fx("GET", f"/3/invoices/{n}").json()["Invoice"]["Sent"] is False
    pdf_text(fx("GET", f"/3/invoices/{n}/print"))
    assert fx("GET", f"/3/invoices/{n}").json()["Invoice"]["Sent"] is True
    text = pdf_text(fx("GET", "/3/orders/1/preview"))
    assert "Order 1" in text and "Total: 1875.00 SEK" in text
    assert fx("GET", "/3/orders/1").json()["Order"]["Sent"] is False


# -- scopes, licences, tenants ---------------------------------------------------------------
def test_licence_missing_gives_2001101(fortnox_url):
    other = Api(fortnox_url, company="2")
    r = other("GET", "/3/orders")
    assert r.status_code == 403
    assert r.json() == {
        "ErrorInformation": {
            "error": 1,
            "message": "Det finns ingen aktiv licens för önskat scope",
            "code": 2001101,
        }
    }
    # company 2 has its own data
    assert other("GET", "/3/customers").json()["Customers"][0]["Name"] == "Kund hos Andra AB"
    assert other("GET", "/3/invoices").status_code == 200


def test_scope_missing_gives_2000663(fortnox_url):
    limited = Api(fortnox_url, scopes=["customer"])
    assert limited("GET", "/3/customers").status_code == 200
    r = limited("GET", "/3/articles")
    assert r.status_code == 400 and error_code(r) == 2000663


def test_new_company_via_admin(fortnox_url):
    r = requests.post(
        f"{fortnox_url}/_sandbox/companies",
        json={
            "name": "Tredje AB",
            "licences": ["Fa", "Ar"],
            "scopes_allowed": ["invoice", "customer"],
        },
        timeout=5,
    )
    assert r.status_code == 201
    company = r.json()
    assert company["id"] == "3" and company["licences"] == ["Fa", "Ar"]
    fx3 = Api(fortnox_url, company="3")
    assert fx3("GET", "/3/customers").json()["Customers"] == []
    assert fx3("GET", "/3/articles").status_code == 400  # no article scope granted
    listed = requests.get(f"{fortnox_url}/_sandbox/companies", timeout=5).json()
    assert [c["id"] for c in listed] == ["1", "2", "3"]
