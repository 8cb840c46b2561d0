"""Invoices and orders: rows, totals, due dates, housework rules and the document actions.
Callers hold the store lock."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from sandbox.fortnox import errors, records, templates
from sandbox.fortnox.errors import bad_request
from sandbox.fortnox.fields import FIELDS
from sandbox.fortnox.util import num, num_str, round2, round_half_up, to_float
from sandbox.fortnox.validation import as_bool, as_number, check_fields, parse_date


class Kind:
    def __init__(
        self,
        name: str,
        entity: str,
        rows: str,
        row_entity: str,
        template: dict,
        row_template: dict,
        date_field: str,
    ) -> None:
        self.name = name
        self.entity = entity
        self.rows = rows
        self.row_entity = row_entity
        self.template = template
        self.row_template = row_template
        self.date_field = date_field


INVOICE = Kind(
    "invoices",
    "Invoice",
    "InvoiceRows",
    "InvoiceRow",
    templates.INVOICE,
    templates.INVOICE_ROW,
    "InvoiceDate",
)
ORDER = Kind(
    "orders", "Order", "OrderRows", "OrderRow", templates.ORDER, templates.ORDER_ROW, "OrderDate"
)
KINDS = {"invoices": INVOICE, "orders": ORDER}

DATE_FIELDS = {
    "InvoiceDate",
    "DueDate",
    "DeliveryDate",
    "OrderDate",
    "OutboundDate",
    "InvoicePeriodStart",
    "InvoicePeriodEnd",
}
# Header fields copied from the customer when a document is made (None -> "").
CUSTOMER_COPY = {
    "CustomerName": "Name",
    "Address1": "Address1",
    "Address2": "Address2",
    "City": "City",
    "ZipCode": "ZipCode",
    "Country": "Country",
    "Phone1": "Phone1",
    "Phone2": "Phone2",
    "OrganisationNumber": "OrganisationNumber",
    "Currency": "Currency",
    "PriceList": "PriceList",
    "YourReference": "YourReference",
    "OurReference": "OurReference",
    "DeliveryName": "DeliveryName",
    "DeliveryAddress1": "DeliveryAddress1",
    "DeliveryAddress2": "DeliveryAddress2",
    "DeliveryCity": "DeliveryCity",
    "DeliveryZipCode": "DeliveryZipCode",
    "DeliveryCountry": "DeliveryCountry",
    "TermsOfDelivery": "TermsOfDelivery",
    "WayOfDelivery": "WayOfDelivery",
    "CostCenter": "CostCenter",
    "Project": "Project",
}

ROT = {
    "CONSTRUCTION",
    "ELECTRICITY",
    "GLASSMETALWORK",
    "GROUNDDRAINAGEWORK",
    "MASONRY",
    "PAINTINGWALLPAPERING",
    "HVAC",
}
RUT = {
    "CLEANING",
    "TEXTILECLOTHING",
    "SNOWPLOWING",
    "GARDENING",
    "BABYSITTING",
    "OTHERCARE",
    "MOVINGSERVICES",
    "ITSERVICES",
    "MAJORAPPLIANCEREPAIR",
    "HOMEMAINTENANCE",
    "FURNISHING",
    "TRANSPORTATIONSERVICES",
    "WASHINGANDCAREOFCLOTHING",
}
GREEN = {"SOLARCELLS", "STORAGESELFPRODUCEDELECTRICITY", "CHARGINGSTATIONELECTRICVEHICLE"}
DISCONTINUED = {"COOKING", "TUTORING"}
HOUSEWORK_TYPES = {"rot": ROT, "rut": RUT, "green": GREEN}


def ocr_for(number: str) -> str:
    """Fortnox's default OCR: number + length digit + Luhn check digit (doc 18 -> "1842")."""
    body = number + str((len(number) + 2) % 10)
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) if ch.isdigit() else 0
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def _next_row_id(company: dict) -> int:
    company["settings"]["row_id"] = company["settings"].get("row_id", 0) + 1
    return company["settings"]["row_id"]


