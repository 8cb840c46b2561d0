"""Fortnox financial figures on HubSpot records, and the payment status of the deals' documents
(issue 16). SKELETON: the interface the app card endpoints use; being implemented.

A customer's figures are its **booked, not cancelled** invoices in Fortnox (every page of
`GET /3/invoices?customernumber=…`, compared exactly: the search is a substring match), summed
in SEK (each invoice converted with its own CurrencyRate / CurrencyUnit). They are stored
(FortnoxDocument, FortnoxCustomerFigures) and written to the app's properties on the contact or
company. A deal's document status and balance are written to the app's deal properties; an
order follows the invoice made from it (InvoiceReference).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import HubSpotInstallation
from notes.services import document_url
from sync.models import CustomerMapping, FortnoxCustomerFigures, FortnoxDocument, Run, RunKind

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: How many of a customer's invoices the card lists (newest first).
LATEST_INVOICES = 10

# Document status codes, as the cards and the deal property `fortnox_document_status` name them.
DRAFT = "draft"
BOOKED = "booked"
SENT = "sent"
PAID = "paid"
OVERDUE = "overdue"
CREDITED = "credited"
CANCELLED = "cancelled"
UNPAID = "unpaid"  # an invoice list's word for booked/sent and not yet due


@dataclass(frozen=True)
class DocumentView:
    kind: str  # "invoice" | "order"
    number: str
    status: str  # one of the codes above
    date: dt.date | None
    due_date: dt.date | None
    total: Decimal
    balance: Decimal
    currency: str
    url: str  # the document in Fortnox
    # An order's invoice (InvoiceReference), when one was made from it.
    invoice: DocumentView | None = None


@dataclass(frozen=True)
class CustomerFiguresView:
    customer_number: str
    customer_url: str  # the customer in Fortnox
    total_invoiced: Decimal  # SEK
    balance: Decimal  # SEK
    overdue: Decimal  # SEK
    synced_at: dt.datetime | None
    latest_invoices: list[DocumentView] = field(default_factory=list)  # newest first, at most 10


class FiguresUnavailable(Exception):
    """Why figures cannot be had (no Fortnox connection, no customer for the record, Fortnox
    refused): `message` and `fix` in the active language."""

    def __init__(self, code: str, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.code = code  # "not_connected" | "no_customer" | "fortnox"
        self.message = message
        self.fix = fix


def swedish_today(now: dt.datetime | None = None) -> dt.date:
    """Today in Sweden: Fortnox's due dates are Swedish dates."""
    return (now or timezone.now()).astimezone(STOCKHOLM).date()


def _unset(reference: str) -> bool:
    return reference in ("", "0")


def document_status(doc: FortnoxDocument, today: dt.date) -> str:
    """The status code of a stored document as Fortnox last showed it.

    Invoice: cancelled; credited (a credit invoice was made of it); draft (not booked); paid
    (booked, balance 0); overdue (balance left, due date passed); sent (booked, sent, not due);
    unpaid (booked, not sent, not due). Order: cancelled; booked (registered, whether or not an
    invoice was made from it: the deal follows the invoice then, see `deal_status`)."""
    if doc.cancelled:
        return CANCELLED
    if doc.kind == FortnoxDocument.Kind.ORDER:
        return BOOKED
    if not doc.credit and not _unset(doc.credit_invoice_reference):
        return CREDITED
    if not doc.booked:
        return DRAFT
    if doc.balance == 0:
        return PAID
    if doc.due_date is not None and doc.due_date < today and doc.balance > 0:
        return OVERDUE
    return SENT if doc.sent else UNPAID


def record_object_type(object_type: str) -> str:
    """ "contacts" or "companies" (CustomerMapping's names) from HubSpot's object type id
    ("0-1", "0-2") or name (singular or plural)."""
    names = {
        "0-1": "contacts",
        "contact": "contacts",
        "contacts": "contacts",
        "0-2": "companies",
        "company": "companies",
        "companies": "companies",
    }
    try:
        return names[object_type.lower()]
    except KeyError:
        raise ValueError(f"not a contact or company object type: {object_type!r}") from None


def _tenant(installation: HubSpotInstallation) -> str:
    connection = installation.active_fortnox_connection()
    if connection is None or not connection.database_number:
        raise FiguresUnavailable(
            "not_connected",
            _("This HubSpot account is not connected to Fortnox."),
            _("Connect Fortnox on the app's settings page."),
        )
    return connection.database_number


def _mapping(installation: HubSpotInstallation, tenant: str, object_type: str, object_id: str):
    mapping = CustomerMapping.objects.filter(
        installation=installation,
        fortnox_database_number=tenant,
        hubspot_object_type=record_object_type(object_type),
        hubspot_object_id=str(object_id),
    ).first()
    if mapping is None:
        raise FiguresUnavailable(
            "no_customer",
            _("This record has no Fortnox customer yet."),
            _("Press Update to create the customer in Fortnox, or sync the record's deal."),
        )
    return mapping


def customer_url(tenant: str, number: str) -> str:
    """The customer in Fortnox's web app (settings.FORTNOX_CUSTOMER_URL)."""
    return settings.FORTNOX_CUSTOMER_URL.format(tenant=tenant, kind="customer", number=number)


