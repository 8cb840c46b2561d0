"""Storing what the app read of Fortnox invoices and orders (FortnoxDocument), and a customer's
figures computed from them (FortnoxCustomerFigures). No API call here: sync/figures.py reads.

Money: each invoice's Total and Balance are converted to SEK with that invoice's own
CurrencyRate per CurrencyUnit (SEK = amount × rate / unit, e.g. 100 EUR at 11.25 per 1 EUR is
1125 SEK), summed unrounded, and each sum is rounded to öre (half up) once, at the end: rounding
every invoice first could make the total differ from the sum Fortnox's own report would show by
a few öre per invoice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import HubSpotInstallation
from sync.figures_status import OVERDUE, document_status
from sync.models import FortnoxCustomerFigures, FortnoxDocument

ORE = Decimal("0.01")

# The list item's fields a change of which means the document changed (its digest): the same
# keys on a list item and on the full document, so either reading compares with the other.
DIGEST_FIELDS = (
    "Balance",
    "Booked",
    "Cancelled",
    "Currency",
    "CurrencyRate",
    "CurrencyUnit",
    "CustomerNumber",
    "DueDate",
    "InvoiceDate",
    "OrderDate",
    "Sent",
    "Total",
    "FinalPayDate",
)


def decimal_of(value: Any, default: str = "0") -> Decimal:
    """Fortnox sends numbers as numbers or strings ("1", "9.2412"); empty means `default`."""
    if value is None or value == "":
        return Decimal(default)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(default)


def bool_of(value: Any) -> bool:
    """Fortnox's booleans, also as strings ("false": Credit is a string on invoices)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def date_of(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _digest_value(value: Any) -> str:
    if isinstance(value, bool) or str(value).lower() in ("true", "false"):
        return "true" if bool_of(value) else "false"
    if isinstance(value, (int, float)) or (isinstance(value, str) and value[:1].isdigit()):
        try:
            return format(Decimal(str(value)).normalize(), "f")
        except InvalidOperation:
            pass
    return "" if value is None else str(value)


def list_digest(item: dict[str, Any]) -> str:
    """A digest of the document's list fields: a changed one means the document changed."""
    plain = {k: _digest_value(item.get(k)) for k in DIGEST_FIELDS if k in item}
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()


def reference_set(reference: str) -> bool:
    return str(reference or "") not in ("", "0")


@dataclass(frozen=True)
class Stored:
    doc: FortnoxDocument
    # Newly seen cancelled: not cancelled (or never read) before, cancelled now.
    newly_cancelled: bool
    # New, or its list fields changed since the last reading.
    changed: bool


def document_store(
    installation: HubSpotInstallation,
    tenant: str,
    kind: str,
    item: dict[str, Any],
    *,
    full: bool,
) -> Stored:
    """Store one invoice or order as Fortnox shows it: a list item (`full` False: the credit
    fields and an order's InvoiceReference are not on it and stay as last read) or the whole
    document."""
    try:
        return _document_store(installation, tenant, kind, item, full=full)
    except IntegrityError:  # stored a moment ago by a concurrent reading: update that copy
        return _document_store(installation, tenant, kind, item, full=full)


