"""The status code of a stored Fortnox document (sync/figures.py): what the app cards show and
the deal property `fortnox_document_status` says."""

from __future__ import annotations

import datetime as dt

from sync.models import FortnoxDocument

# Document status codes, as the cards and the deal property `fortnox_document_status` name them.
DRAFT = "draft"
BOOKED = "booked"
SENT = "sent"
PAID = "paid"
OVERDUE = "overdue"
CREDITED = "credited"
CANCELLED = "cancelled"
UNPAID = "unpaid"  # an invoice list's word for booked/sent and not yet due


def _unset(reference: str) -> bool:
    return reference in ("", "0")


def document_status(doc: FortnoxDocument, today: dt.date) -> str:
    """The status code of a stored document as Fortnox last showed it.

    Invoice: cancelled; credited (a credit invoice was made of it); draft (not booked); paid
    (booked, balance 0); overdue (balance left, due date passed); sent (booked, sent, not due);
    unpaid (booked, not sent, not due). A credit invoice: draft, booked, or paid. Order:
    cancelled; booked (registered, whether or not an invoice was made from it: the deal follows
    the invoice then, see `deal_status`)."""
    if doc.cancelled:
        return CANCELLED
    if doc.kind == FortnoxDocument.Kind.ORDER:
        return BOOKED
    if doc.credit:
        # A credit invoice is no debt of the customer's: booked, or paid once settled.
        if not doc.booked:
            return DRAFT
        return PAID if doc.balance == 0 else BOOKED
    if not _unset(doc.credit_invoice_reference):
        return CREDITED
    if not doc.booked:
        return DRAFT
    if doc.balance == 0:
        return PAID
    if doc.due_date is not None and doc.due_date < today and doc.balance > 0:
        return OVERDUE
    return SENT if doc.sent else UNPAID