def _str(value: Any) -> str:
    return "" if value is None else str(value)


# -- building --------------------------------------------------------------------------------
def create(company: dict, kind: Kind, obj: dict, today: date, stamp: str) -> dict:
    _check(kind, obj)
    customer_number = obj.get("CustomerNumber")
    if customer_number in (None, ""):
        raise bad_request(errors.CUSTOMER_MISSING, "Kunde inte hitta kund (CustomerNumber)")
    customer = company["data"]["customers"].get(_str(customer_number))
    if customer is None:
        raise bad_request(errors.CUSTOMER_MISSING, "Kunde inte hitta kund (CustomerNumber)")
    rec = copy.deepcopy(kind.template)
    rec["CustomerNumber"] = customer["CustomerNumber"]
    _copy_customer(company, kind, rec, customer)
    number = obj.get("DocumentNumber")
    if number not in (None, ""):
        number = _str(num(as_number(number, "DocumentNumber")))
        if number in company["data"][kind.name]:
            raise bad_request(errors.ALREADY_EXISTS, f"Dokumentnummer {number} används redan.")
    else:
        number = records.next_number(company, kind.name)
    rec["DocumentNumber"] = number
    _apply_header(company, kind, rec, obj, creating=True)
    rec[kind.date_field] = rec[kind.date_field] or today.isoformat()
    if not obj.get("OutboundDate"):
        rec["OutboundDate"] = rec[kind.date_field]
    if kind is INVOICE:
        if not obj.get("DueDate"):
            rec["DueDate"] = _due(company, rec)
        if not obj.get("OCR"):
            rec["OCR"] = ocr_for(number)
    rows = obj.get(kind.rows) or []
    rec[kind.rows] = [
        _build_row(company, kind, rec, customer, row, None, new_id=True) for row in rows
    ]
    _housework(kind, rec)
    compute_totals(kind, rec)
    company["data"][kind.name][number] = rec
    records.touch(company, kind.name, number, stamp)
    return rec


def update(company: dict, kind: Kind, number: str, obj: dict, today: date, stamp: str) -> dict:
    rec = records.get(company, kind.name, number)
    _locked(kind, rec)
    _check(kind, obj)
    # The real service leaves a field unchanged when an update sends it as "" (recorded:
    # invoices/save_old_with_empty_comments.yml, save_old_with_empty_country.yml).
    obj = {k: v for k, v in obj.items() if not (isinstance(v, str) and v == "")}
    if obj.get("DocumentNumber") not in (None, number):
        raise bad_request(errors.INVALID_VALUE, "Dokumentnumret kan inte ändras.")
    obj.pop("DocumentNumber", None)
    new = copy.deepcopy(rec)
    customer_number = _str(obj.get("CustomerNumber") or rec["CustomerNumber"])
    customer = company["data"]["customers"].get(customer_number)
    if customer is None:
        raise bad_request(errors.CUSTOMER_MISSING, "Kunde inte hitta kund (CustomerNumber)")
    if customer_number != rec["CustomerNumber"]:
        new["CustomerNumber"] = customer_number
        _copy_customer(company, kind, new, customer)
    _apply_header(company, kind, new, obj, creating=False)
    terms_changed = any(k in obj for k in ("InvoiceDate", "TermsOfPayment", "CustomerNumber"))
    if kind is INVOICE and not obj.get("DueDate") and terms_changed:
        new["DueDate"] = _due(company, new)
    if kind.rows in obj:
        old_rows = {r["RowId"]: r for r in rec[kind.rows]}
        built = []
        for row in obj[kind.rows] or []:
            base = old_rows.get(row.get("RowId")) if row.get("RowId") is not None else None
            if row.get("RowId") is not None and base is None:
                raise bad_request(errors.INVALID_VALUE, f"Raden {row.get('RowId')} finns inte.")
            changes = {k: v for k, v in row.items() if k != "RowId"}
            built.append(_build_row(company, kind, new, customer, changes, base, new_id=True))
        new[kind.rows] = built
    else:
        new[kind.rows] = [
            _build_row(company, kind, new, customer, {}, r, new_id=False) for r in rec[kind.rows]
        ]
    _housework(kind, new)
    compute_totals(kind, new)
    rec.clear()
    rec.update(new)
    records.touch(company, kind.name, number, stamp)
    return rec


