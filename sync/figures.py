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

from integrations.models import HubSpotInstallation

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


def customer_figures_get(
    installation: HubSpotInstallation, object_type: str, object_id: str
) -> CustomerFiguresView | None:
    """The stored figures of the record's Fortnox customer (no API call); None before the first
    sync. Raises FiguresUnavailable("not_connected" / "no_customer")."""
    raise NotImplementedError


def customer_figures_refresh(
    installation: HubSpotInstallation, object_type: str, object_id: str
) -> CustomerFiguresView:
    """Perform Sync: read the customer's invoices from Fortnox now, store them, write the
    record's Fortnox properties and the payment status of the deals they belong to."""
    raise NotImplementedError


def deal_documents_get(installation: HubSpotInstallation, deal_id: str) -> list[DocumentView]:
    """The Fortnox documents the app made from the deal (newest first), as last read."""
    raise NotImplementedError


def deal_documents_refresh(installation: HubSpotInstallation, deal_id: str) -> list[DocumentView]:
    """Read the deal's documents from Fortnox now (an order's invoice too), store them and write
    the deal's payment status properties."""
    raise NotImplementedError


def figures_nightly(installation: HubSpotInstallation) -> None:
    """One paged `GET /3/invoices?lastmodified=<last run>` (and orders) for the portal's Fortnox
    company, paced under its limit; updates the customers and deals it touches."""
    raise NotImplementedError
