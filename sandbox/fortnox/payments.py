"""Invoice payments (/3/invoicepayments): what finance registers when a customer pays.

A payment lowers its invoice's `Balance` (in the invoice's currency) and, when the balance
reaches 0, sets the invoice's `FinalPayDate`. Fields and kinds from fortnox-openapi.json
(InvoicePayment, InvoicePaymentListItem); the rules the spec leaves open are listed in the
README's choices. Callers hold the store lock."""

from __future__ import annotations

from datetime import date
from typing import Any

from sandbox.fortnox import errors, records
from sandbox.fortnox.errors import bad_request
from sandbox.fortnox.util import num, round2, to_float
from sandbox.fortnox.validation import as_number, check_fields, parse_date

KIND = "invoicepayments"
DEFAULT_ACCOUNT = 1930  # företagskonto (BAS): the bank account a payment is booked against

# The full record, in the spec's field order (InvoicePayment).
FIELD_ORDER = (
    "Amount",
    "AmountCurrency",
    "Booked",
    "Currency",
    "CurrencyRate",
    "CurrencyUnit",
    "ExternalInvoiceReference1",
    "ExternalInvoiceReference2",
    "InvoiceCustomerName",
    "InvoiceCustomerNumber",
    "InvoiceNumber",
    "InvoiceDueDate",
    "InvoiceOCR",
    "InvoiceTotal",
    "ModeOfPayment",
    "ModeOfPaymentAccount",
    "Number",
    "PaymentDate",
    "VoucherNumber",
    "VoucherSeries",
    "VoucherYear",
    "Source",
    "WriteOffs",
)
LIST_FIELDS = (
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
)


def _table(company: dict) -> dict:
    # State saved before payments existed has no table.
    company["modified"].setdefault(KIND, {})
    return company["data"].setdefault(KIND, {})


def _check(obj: dict) -> None:
    check_fields("InvoicePayment", obj, nested={"WriteOffs": "InvoicePaymentWriteOff"})