def _check(kind: Kind, obj: dict) -> None:
    check_fields(
        kind.entity,
        obj,
        nested={kind.rows: kind.row_entity, "EmailInformation": "EmailInformation"},
    )


def _locked(kind: Kind, rec: dict) -> None:
    if kind is INVOICE:
        if rec.get("Booked"):
            raise bad_request(errors.DOCUMENT_LOCKED, "Fakturan är bokförd och kan inte ändras.")
        if rec.get("Cancelled"):
            raise bad_request(errors.DOCUMENT_LOCKED, "Fakturan är makulerad och kan inte ändras.")
    else:
        if rec.get("Cancelled"):
            raise bad_request(errors.DOCUMENT_LOCKED, "Ordern är makulerad och kan inte ändras.")
        if _str(rec.get("InvoiceReference")) not in ("", "0"):
            raise bad_request(errors.DOCUMENT_LOCKED, "Ordern är fakturerad och kan inte ändras.")


def _copy_customer(company: dict, kind: Kind, rec: dict, customer: dict) -> None:
    for field, source in CUSTOMER_COPY.items():
        rec[field] = _str(customer.get(source))
    rec["Currency"] = rec["Currency"] or "SEK"
    rec["PriceList"] = rec["PriceList"] or records.default_pricelist(company)
    rec["TermsOfPayment"] = _str(customer.get("TermsOfPayment")) or company["settings"].get(
        "default_terms_of_payment", "30"
    )
    email_field = "EmailInvoice" if kind is INVOICE else "EmailOrder"
    email = customer.get(email_field) or customer.get("Email") or ""
    rec["EmailInformation"] = dict(rec["EmailInformation"], EmailAddressTo=email)
    if kind is INVOICE:
        rec["Remarks"] = _str(customer.get("InvoiceRemark"))
    rec["VATIncluded"] = bool(customer.get("ShowPriceVATIncluded"))
    _currency_rate(company, rec)


def _currency_rate(company: dict, rec: dict) -> None:
    code = rec.get("Currency") or "SEK"
    if code == "SEK":
        rec["CurrencyRate"], rec["CurrencyUnit"] = 1, 1
        return
    cur = company["data"]["currencies"].get(code)
    if cur is None:
        raise bad_request(errors.CURRENCY_MISSING, "Kunde inte hämta/hitta valuta")
    # Customer documents take the register's buying rate (köpkurs) and its unit; the selling
    # rate is for supplier invoices (Fortnox help "Inställningar – Valuta", fortnox-api.md,
    # third addendum §2).
    rec["CurrencyRate"] = num(cur.get("BuyRate") or 1)
    rec["CurrencyUnit"] = num(cur.get("Unit") or 1)


def _apply_header(company: dict, kind: Kind, rec: dict, obj: dict, creating: bool) -> None:
    fields = FIELDS[kind.entity]
    records.check_terms(company, obj.get("TermsOfPayment"))
    records.check_pricelist(company, obj.get("PriceList"))
    if obj.get("Currency"):
        records.check_currency(company, str(obj["Currency"]).upper())
    for name, value in obj.items():
        if name in (kind.rows, "CustomerNumber", "DocumentNumber"):
            continue
        if name in DATE_FIELDS and value not in (None, ""):
            rec[name] = parse_date(value, name)
            continue
        records.apply_simple(fields, rec, {name: value})
    if obj.get("Currency"):
        rec["Currency"] = str(obj["Currency"]).upper()
        if "CurrencyRate" not in obj:
            _currency_rate(company, rec)
    for name in ("Freight", "AdministrationFee", "CurrencyRate"):
        if name in obj and obj[name] is not None:
            rec[name] = num(round2(as_number(obj[name], name)))


