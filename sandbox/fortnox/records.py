"""Customers, articles and the small registers (units, terms of payment, price lists, prices,
currencies): create, update, delete, render. Callers hold the store lock."""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import quote

from sandbox.fortnox import errors, templates
from sandbox.fortnox.errors import bad_request, not_found
from sandbox.fortnox.schema import RESOURCES, Resource
from sandbox.fortnox.util import num, num_str, round2
from sandbox.fortnox.validation import as_bool, as_number, check_fields, parse_date

VAT_RATES = (0, 6, 12, 25)
# BAS sales accounts and their VAT rate (3001 25 %, 3002 12 %, 3003 6 %, 3004 VAT free)
ACCOUNT_VAT = {3001: 25, 3002: 12, 3003: 6, 3004: 0}
DEFAULT_SALES_ACCOUNT = 3001

_CUSTOMER_NUMBER = re.compile(r"^[A-Za-z0-9\-+/_–]+$")
_ARTICLE_NUMBER = re.compile(r"^[A-Za-z0-9\-+/._–]+$")


# -- helpers ---------------------------------------------------------------------------------
def id_key(value: str, numeric: bool = True) -> tuple:
    if numeric and value.isdigit():
        return (0, int(value), value)
    return (1, 0, value)


def data(company: dict, kind: str) -> dict[str, dict]:
    return company["data"][kind]


def touch(company: dict, kind: str, ident: str, stamp: str) -> None:
    company["modified"][kind][ident] = stamp


def get(company: dict, kind: str, ident: str) -> dict:
    rec = company["data"][kind].get(str(ident))
    if rec is None:
        raise not_found(kind)
    return rec


def next_number(company: dict, kind: str) -> str:
    series = company["settings"].setdefault("series", {})
    numbers = [int(k) for k in company["data"][kind] if k.isdigit()]
    deleted = [int(k) for k in company["settings"].get("deleted", {}).get(kind, []) if k.isdigit()]
    nxt = max([series.get(kind, 0), *numbers, *deleted, 0]) + 1
    series[kind] = nxt
    return str(nxt)


def url(base: str, kind: str, ident: str) -> str:
    return f"{base}/3/{kind}/{quote(str(ident), safe='')}"


def with_url(base: str, kind: str, rec: dict, ident_field: str) -> dict:
    out = {"@url": url(base, kind, rec[ident_field])}
    out.update(copy.deepcopy(rec))  # answers and the request log must not share the record
    return out


def _text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def apply_simple(entity_fields: dict, rec: dict, obj: dict, skip: tuple = ()) -> None:
    """Copy sent fields onto a record, converting to the kind the real service answers."""
    for name, value in obj.items():
        if name in skip:
            continue
        kind = entity_fields[name][0]
        if value is None:
            rec[name] = None
        elif kind in ("number", "integer"):
            rec[name] = num(as_number(value, name))
        elif kind == "boolean":
            rec[name] = as_bool(value, name)
        elif kind == "object" and isinstance(value, dict):
            merged = dict(rec.get(name) or {})
            merged.update(value)
            rec[name] = merged
        elif kind in ("array", "object"):
            rec[name] = copy.deepcopy(value)
        else:
            rec[name] = _text(value)


def require(obj: dict, name: str) -> None:
    if obj.get(name) in (None, ""):
        raise bad_request(errors.INVALID_VALUE, f"Fältet {name} måste anges.")


def check_currency(company: dict, code: Any) -> None:
    if code not in (None, "") and str(code) not in company["data"]["currencies"]:
        raise bad_request(errors.CURRENCY_MISSING, "Kunde inte hämta/hitta valuta")


def check_terms(company: dict, code: Any) -> None:
    if code not in (None, "") and str(code) not in company["data"]["termsofpayments"]:
        raise bad_request(2000429, "Kan inte hitta betalningsvillkoret.")


def check_unit(company: dict, code: Any) -> None:
    if code not in (None, "") and str(code) not in company["data"]["units"]:
        raise bad_request(2000432, "Kan inte hitta enheten.")