def _invoice_for_payment(company: dict, number: Any) -> dict:
    if number in (None, ""):
        raise bad_request(errors.INVALID_VALUE, "Fältet InvoiceNumber måste anges.")
    key = str(num(as_number(number, "InvoiceNumber")))
    invoice = company["data"]["invoices"].get(key)
    if invoice is None:
        raise bad_request(2000434, "Kan inte hitta fakturan.")
    if invoice.get("Cancelled"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Fakturan är makulerad och kan inte betalas.")
    if not invoice.get("Booked"):
        raise bad_request(
            errors.DOCUMENT_LOCKED, "Fakturan är inte bokförd. Bokför fakturan innan betalning."
        )
    return invoice


def _amounts(invoice: dict, obj: dict, base: dict | None) -> tuple[float, float, float, float]:
    """(Amount in SEK, AmountCurrency in the invoice's currency, CurrencyRate, CurrencyUnit)."""
    currency = invoice.get("Currency") or "SEK"
    unit = to_float(invoice.get("CurrencyUnit"), 1.0) or 1.0
    if "CurrencyRate" in obj and obj["CurrencyRate"] is not None:
        rate = as_number(obj["CurrencyRate"], "CurrencyRate")
    elif base is not None:
        rate = to_float(base.get("CurrencyRate"), 1.0)
    else:
        rate = to_float(invoice.get("CurrencyRate"), 1.0) or 1.0
    sent_amount = obj.get("Amount")
    sent_currency = obj.get("AmountCurrency")
    amount = as_number(sent_amount, "Amount") if sent_amount is not None else None
    amount_cur = as_number(sent_currency, "AmountCurrency") if sent_currency is not None else None
    if currency == "SEK":
        rate, unit = 1.0, 1.0
        if amount is None:
            amount = amount_cur if amount_cur is not None else _old(base, "Amount")
        amount_cur = amount
    else:
        if amount_cur is None and amount is None and base is not None:
            amount, amount_cur = _old(base, "Amount"), _old(base, "AmountCurrency")
        elif amount_cur is None:
            raise bad_request(
                errors.INVALID_VALUE,
                f"Fältet AmountCurrency måste anges för en faktura i {currency}.",
            )
        elif amount is None:
            amount = amount_cur * rate / unit
    if amount is None:
        raise bad_request(errors.INVALID_VALUE, "Fältet Amount måste anges.")
    return round2(amount), round2(amount_cur), rate, unit


def _old(base: dict | None, name: str) -> float | None:
    return None if base is None else to_float(base.get(name))


def _settle(invoice: dict, delta: float, pay_date: str) -> None:
    """Lower the invoice's balance by delta (invoice currency); the final pay date follows."""
    balance = round2(to_float(invoice.get("Balance")) - delta)
    invoice["Balance"] = num(balance)
    if balance <= 0 and to_float(invoice.get("Total")) > 0:
        invoice["FinalPayDate"] = pay_date
    elif balance > 0:
        invoice["FinalPayDate"] = None


def create(company: dict, obj: dict, today: date, stamp: str) -> dict:
    table = _table(company)
    _check(obj)
    invoice = _invoice_for_payment(company, obj.get("InvoiceNumber"))
    amount, amount_cur, rate, unit = _amounts(invoice, obj, None)
    pay_date = parse_date(obj["PaymentDate"], "PaymentDate") if obj.get("PaymentDate") else None
    number = records.next_number(company, KIND)
    rec = {
        "Amount": num(amount),
        "AmountCurrency": num(amount_cur),
        "Booked": False,
        "Currency": invoice.get("Currency") or "SEK",
        "CurrencyRate": num(rate),
        "CurrencyUnit": num(unit),
        "ExternalInvoiceReference1": invoice.get("ExternalInvoiceReference1") or "",
        "ExternalInvoiceReference2": invoice.get("ExternalInvoiceReference2") or "",
        "InvoiceCustomerName": invoice.get("CustomerName") or "",
        "InvoiceCustomerNumber": invoice.get("CustomerNumber") or "",
        "InvoiceNumber": int(invoice["DocumentNumber"]),
        "InvoiceDueDate": invoice.get("DueDate"),
        "InvoiceOCR": invoice.get("OCR") or "",
        "InvoiceTotal": str(num(to_float(invoice.get("Total")))),
        "ModeOfPayment": str(obj.get("ModeOfPayment") or ""),
        "ModeOfPaymentAccount": int(
            as_number(obj.get("ModeOfPaymentAccount") or DEFAULT_ACCOUNT, "ModeOfPaymentAccount")
        ),
        "Number": number,
        "PaymentDate": pay_date or today.isoformat(),
        "VoucherNumber": None,
        "VoucherSeries": None,
        "VoucherYear": None,
        "Source": "manual",
        "WriteOffs": list(obj.get("WriteOffs") or []),
    }
    _check_account(rec["ModeOfPaymentAccount"])
    table[number] = rec
    _settle(invoice, amount_cur, rec["PaymentDate"])
    records.touch(company, KIND, number, stamp)
    records.touch(company, "invoices", invoice["DocumentNumber"], stamp)
    return rec


def _check_account(account: int) -> None:
    if not 1000 <= account <= 9999:
        raise bad_request(2001304, "Kunde inte hitta konto")


def get(company: dict, number: str) -> dict:
    rec = _table(company).get(str(number))
    if rec is None:
        raise errors.upper(404, 2000400, "Kan inte hitta betalningen.")
    return rec


def update(company: dict, number: str, obj: dict, stamp: str) -> dict:
    rec = get(company, number)
    if rec.get("Booked"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Betalningen är bokförd och kan inte ändras.")
    _check(obj)
    if obj.get("InvoiceNumber") not in (None, "") and str(
        num(as_number(obj["InvoiceNumber"], "InvoiceNumber"))
    ) != str(rec["InvoiceNumber"]):
        raise bad_request(errors.INVALID_VALUE, "Fakturanumret kan inte ändras på en betalning.")
    invoice = records.get(company, "invoices", str(rec["InvoiceNumber"]))
    amount, amount_cur, rate, unit = _amounts(invoice, obj, rec)
    if obj.get("PaymentDate"):
        rec["PaymentDate"] = parse_date(obj["PaymentDate"], "PaymentDate")
    if "ModeOfPayment" in obj:
        rec["ModeOfPayment"] = str(obj.get("ModeOfPayment") or "")
    if obj.get("ModeOfPaymentAccount") is not None:
        account = int(as_number(obj["ModeOfPaymentAccount"], "ModeOfPaymentAccount"))
        _check_account(account)
        rec["ModeOfPaymentAccount"] = account
    if "WriteOffs" in obj:
        rec["WriteOffs"] = list(obj.get("WriteOffs") or [])
    delta = amount_cur - to_float(rec["AmountCurrency"])
    rec.update(
        Amount=num(amount),
        AmountCurrency=num(amount_cur),
        CurrencyRate=num(rate),
        CurrencyUnit=num(unit),
    )
    _settle(invoice, delta, rec["PaymentDate"])
    records.touch(company, KIND, number, stamp)
    records.touch(company, "invoices", invoice["DocumentNumber"], stamp)
    return rec


def delete(company: dict, number: str, stamp: str) -> None:
    rec = get(company, number)
    if rec.get("Booked"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Betalningen är bokförd och kan inte tas bort.")
    invoice = company["data"]["invoices"].get(str(rec["InvoiceNumber"]))
    del _table(company)[str(number)]
    company["modified"][KIND].pop(str(number), None)
    company["settings"].setdefault("deleted", {}).setdefault(KIND, []).append(str(number))
    if invoice is not None:
        _settle(invoice, -to_float(rec["AmountCurrency"]), rec["PaymentDate"])
        records.touch(company, "invoices", invoice["DocumentNumber"], stamp)


def bookkeep(company: dict, number: str, stamp: str) -> dict:
    rec = get(company, number)
    if rec.get("Booked"):
        raise bad_request(errors.DOCUMENT_LOCKED, "Betalningen är redan bokförd.")
    settings = company["settings"]
    settings["voucher_number"] = settings.get("voucher_number", 0) + 1
    rec.update(Booked=True, VoucherNumber=settings["voucher_number"], VoucherSeries="C")
    rec["VoucherYear"] = 1
    records.touch(company, KIND, number, stamp)
    return rec


def render(base: str, rec: dict) -> dict:
    out: dict[str, Any] = {"@url": records.url(base, KIND, rec["Number"])}
    for name in FIELD_ORDER:
        out[name] = list(rec[name]) if name == "WriteOffs" else rec.get(name)
    return out


def render_item(base: str, rec: dict) -> dict:
    out: dict[str, Any] = {"@url": records.url(base, KIND, rec["Number"])}
    for name in LIST_FIELDS:
        out[name] = bool(rec.get("WriteOffs")) if name == "WriteOffExist" else rec.get(name)
    return out