def _due(company: dict, rec: dict) -> str:
    start = date.fromisoformat(rec["InvoiceDate"])
    days = records.terms_days(company, rec.get("TermsOfPayment") or "")
    return (start + timedelta(days=days)).isoformat()


def _build_row(
    company: dict,
    kind: Kind,
    doc: dict,
    customer: dict,
    sent: dict,
    base: dict | None,
    new_id: bool,
) -> dict:
    row = copy.deepcopy(base) if base is not None else copy.deepcopy(kind.row_template)
    article = None
    number = sent.get("ArticleNumber", row.get("ArticleNumber"))
    if number not in (None, ""):
        article = company["data"]["articles"].get(_str(number))
        if article is None:
            raise bad_request(errors.ARTICLE_MISSING, f"Kunde inte hitta artikel ({_str(number)})")
    fields = FIELDS[kind.row_entity]
    if "Unit" in sent:
        records.check_unit(company, sent["Unit"])
    if sent.get("VAT") is not None and as_number(sent["VAT"], "VAT") not in records.VAT_RATES:
        raise bad_request(errors.INVALID_VALUE, "Kunde inte hämta/hitta moms (VAT)")
    if sent.get("AccountNumber") is not None:
        account = as_number(sent["AccountNumber"], "AccountNumber")
        if not 1000 <= account <= 9999:
            raise bad_request(2001304, "Kunde inte hitta konto")
    records.apply_simple(fields, row, sent)
    if sent.get("ArticleNumber") == "":
        row["ArticleNumber"] = None
    fresh = base is None
    qty_fields = (
        ("DeliveredQuantity",) if kind is INVOICE else ("OrderedQuantity", "DeliveredQuantity")
    )
    for name in qty_fields:
        row[name] = num_str(round2(to_float(row.get(name))))
    if kind is ORDER:
        row["ReservedQuantity"] = num_str(to_float(row.get("ReservedQuantity")))
    if fresh:
        if article is not None:
            row["ArticleNumber"] = article["ArticleNumber"]
            if "Description" not in sent:
                row["Description"] = article.get("Description") or ""
            if "Unit" not in sent:
                row["Unit"] = article.get("Unit") or ""
            if "AccountNumber" not in sent:
                row["AccountNumber"] = article.get("SalesAccount") or records.DEFAULT_SALES_ACCOUNT
            if "VAT" not in sent:
                row["VAT"] = num(article.get("VAT") or 0)
            if "Price" not in sent:
                qty = to_float(row.get(qty_fields[0]))
                price = records.article_price(
                    company, article["ArticleNumber"], doc.get("PriceList"), qty
                )
                row["Price"] = num(price or 0)
            row["Cost"] = num(to_float(article.get("PurchasePrice")))
        else:
            if "AccountNumber" not in sent:
                row["AccountNumber"] = records.DEFAULT_SALES_ACCOUNT
            if "VAT" not in sent:
                row["VAT"] = 25
        if customer.get("VATType") in ("SEREVERSEDVAT", "EUREVERSEDVAT", "EXPORT"):
            row["VAT"] = 0
    for name in ("Price", "Discount"):
        row[name] = num(round2(to_float(row.get(name))))
    row["DiscountType"] = row.get("DiscountType") or "PERCENT"
    row["Description"] = _str(row.get("Description"))
    if row.get("HouseWork") is not None:
        row["HouseWork"] = as_bool(row["HouseWork"], "HouseWork")
    if new_id or not row.get("RowId"):
        row["RowId"] = _next_row_id(company)
    _row_totals(kind, doc, row)
    return row