def check_pricelist(company: dict, code: Any) -> None:
    if code not in (None, "") and str(code) not in company["data"]["pricelists"]:
        raise bad_request(2000430, "Kan inte hitta prislistan.")


def terms_days(company: dict, code: str) -> int:
    """Days of a terms-of-payment code: "30" and "30 dagar" are 30 days, "AG"/"K"/"PF" 0."""
    rec = company["data"]["termsofpayments"].get(code)
    for text in (code, (rec or {}).get("Description") or ""):
        m = re.match(r"^\s*(\d+)", str(text))
        if m:
            return int(m.group(1))
    return 0


# -- customers -------------------------------------------------------------------------------
def create_customer(company: dict, obj: dict, stamp: str) -> dict:
    check_fields("Customer", obj)
    require(obj, "Name")
    number = obj.get("CustomerNumber")
    if number in (None, ""):
        number = next_number(company, "customers")
    else:
        number = _text(number)
        if not _CUSTOMER_NUMBER.match(number):
            raise bad_request(
                errors.INVALID_CHARS, "Värdet innehåller ej tillåtna tecken. (CustomerNumber)"
            )
        if number in company["settings"].get("deleted", {}).get("customers", []):
            raise bad_request(
                2000637,
                f"Kundnummer {number} används redan. Kundnumret har redan använts men blivit "
                "raderat.",
            )
        if number in company["data"]["customers"]:
            raise bad_request(2000637, f"Kundnummer {number} används redan.")
    rec = copy.deepcopy(templates.CUSTOMER)
    _apply_customer(company, rec, obj)
    rec["CustomerNumber"] = number
    company["data"]["customers"][number] = rec
    touch(company, "customers", number, stamp)
    return rec


def update_customer(company: dict, number: str, obj: dict, stamp: str) -> dict:
    rec = get(company, "customers", number)
    check_fields("Customer", obj)
    if "Name" in obj:
        require(obj, "Name")
    if obj.get("CustomerNumber") not in (None, "", number):
        raise bad_request(errors.INVALID_VALUE, "Kundnumret kan inte ändras.")
    _apply_customer(company, rec, {k: v for k, v in obj.items() if k != "CustomerNumber"})
    touch(company, "customers", number, stamp)
    return rec


def _apply_customer(company: dict, rec: dict, obj: dict) -> None:
    from sandbox.fortnox.fields import FIELDS

    check_currency(company, obj.get("Currency"))
    check_terms(company, obj.get("TermsOfPayment"))
    check_pricelist(company, obj.get("PriceList"))
    apply_simple(FIELDS["Customer"], rec, obj)
    if "Currency" in obj and obj["Currency"]:
        rec["Currency"] = str(obj["Currency"]).upper()


def render_customer_item(base: str, rec: dict) -> dict:
    out = {"@url": url(base, "customers", rec["CustomerNumber"])}
    for name in RESOURCES["customers"].list_fields:
        value = rec.get("Phone1") if name == "Phone" else rec.get(name)
        out[name] = "" if value is None else value
    return out


# -- articles --------------------------------------------------------------------------------
def create_article(company: dict, obj: dict, stamp: str) -> dict:
    check_fields("Article", obj)
    require(obj, "Description")
    number = obj.get("ArticleNumber")
    if number in (None, ""):
        number = next_number(company, "articles")
        while number in company["data"]["articles"]:
            number = next_number(company, "articles")
    else:
        number = _text(number)
        if not _ARTICLE_NUMBER.match(number):
            raise bad_request(
                errors.INVALID_CHARS, "Värdet innehåller ej tillåtna tecken. (ArticleNumber)"
            )
        if number in company["data"]["articles"]:
            raise bad_request(errors.ALREADY_EXISTS, f'Artikelnummer "{number}" används redan.')
    rec = copy.deepcopy(templates.ARTICLE)
    _apply_article(company, rec, obj, creating=True)
    rec["ArticleNumber"] = number
    company["data"]["articles"][number] = rec
    touch(company, "articles", number, stamp)
    return rec


