"""The seeded sandbox: two companies, registers as the recordings show, a few records."""

from __future__ import annotations

from datetime import date

from sandbox.fortnox import documents, records
from sandbox.fortnox.schema import ALL_SCOPES, LICENCES
from sandbox.fortnox.store import Store, empty_company

STAMP = "2025-01-02 09:00:00"


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def org_number(first9: str) -> str:
    """A valid Swedish organisation number NNNNNN-NNNN from its first nine digits."""
    return f"{first9[:6]}-{first9[6:]}{luhn_digit(first9)}"


UNITS = [
    ("förp", "pack", "förpackning"),
    ("h", "h", "timmar"),
    ("km", "km", "Kilometer"),
    ("st", "pcs", "styck"),
    ("utl", "exp", "Utlägg"),
]
TERMS = [
    ("0", "0 dagar"),
    ("10", "10 dagar"),
    ("15", "15 dagar"),
    ("20", "20 dagar"),
    ("30", "30 dagar"),
    ("AG", "Autogiro"),
    ("K", "Kontant"),
    ("PF", "Postförskott"),
]
CURRENCIES = [
    ("SEK", "Svenska kronor", 1, 1),
    ("EUR", "Euro", 11.45, 11.5),
    ("USD", "US Dollar", 10.6, 10.65),
    ("NOK", "Norska kronor", 0.98, 0.99),
    ("DKK", "Danska kronor", 1.53, 1.54),
    ("GBP", "Brittiska pund", 13.4, 13.5),
]


# A small BAS chart: the sales accounts (class 3) with their VAT codes, and a few others, so a
# list of sales accounts has something to leave out. (Number, description, VATCode, SRU.)
ACCOUNTS = [
    (1510, "Kundfordringar", "", 7251),
    (1930, "Företagskonto/checkkonto/affärskonto", "", 7281),
    (2611, "Utgående moms på försäljning inom Sverige, 25 %", "", 7369),
    (3001, "Försäljning inom Sverige, 25 % moms", "MP1", 7410),
    (3002, "Försäljning inom Sverige, 12 % moms", "MP2", 7410),
    (3003, "Försäljning inom Sverige, 6 % moms", "MP3", 7410),
    (3004, "Försäljning inom Sverige, momsfri", "", 7410),
    (3041, "Försäljning tjänst inom Sverige, 25 % moms", "MP1", 7410),
    (3105, "Försäljning varor till land utanför EU", "", 7410),
    (3106, "Försäljning varor till annat EU-land, momsfri", "", 7410),
    (3108, "Försäljning tjänster till annat EU-land", "", 7410),
    (4010, "Inköp material och varor", "", 7511),
]


def accounts(company: dict) -> None:
    for number, description, vat_code, sru in ACCOUNTS:
        company["data"]["accounts"][str(number)] = {
            "Active": True,
            "BalanceBroughtForward": 0,
            "CostCenter": "",
            "CostCenterSettings": "ALLOWED",
            "Description": description,
            "Number": number,
            "Project": "",
            "ProjectSettings": "ALLOWED",
            "SRU": sru,
            "Year": 1,
            "VATCode": vat_code,
        }


def registers(company: dict) -> None:
    accounts(company)
    for code, english, description in UNITS:
        records.create_register(
            company,
            "units",
            {"Code": code, "CodeEnglish": english, "Description": description},
            STAMP,
        )
    for code, description in TERMS:
        records.create_register(
            company, "termsofpayments", {"Code": code, "Description": description}, STAMP
        )
    for code, description, buy, sell in CURRENCIES:
        records.create_register(
            company,
            "currencies",
            {"Code": code, "Description": description, "BuyRate": buy, "SellRate": sell},
            STAMP,
        )
    records.create_register(
        company,
        "pricelists",
        {"Code": "A", "Description": "Grundprislista", "PreSelected": True},
        STAMP,
    )


def _company_one(store: Store) -> None:
    company = empty_company(
        "1",
        "Sandbox Demo AB",
        org_number("556677889"),
        1000001,
        list(LICENCES),
        list(ALL_SCOPES),
    )
    store.add_company(company)
    registers(company)
    records.create_customer(
        company,
        {
            "Name": "Exempelkunden AB",
            "OrganisationNumber": org_number("556123456"),
            "Address1": "Storgatan 1",
            "ZipCode": "111 22",
            "City": "Stockholm",
            "Country": "Sverige",
            "CountryCode": "SE",
            "Email": "faktura@exempelkunden.se",
            "Phone1": "08-123 456",
            "YourReference": "Eva Exempel",
        },
        STAMP,
    )
    records.create_customer(
        company,
        {
            "Name": "Anna Andersson",
            "Type": "PRIVATE",
            "OrganisationNumber": "19800101-0019",
            "Address1": "Lillgatan 2",
            "ZipCode": "411 01",
            "City": "Göteborg",
            "Email": "anna@example.se",
            "TermsOfPayment": "10",
        },
        STAMP,
    )
    for number, description, unit, price, vat, account, kind in (
        ("1", "Konsulttimme", "h", 1000, 25, 3001, "SERVICE"),
        ("2", "Licens, månad", "st", 500, 25, 3001, "SERVICE"),
        ("3", "Handbok", "st", 200, 6, 3003, "STOCK"),
    ):
        records.create_article(
            company,
            {
                "ArticleNumber": number,
                "Description": description,
                "Unit": unit,
                "VAT": vat,
                "SalesAccount": account,
                "Type": kind,
            },
            STAMP,
        )
        records.create_price(
            company, {"ArticleNumber": number, "PriceList": "A", "Price": price}, STAMP
        )
    day = date(2025, 1, 2)
    documents.create(
        company,
        documents.INVOICE,
        {
            "CustomerNumber": "1",
            "InvoiceDate": "2025-01-02",
            "YourReference": "Eva Exempel",
            "InvoiceRows": [
                {"ArticleNumber": "1", "DeliveredQuantity": 2},
                {"ArticleNumber": "3", "DeliveredQuantity": 1},
            ],
        },
        day,
        STAMP,
    )
    documents.create(
        company,
        documents.ORDER,
        {
            "CustomerNumber": "1",
            "OrderDate": "2025-01-02",
            "OrderRows": [{"ArticleNumber": "2", "OrderedQuantity": 3, "DeliveredQuantity": 3}],
        },
        day,
        STAMP,
    )


def _company_two(store: Store) -> None:
    company = empty_company(
        "2",
        "Andra Bolaget AB",
        org_number("559000123"),
        1000002,
        [code for code in LICENCES if code != "Oo"],
        list(ALL_SCOPES),
    )
    store.add_company(company)
    registers(company)
    records.create_customer(
        company, {"Name": "Kund hos Andra AB", "City": "Malmö", "ZipCode": "211 20"}, STAMP
    )
    records.create_article(
        company, {"ArticleNumber": "1", "Description": "Tjänst", "Unit": "st", "VAT": 25}, STAMP
    )
    records.create_price(company, {"ArticleNumber": "1", "PriceList": "A", "Price": 100}, STAMP)
    documents.create(
        company,
        documents.INVOICE,
        {
            "CustomerNumber": "1",
            "InvoiceDate": "2025-01-02",
            "InvoiceRows": [{"ArticleNumber": "1", "DeliveredQuantity": 1}],
        },
        date(2025, 1, 2),
        STAMP,
    )


def seed(store: Store) -> None:
    with store.lock:
        store.clear()
        _company_one(store)
        _company_two(store)