def _row_totals(kind: Kind, doc: dict, row: dict) -> None:
    # The real service prices a row by its delivered quantity, on orders too (recorded:
    # orders/save_with_nested_model.yml, OrderedQuantity 1 gave Total -0).
    qty = to_float(row.get("DeliveredQuantity"))
    price = to_float(row.get("Price"))
    discount = to_float(row.get("Discount"))
    total = qty * price
    if discount:
        total = (
            total * (1 - discount / 100) if row["DiscountType"] == "PERCENT" else total - discount
        )
    total = round2(total)
    vat = to_float(row.get("VAT"))
    if doc.get("VATIncluded"):
        total_ex = round2(total / (1 + vat / 100))
        price_ex = round2(price / (1 + vat / 100))
    else:
        total_ex, price_ex = total, price
    row["Total"] = num(total)
    if kind is INVOICE:
        row["PriceExcludingVAT"] = num(price_ex)
        row["TotalExcludingVAT"] = num(total_ex)
    cost = to_float(row.get("Cost")) * qty
    value = round2(total_ex - cost)
    row["ContributionValue"] = num_str(value)
    row["ContributionPercent"] = num_str(round2(value / total_ex * 100) if total_ex else 0)
    row["_net"] = total_ex


def compute_totals(kind: Kind, rec: dict) -> None:
    net = 0.0
    vat = 0.0
    contribution = 0.0
    for row in rec[kind.rows]:
        row_net = row.pop("_net", None)
        if row_net is None:
            row_net = to_float(row.get("TotalExcludingVAT", row.get("Total")))
        net += row_net
        vat += row_net * to_float(row.get("VAT")) / 100
        contribution += to_float(row.get("ContributionValue"))
    freight = to_float(rec.get("Freight"))
    fee = to_float(rec.get("AdministrationFee"))
    rec["FreightVAT"] = num(round2(freight * 0.25))
    rec["AdministrationFeeVAT"] = num(round2(fee * 0.25))
    vat = round2(vat + freight * 0.25 + fee * 0.25)
    net = round2(net)
    gross = round2(net + freight + fee)
    raw = round2(gross + vat)
    total = round_half_up(raw) if rec.get("Currency", "SEK") == "SEK" else raw
    rec["Net"] = num(net)
    rec["Gross"] = num(gross)
    rec["TotalVAT"] = num(vat)
    rec["RoundOff"] = num(round2(total - raw))
    rec["Total"] = num(total)
    rec["TotalToPay"] = num(total)
    rec["ContributionValue"] = num(round2(contribution))
    rec["ContributionPercent"] = num(round2(contribution / net * 100) if net else 0)
    rec["HouseWork"] = any(r.get("HouseWork") for r in rec[kind.rows])
    if kind is INVOICE and rec.get("Booked"):
        rec["Balance"] = rec["Total"]


def _housework(kind: Kind, rec: dict) -> None:
    reduction = rec.get("TaxReductionType") or "none"
    for row in rec[kind.rows]:
        hw_type = row.get("HouseWorkType")
        if not hw_type or not row.get("HouseWork"):
            continue
        if hw_type == "OTHERCOSTS":
            raise bad_request(
                2002980, "Kan inte sätta typen övrig kostnad på en rad markerad som husarbete."
            )
        if hw_type in DISCONTINUED:
            raise bad_request(
                2003157, "Skattereduktion för den valda typen av husarbete har upphört."
            )
        allowed = HOUSEWORK_TYPES.get(reduction)
        if allowed is not None and hw_type not in allowed:
            raise bad_request(
                2004021,
                f"Dokument med skattereduktionstypen '{reduction}' får inte innehålla rader med "
                f"husarbetestypen '{hw_type}'.",
            )