def update_article(company: dict, number: str, obj: dict, stamp: str) -> dict:
    rec = get(company, "articles", number)
    check_fields("Article", obj)
    if "Description" in obj:
        require(obj, "Description")
    if obj.get("ArticleNumber") not in (None, "", number):
        raise bad_request(errors.INVALID_VALUE, "Artikelnumret kan inte ändras.")
    _apply_article(
        company, rec, {k: v for k, v in obj.items() if k != "ArticleNumber"}, creating=False
    )
    touch(company, "articles", number, stamp)
    return rec


def _apply_article(company: dict, rec: dict, obj: dict, creating: bool) -> None:
    from sandbox.fortnox.fields import FIELDS

    check_unit(company, obj.get("Unit"))
    if obj.get("VAT") is not None and as_number(obj["VAT"], "VAT") not in VAT_RATES:
        raise bad_request(errors.INVALID_VALUE, "Kunde inte hämta/hitta moms (VAT)")
    apply_simple(FIELDS["Article"], rec, obj)
    for name in ("QuantityInStock", "PurchasePrice", "StockWarning"):
        if name in obj and obj[name] is not None:
            rec[name] = num(round2(as_number(obj[name], name)))
    if creating and "SalesAccount" in obj and "VAT" not in obj and rec["SalesAccount"] is not None:
        rec["VAT"] = ACCOUNT_VAT.get(int(rec["SalesAccount"]), 0)
    qty = float(rec.get("QuantityInStock") or 0)
    rec["DisposableQuantity"] = num(round2(qty - float(rec.get("ReservedQuantity") or 0)))
    rec["StockValue"] = num(round2(qty * float(rec.get("PurchasePrice") or 0)))


def default_pricelist(company: dict) -> str:
    for code, pl in company["data"]["pricelists"].items():
        if pl.get("PreSelected"):
            return code
    return "A"


def article_price(company: dict, article: str, pricelist: str | None, qty: float = 0) -> Any:
    """The article's price in a price list for a quantity (the highest FromQuantity <= qty)."""
    pricelist = pricelist or default_pricelist(company)
    best = None
    for rec in company["data"]["prices"].values():
        if rec["ArticleNumber"] != article or rec["PriceList"] != pricelist:
            continue
        if float(rec["FromQuantity"] or 0) <= max(qty, 0) and (
            best is None or float(rec["FromQuantity"]) > float(best["FromQuantity"])
        ):
            best = rec
    return None if best is None else best["Price"]


def render_article(company: dict, base: str, rec: dict) -> dict:
    out = with_url(base, "articles", rec, "ArticleNumber")
    out["SalesPrice"] = article_price(company, rec["ArticleNumber"], None)
    return out


_ARTICLE_LIST_STRINGS = (
    "DisposableQuantity",
    "PurchasePrice",
    "QuantityInStock",
    "ReservedQuantity",
    "StockValue",
)


def render_article_item(company: dict, base: str, rec: dict) -> dict:
    out = {"@url": url(base, "articles", rec["ArticleNumber"])}
    for name in RESOURCES["articles"].list_fields:
        value = rec.get(name)
        if name in _ARTICLE_LIST_STRINGS:
            value = num_str(value)
        elif name == "SalesPrice":
            value = article_price(company, rec["ArticleNumber"], None)
        out[name] = value
    return out


# -- units, terms of payment, price lists, currencies ---------------------------------------
REGISTER_DEFAULTS = {
    "units": {"Code": "", "CodeEnglish": "", "Description": ""},
    "termsofpayments": {"Code": "", "Description": ""},
    "pricelists": {"Code": "", "Description": "", "Comments": "", "PreSelected": False},
    "currencies": {
        "BuyRate": 1,
        "Code": "",
        "Date": None,
        "Description": "",
        "IsAutomatic": False,
        "SellRate": 1,
        "Unit": 1,
    },
}
REGISTER_REQUIRED = {
    "units": ("Code", "Description"),
    "termsofpayments": ("Code", "Description"),
    "pricelists": ("Code", "Description"),
    "currencies": ("Code",),
}