def document_view(
    doc: FortnoxDocument, today: dt.date, invoice: FortnoxDocument | None = None
) -> DocumentView:
    return DocumentView(
        kind=doc.kind,
        number=doc.document_number,
        status=document_status(doc, today),
        date=doc.document_date,
        due_date=doc.due_date,
        total=doc.total,
        balance=doc.balance,
        currency=doc.currency,
        url=document_url(doc.fortnox_database_number, doc.kind, doc.document_number),
        invoice=document_view(invoice, today) if invoice is not None else None,
    )


def _newest_first(queryset):
    return queryset.order_by("-document_date", "-fetched_at", "-pk")


def _latest_invoices(
    installation: HubSpotInstallation, tenant: str, customer_number: str, today: dt.date
) -> list[DocumentView]:
    docs = FortnoxDocument.objects.filter(
        installation=installation,
        fortnox_database_number=tenant,
        kind=FortnoxDocument.Kind.INVOICE,
        customer_number=customer_number,
    )
    return [document_view(d, today) for d in _newest_first(docs)[:LATEST_INVOICES]]


def customer_figures_get(
    installation: HubSpotInstallation, object_type: str, object_id: str
) -> CustomerFiguresView | None:
    """The stored figures of the record's Fortnox customer (no API call); None before the first
    sync. Raises FiguresUnavailable("not_connected" / "no_customer")."""
    tenant = _tenant(installation)
    mapping = _mapping(installation, tenant, object_type, object_id)
    return _figures_view(installation, tenant, mapping.fortnox_customer_number)


def customer_number_get(installation: HubSpotInstallation, object_type: str, object_id: str) -> str:
    """The record's Fortnox customer number in the connected company (no API call). Raises
    FiguresUnavailable("not_connected" / "no_customer")."""
    tenant = _tenant(installation)
    return _mapping(installation, tenant, object_type, object_id).fortnox_customer_number


def _figures_view(
    installation: HubSpotInstallation, tenant: str, customer_number: str
) -> CustomerFiguresView | None:
    row = FortnoxCustomerFigures.objects.filter(
        installation=installation, fortnox_database_number=tenant, customer_number=customer_number
    ).first()
    if row is None:
        return None
    return CustomerFiguresView(
        customer_number=customer_number,
        customer_url=customer_url(tenant, customer_number),
        total_invoiced=row.total_invoiced,
        balance=row.balance,
        overdue=row.overdue,
        synced_at=row.synced_at,
        latest_invoices=_latest_invoices(installation, tenant, customer_number, swedish_today()),
    )


def deal_document_runs(installation: HubSpotInstallation, deal_id: str):
    """The succeeded document runs of the deal (the documents the app made), newest first."""
    return (
        Run.objects.filter(
            installation=installation,
            subject_id=str(deal_id),
            kind__in=(RunKind.INVOICE, RunKind.ORDER),
            status=Run.Status.SUCCEEDED,
        )
        .exclude(fortnox_document_number="")
        .order_by("-finished_at", "-pk")
    )


def deal_documents_get(installation: HubSpotInstallation, deal_id: str) -> list[DocumentView]:
    """The Fortnox documents the app made from the deal (newest first), as last read (no API
    call). A document never read yet is left out; [] when Fortnox is not connected."""
    connection = installation.active_fortnox_connection()
    if connection is None:
        return []
    tenant = connection.database_number
    today = swedish_today()
    views: list[DocumentView] = []
    seen: set[tuple[str, str]] = set()
    for run in deal_document_runs(installation, deal_id):
        key = (run.kind, run.fortnox_document_number)
        if key in seen:
            continue
        seen.add(key)
        doc = FortnoxDocument.objects.filter(
            installation=installation,
            fortnox_database_number=tenant,
            kind=run.kind,
            document_number=run.fortnox_document_number,
        ).first()
        if doc is None:
            continue
        invoice = None
        if doc.kind == FortnoxDocument.Kind.ORDER and not _unset(doc.invoice_reference):
            invoice = FortnoxDocument.objects.filter(
                installation=installation,
                fortnox_database_number=tenant,
                kind=FortnoxDocument.Kind.INVOICE,
                document_number=doc.invoice_reference,
            ).first()
        views.append(document_view(doc, today, invoice))
    return views


def deal_status(view: DocumentView) -> tuple[str, Decimal]:
    """The deal's payment status and balance from its document: an order's are its invoice's
    once one was made from it."""
    shown = view.invoice if view.invoice is not None else view
    return shown.status, shown.balance


def customer_figures_refresh(
    installation: HubSpotInstallation, object_type: str, object_id: str
) -> CustomerFiguresView:
    """Perform Sync: read the customer's invoices from Fortnox now, store them, write the
    record's Fortnox properties and the payment status of the deals they belong to."""
    raise NotImplementedError


def deal_documents_refresh(installation: HubSpotInstallation, deal_id: str) -> list[DocumentView]:
    """Read the deal's documents from Fortnox now (an order's invoice too), store them and write
    the deal's payment status properties."""
    raise NotImplementedError


def figures_nightly(installation: HubSpotInstallation) -> None:
    """One paged `GET /3/invoices?lastmodified=<last run>` (and orders) for the portal's Fortnox
    company, paced under its limit; updates the customers and deals it touches."""
    raise NotImplementedError