# -- actions ---------------------------------------------------------------------------------
def bookkeep(company: dict, number: str, today: date, stamp: str) -> dict:
    rec = records.get(company, "invoices", number)
    if rec.get("Cancelled"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Fakturan är makulerad och kan inte bokföras.")
    if rec.get("Booked"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Fakturan är redan bokförd.")
    settings = company["settings"]
    settings["voucher_number"] = settings.get("voucher_number", 0) + 1
    rec["Booked"] = True
    rec["VoucherNumber"] = settings["voucher_number"]
    rec["VoucherSeries"] = "B"
    rec["VoucherYear"] = 1
    rec["Balance"] = rec["Total"]
    if not to_float(rec["Total"]):
        rec["FinalPayDate"] = today.isoformat()
    _offset_credit(company, rec, today, stamp)
    records.touch(company, "invoices", number, stamp)
    return rec


def _offset_credit(company: dict, credit_rec: dict, today: date, stamp: str) -> None:
    """A booked credit invoice is set off against the unpaid balance of the invoice it credits
    (Fortnox's "kvittning"): both balances move toward 0 by the smaller amount, and an invoice
    whose balance reaches 0 gets today's FinalPayDate."""
    if credit_rec.get("Credit") != "true":
        return
    original = company["data"]["invoices"].get(_str(credit_rec.get("InvoiceReference")))
    if original is None or not original.get("Booked") or original.get("Cancelled"):
        return
    open_balance = to_float(original.get("Balance"))
    offset = round2(min(max(open_balance, 0.0), -to_float(credit_rec["Balance"])))
    if offset <= 0:
        return
    original["Balance"] = num(round2(open_balance - offset))
    credit_rec["Balance"] = num(round2(to_float(credit_rec["Balance"]) + offset))
    for doc in (original, credit_rec):
        if to_float(doc["Balance"]) == 0:
            doc["FinalPayDate"] = today.isoformat()
    records.touch(company, "invoices", original["DocumentNumber"], stamp)


def cancel(company: dict, kind: Kind, number: str, stamp: str) -> dict:
    rec = records.get(company, kind.name, number)
    if kind is INVOICE and rec.get("Booked"):
        raise bad_request(
            errors.DOCUMENT_LOCKED, "Fakturan är bokförd och kan inte makuleras. Kreditera den."
        )
    _locked(kind, rec)
    rec["Cancelled"] = True
    records.touch(company, kind.name, number, stamp)
    return rec


def credit(company: dict, number: str, today: date, stamp: str) -> dict:
    rec = records.get(company, "invoices", number)
    if not rec.get("Booked"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Endast bokförda fakturor kan krediteras.")
    if rec.get("Credit") == "true" or _str(rec.get("CreditInvoiceReference")) not in ("", "0"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Fakturan är redan krediterad.")
    new_number = records.next_number(company, "invoices")
    credit_rec = copy.deepcopy(rec)
    credit_rec.update(
        DocumentNumber=new_number,
        Booked=False,
        Cancelled=False,
        Sent=False,
        Balance=0,
        Credit="true",
        # The credit invoice names the original in InvoiceReference; its own
        # CreditInvoiceReference stays "0" (README choices: softwerkab SDK PR #106).
        CreditInvoiceReference="0",
        InvoiceReference=number,
        OrderReference="0",
        InvoiceDate=today.isoformat(),
        OutboundDate=today.isoformat(),
        DueDate=today.isoformat(),
        OCR=ocr_for(new_number),
        VoucherNumber=None,
        VoucherSeries=None,
        VoucherYear=None,
        FinalPayDate=None,
    )
    for row in credit_rec["InvoiceRows"]:
        row["DeliveredQuantity"] = num_str(-to_float(row["DeliveredQuantity"]))
        row["RowId"] = _next_row_id(company)
        _row_totals(INVOICE, credit_rec, row)
    compute_totals(INVOICE, credit_rec)
    company["data"]["invoices"][new_number] = credit_rec
    rec["CreditInvoiceReference"] = new_number
    records.touch(company, "invoices", new_number, stamp)
    records.touch(company, "invoices", number, stamp)
    return credit_rec


def mark_sent(company: dict, kind: Kind, number: str, stamp: str) -> dict:
    rec = records.get(company, kind.name, number)
    rec["Sent"] = True
    records.touch(company, kind.name, number, stamp)
    return rec


def create_invoice_from_order(company: dict, number: str, today: date, stamp: str) -> dict:
    order = records.get(company, "orders", number)
    if order.get("Cancelled"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Ordern är makulerad.")
    if _str(order.get("InvoiceReference")) not in ("", "0"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Ordern är redan fakturerad.")
    header = {
        name: order[name]
        for name in (
            "CustomerNumber",
            "YourReference",
            "OurReference",
            "YourOrderNumber",
            "ExternalInvoiceReference1",
            "ExternalInvoiceReference2",
            "Remarks",
            "Comments",
            "Currency",
            "PriceList",
            "TermsOfPayment",
            "TermsOfDelivery",
            "WayOfDelivery",
            "Project",
            "CostCenter",
            "Language",
            "VATIncluded",
            "Freight",
            "AdministrationFee",
            "TaxReductionType",
        )
        if order.get(name) not in (None, "")
    }
    header["InvoiceRows"] = [
        {
            k: v
            for k, v in {
                "ArticleNumber": row.get("ArticleNumber"),
                "Description": row.get("Description"),
                "DeliveredQuantity": row.get("DeliveredQuantity"),
                "Price": row.get("Price"),
                "Discount": row.get("Discount"),
                "DiscountType": row.get("DiscountType"),
                "VAT": row.get("VAT"),
                "Unit": row.get("Unit") or None,
                "AccountNumber": row.get("AccountNumber"),
                "HouseWork": row.get("HouseWork"),
                "HouseWorkType": row.get("HouseWorkType"),
            }.items()
            if v is not None
        }
        for row in order["OrderRows"]
    ]
    invoice = create(company, INVOICE, header, today, stamp)
    invoice["OrderReference"] = number
    order["InvoiceReference"] = invoice["DocumentNumber"]
    records.touch(company, "orders", number, stamp)
    return invoice


# -- rendering -------------------------------------------------------------------------------
def render(base: str, kind: Kind, rec: dict) -> dict:
    number = rec["DocumentNumber"]
    reductions = f"{base}/3/taxreductions?filter={kind.name}&referencenumber={number}"
    out = {"@url": records.url(base, kind.name, number), "@urlTaxReductionList": reductions}
    out.update(copy.deepcopy(rec))  # answers and the request log must not share the record
    return out


def render_item(base: str, res, rec: dict) -> dict:
    out = {"@url": records.url(base, res.name, rec["DocumentNumber"])}
    for name in res.list_fields:
        value = rec.get(name)
        if name == "CurrencyRate":
            value = num_str(value)
        out[name] = value
    return out


def is_overdue(rec: dict, today: date) -> bool:
    return bool(rec.get("DueDate")) and rec["DueDate"] < today.isoformat()


def matches_filter(kind: Kind, name: str, rec: dict, today: date) -> bool:
    if kind is INVOICE:
        booked, cancelled = bool(rec.get("Booked")), bool(rec.get("Cancelled"))
        balance = to_float(rec.get("Balance"))
        if name == "cancelled":
            return cancelled
        if name == "fullypaid":
            return booked and not cancelled and balance == 0
        if name == "unpaid":
            return booked and not cancelled and balance != 0
        if name == "unpaidoverdue":
            return booked and not cancelled and balance != 0 and is_overdue(rec, today)
        if name == "unbooked":
            return not booked and not cancelled
    else:
        invoiced = _str(rec.get("InvoiceReference")) not in ("", "0")
        if name == "cancelled":
            return bool(rec.get("Cancelled"))
        if name == "invoicecreated":
            return invoiced
        if name == "invoicenotcreated":
            return not invoiced and not rec.get("Cancelled")
        if name == "expired":
            return (
                not invoiced
                and not rec.get("Cancelled")
                and bool(rec.get("DeliveryDate"))
                and rec["DeliveryDate"] < today.isoformat()
            )
    return False