def _document_store(
    installation: HubSpotInstallation,
    tenant: str,
    kind: str,
    item: dict[str, Any],
    *,
    full: bool,
) -> Stored:
    number = str(item["DocumentNumber"])
    with transaction.atomic():
        doc = (
            FortnoxDocument.objects.select_for_update()
            .filter(
                installation=installation,
                fortnox_database_number=tenant,
                kind=kind,
                document_number=number,
            )
            .first()
        )
        was_cancelled = doc.cancelled if doc is not None else False
        digest = list_digest(item)
        changed = doc is None or doc.list_digest != digest
        if doc is None:
            doc = FortnoxDocument(
                installation=installation,
                fortnox_database_number=tenant,
                kind=kind,
                document_number=number,
            )
        invoice = kind == FortnoxDocument.Kind.INVOICE
        doc.customer_number = str(item.get("CustomerNumber") or doc.customer_number or "")
        doc.customer_name = str(item.get("CustomerName") or doc.customer_name or "")[:255]
        doc.document_date = date_of(item.get("InvoiceDate" if invoice else "OrderDate"))
        doc.due_date = date_of(item.get("DueDate")) if invoice else None
        doc.total = decimal_of(item.get("Total"))
        doc.currency = str(item.get("Currency") or "SEK")[:3]
        doc.currency_rate = decimal_of(item.get("CurrencyRate"), "1") or Decimal(1)
        doc.currency_unit = decimal_of(item.get("CurrencyUnit"), "1") or Decimal(1)
        doc.cancelled = bool_of(item.get("Cancelled"))
        doc.sent = bool_of(item.get("Sent"))
        if invoice:
            doc.balance = decimal_of(item.get("Balance"))
            doc.booked = bool_of(item.get("Booked"))
        else:
            # An order has no balance of its own: what is left to pay is its total until an
            # invoice is made from it (the deal then follows the invoice).
            doc.balance = doc.total
            doc.booked = False
        if full:
            doc.detail_read = True
            if invoice:
                doc.credit = bool_of(item.get("Credit"))
                # A credited invoice names its credit invoice in CreditInvoiceReference; a
                # credit invoice names the invoice it credits in InvoiceReference (as an
                # integrator found on a real one: fortnox-csharp-api-sdk PR #106), or else in
                # CreditInvoiceReference. Stored here either way.
                credited = _reference(item.get("CreditInvoiceReference"))
                if doc.credit:
                    credited = _reference(item.get("InvoiceReference")) or credited
                doc.credit_invoice_reference = credited
            else:
                doc.invoice_reference = _reference(item.get("InvoiceReference"))
        doc.list_digest = digest
        doc.fetched_at = timezone.now()
        doc.save()
        if full and invoice and doc.credit and reference_set(doc.credit_invoice_reference):
            # A credit invoice names the invoice it credits: that one is credited, whether or
            # not its own full document was read.
            FortnoxDocument.objects.filter(
                installation=installation,
                fortnox_database_number=tenant,
                kind=FortnoxDocument.Kind.INVOICE,
                document_number=doc.credit_invoice_reference,
                credit=False,
            ).exclude(credit_invoice_reference=doc.document_number).update(
                credit_invoice_reference=doc.document_number
            )
    return Stored(doc, doc.cancelled and not was_cancelled, changed)


def _reference(value: Any) -> str:
    text = "" if value is None else str(value)
    return "" if text == "0" else text


def in_sek(amount: Decimal, doc: FortnoxDocument) -> Decimal:
    """Unrounded: `amount` of the document's currency in SEK (rate per unit)."""
    if doc.currency == "SEK":
        return amount
    unit = doc.currency_unit or Decimal(1)
    return amount * doc.currency_rate / unit


def _ore(amount: Decimal) -> Decimal:
    return amount.quantize(ORE, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figures:
    total_invoiced: Decimal
    balance: Decimal
    overdue: Decimal
    invoice_count: int


def figures_compute(docs: list[FortnoxDocument], today: dt.date) -> Figures:
    """A customer's figures in SEK from its stored invoices: the booked, not cancelled ones
    (credit invoices included: their negative amounts take back what they credit). Total
    invoiced is the sum of their Total, balance the sum of their Balance; overdue the Balance
    of those whose status is overdue (balance left, due date before `today`, not credited)."""
    counted = [
        d for d in docs if d.kind == FortnoxDocument.Kind.INVOICE and d.booked and not d.cancelled
    ]
    total = sum((in_sek(d.total, d) for d in counted), Decimal(0))
    balance = sum((in_sek(d.balance, d) for d in counted), Decimal(0))
    overdue = sum(
        (in_sek(d.balance, d) for d in counted if document_status(d, today) == OVERDUE),
        Decimal(0),
    )
    return Figures(_ore(total), _ore(balance), _ore(overdue), len(counted))


def figures_store(
    installation: HubSpotInstallation,
    tenant: str,
    customer_number: str,
    today: dt.date,
    *,
    synced_at: dt.datetime | None,
) -> FortnoxCustomerFigures:
    """Compute the customer's figures from its stored invoices and store them. `synced_at`:
    when every page of its invoices was read (None keeps the last full reading's time)."""
    docs = list(
        FortnoxDocument.objects.filter(
            installation=installation,
            fortnox_database_number=tenant,
            kind=FortnoxDocument.Kind.INVOICE,
            customer_number=customer_number,
        )
    )
    figures = figures_compute(docs, today)
    key = {
        "installation": installation,
        "fortnox_database_number": tenant,
        "customer_number": customer_number,
    }
    try:
        with transaction.atomic():
            row, _created = FortnoxCustomerFigures.objects.get_or_create(**key)
    except IntegrityError:  # a Perform Sync of the same customer made it a moment ago
        row = FortnoxCustomerFigures.objects.get(**key)
    row.total_invoiced = figures.total_invoiced
    row.balance = figures.balance
    row.overdue = figures.overdue
    row.invoice_count = figures.invoice_count
    if synced_at is not None:
        row.synced_at = synced_at
    row.save()
    return row