def create_register(company: dict, kind: str, obj: dict, stamp: str) -> dict:
    res: Resource = RESOURCES[kind]
    from sandbox.fortnox.fields import FIELDS

    check_fields(res.entity, obj)
    for name in REGISTER_REQUIRED[kind]:
        require(obj, name)
    code = _text(obj["Code"])
    if kind == "currencies":
        code = code.upper()
    if code in company["data"][kind]:
        raise bad_request(errors.ALREADY_EXISTS, f'Koden "{code}" används redan.')
    rec = copy.deepcopy(REGISTER_DEFAULTS[kind])
    apply_simple(FIELDS[res.entity], rec, obj)
    rec["Code"] = code
    if kind == "currencies" and rec.get("Date") is None:
        rec["Date"] = stamp[:10]
    company["data"][kind][code] = rec
    touch(company, kind, code, stamp)
    return rec


def update_register(company: dict, kind: str, code: str, obj: dict, stamp: str) -> dict:
    res: Resource = RESOURCES[kind]
    from sandbox.fortnox.fields import FIELDS

    rec = get(company, kind, code)
    check_fields(res.entity, obj)
    if obj.get("Code") not in (None, "", code):
        raise bad_request(errors.INVALID_VALUE, "Koden kan inte ändras.")
    apply_simple(FIELDS[res.entity], rec, {k: v for k, v in obj.items() if k != "Code"})
    touch(company, kind, code, stamp)
    return rec


# -- prices ----------------------------------------------------------------------------------
def price_key(pricelist: str, article: str, from_quantity: Any) -> str:
    return f"{pricelist}|{article}|{num(float(from_quantity or 0))}"


def create_price(company: dict, obj: dict, stamp: str) -> dict:
    from sandbox.fortnox.fields import FIELDS

    check_fields("Price", obj)
    require(obj, "ArticleNumber")
    require(obj, "PriceList")
    article, pricelist = _text(obj["ArticleNumber"]), _text(obj["PriceList"])
    if article not in company["data"]["articles"]:
        raise bad_request(errors.ARTICLE_MISSING, "Kunde inte hitta artikel")
    check_pricelist(company, pricelist)
    key = price_key(pricelist, article, obj.get("FromQuantity"))
    if key in company["data"]["prices"]:
        raise bad_request(errors.ALREADY_EXISTS, "Priset finns redan.")
    rec = {
        "ArticleNumber": article,
        "Date": stamp[:10],
        "FromQuantity": 0,
        "Percent": 0,
        "Price": 0,
        "PriceList": pricelist,
    }
    apply_simple(FIELDS["Price"], rec, obj)
    rec["ArticleNumber"], rec["PriceList"] = article, pricelist
    rec["Price"] = num(round2(float(rec["Price"] or 0)))
    if obj.get("Date"):
        rec["Date"] = parse_date(str(obj["Date"])[:10], "Date")
    company["data"]["prices"][key] = rec
    touch(company, "prices", key, stamp)
    return rec


def update_price(company: dict, key: str, obj: dict, stamp: str) -> dict:
    from sandbox.fortnox.fields import FIELDS

    rec = get(company, "prices", key)
    check_fields("Price", obj)
    changes = {
        k: v for k, v in obj.items() if k not in ("ArticleNumber", "PriceList", "FromQuantity")
    }
    apply_simple(FIELDS["Price"], rec, changes)
    rec["Price"] = num(round2(float(rec["Price"] or 0)))
    touch(company, "prices", key, stamp)
    return rec


def render_price(base: str, rec: dict) -> dict:
    path = (
        f"{quote(rec['PriceList'], safe='')}/{quote(rec['ArticleNumber'], safe='')}/"
        f"{num(float(rec['FromQuantity'] or 0))}"
    )
    out = {"@url": f"{base}/3/prices/{path}"}
    out.update(rec)
    return out
