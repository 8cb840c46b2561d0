"""The vendor invoices its own customers through Fortnox (issue 17 ★).

At the end of a period, staff have a draft invoice created in the vendor's own Fortnox company
(billing/vendor_fortnox.py) for each portal on a paid plan: the portal owner's billing details
as the customer, found or created by the money path's rules (sync/customers.py), the plan's fee
and the period's count as rows. Never twice for a portal and period:

- the VendorInvoice row (unique per portal and period) is taken under a row lock, held across
  the Fortnox calls (a rare staff action, so nothing waits long behind it);
- a row already `created` is returned unchanged, with no Fortnox call;
- before any create the invoice is looked up by its ExternalInvoiceReference1, and adopted when
  an earlier attempt made it (its answer lost, or the worker died before the row committed:
  `create_sent_at` is written in the lock's transaction, so after a crash the row may not even
  say a create was sent: the lookup therefore runs whenever the row has no number);
- a create whose answer is lost (FortnoxOutcomeUnknown) is looked up again at once, as the run
  engine does (sync/document_run.py `_create_once`).

Drafts only: the invoice is never bookkept or sent; staff do that in Fortnox.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import override

from billing.models import BillingDetails, Plan, UsageRecord, VendorInvoice
from billing.services import STOCKHOLM, current_period, portal_plan
from billing.vendor_fortnox import vendor_connection_get, vendor_fortnox_client
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.errors import FortnoxError, FortnoxOutcomeUnknown
from integrations.models import HubSpotInstallation
from sync.countries import SWEDEN, vat_type
from sync.customers import fortnox_customer_find
from sync.document import ZERO_VAT_TYPES

logger = logging.getLogger(__name__)

#: What the vendor's customers read on the invoice's fee row.
PRODUCT_NAME = "Fortnox for HubSpot"
#: Swedish VAT on the service; 0 for reverse charge and export (sync/document.py's rule).
SWEDISH_VAT = 25
OUR_REFERENCE = "Fortnox for HubSpot"


class VendorInvoiceRefused(Exception):
    """The invoice cannot be created as things stand; nothing was sent to Fortnox."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


@dataclass(frozen=True)
class VendorInvoiceResult:
    invoice: VendorInvoice
    #: True when the invoice was created (or adopted) by an earlier request: nothing was sent.
    already: bool = False

    @property
    def failed(self) -> bool:
        return self.invoice.status == VendorInvoice.Status.FAILED


def vendor_invoice_reference(installation: HubSpotInstallation, period: datetime.date) -> str:
    """ExternalInvoiceReference1 of a portal's invoice for a period: one per portal and period,
    so the lookup after a lost answer finds exactly that invoice."""
    return f"cloudify-billing-{installation.hub_id}-{period:%Y-%m}"


def period_name(period: datetime.date) -> str:
    """ "November 2026": the rows are written in English (the vendor's invoices)."""
    with override("en"):
        return date_format(period, "F Y")


def ended_periods(now: datetime.datetime | None = None, count: int = 12) -> list[datetime.date]:
    """The last `count` ended periods, newest first (Europe/Stockholm months)."""
    periods, period = [], current_period(now)
    for _month in range(count):
        period = (period - datetime.timedelta(days=1)).replace(day=1)
        periods.append(period)
    return periods


def vendor_invoice_create(
    installation: HubSpotInstallation, period: datetime.date, *, requested_by: str
) -> VendorInvoiceResult:
    """The portal's draft invoice for `period` in the vendor's Fortnox company: created once.
    Raises VendorInvoiceRefused (nothing sent) when it cannot be made; a Fortnox failure is
    stored on the row (status failed, with the fix) and a later request retries it."""
    period = period.replace(day=1)
    if period >= current_period():
        raise VendorInvoiceRefused(
            f"The period {period:%Y-%m} has not ended yet.",
            f"Create it from {_next_month(period):%Y-%m-%d} (Swedish time), or choose an ended "
            "period.",
        )
    done = VendorInvoice.objects.filter(
        installation=installation, period=period, status=VendorInvoice.Status.CREATED
    ).first()
    if done is not None:
        return VendorInvoiceResult(done, already=True)
    connection = vendor_connection_get()
    if connection is None or not connection.is_usable:
        raise VendorInvoiceRefused(
            "The vendor's Fortnox company is not connected."
            if connection is None
            else "The vendor's Fortnox company needs to be connected again.",
            "Connect it in Django admin: Vendor's Fortnox connections > Connect the vendor's "
            "Fortnox company.",
        )
    plan = portal_plan(installation)
    if not plan.is_paid:
        raise VendorInvoiceRefused(
            f"Portal {installation.hub_id} is on the {plan.name} plan, which costs nothing.",
            "Nothing to invoice; change the portal's plan in Django admin (Portal plans) if it "
            "should pay.",
        )
    details = BillingDetails.objects.filter(installation=installation).first()
    if details is None:
        raise VendorInvoiceRefused(
            f"Portal {installation.hub_id} has no billing details.",
            "A super admin gives them on the Usage tab of the app's settings page; then try again.",
        )
    with transaction.atomic():
        VendorInvoice.objects.get_or_create(
            installation=installation,
            period=period,
            defaults={
                "external_reference": vendor_invoice_reference(installation, period),
                "requested_by": requested_by,
            },
        )
        invoice = VendorInvoice.objects.select_for_update().get(
            installation=installation, period=period
        )
        if invoice.status == VendorInvoice.Status.CREATED:  # made while we waited for the lock
            return VendorInvoiceResult(invoice, already=True)
        invoice.requested_by, invoice.requested_at = requested_by, timezone.now()
        invoice.fortnox_database_number = connection.database_number
        client = vendor_fortnox_client(connection)
        try:
            created = _create_once(client, invoice, installation, period, plan, details)
        except FortnoxError as exc:
            invoice.status = VendorInvoice.Status.FAILED
            invoice.error_message, invoice.error_fix = exc.message, exc.fix
            invoice.save()
            logger.warning(
                "vendor invoice failed",
                extra={"portal": installation.hub_id, "period": f"{period:%Y-%m}"},
            )
            return VendorInvoiceResult(invoice)
        _store_created(invoice, created)
        invoice.save()
    logger.info(
        "vendor invoice created",
        extra={
            "portal": installation.hub_id,
            "period": f"{period:%Y-%m}",
            "fortnox_invoice": invoice.document_number,
        },
    )
    return VendorInvoiceResult(invoice)


def _next_month(period: datetime.date) -> datetime.date:
    return (period + datetime.timedelta(days=32)).replace(day=1)


def _create_once(
    client: FortnoxClient,
    invoice: VendorInvoice,
    installation: HubSpotInstallation,
    period: datetime.date,
    plan: Plan,
    details: BillingDetails,
) -> dict[str, Any]:
    if invoice.create_sent_at is None:  # the snapshot of what the create sends
        invoice.plan_name, invoice.plan_quota = plan.name, plan.monthly_quota
        invoice.plan_price, invoice.plan_currency = plan.price, plan.currency
        invoice.used, invoice.credited = _counted(installation, period)
    existing = _find_by_reference(client, invoice.external_reference)
    if existing is not None:
        invoice.customer_matched_by = invoice.customer_matched_by or "adopted"
        return client.document_get("invoice", str(existing["DocumentNumber"]))
    fields = customer_fields_from_billing(details)
    number, matched_by = fortnox_customer_find(client, fields, match_by_name=True)
    if not number:
        number, matched_by = str(client.customer_create(fields)["CustomerNumber"]), "created"
    invoice.fortnox_customer_number, invoice.customer_matched_by = number, matched_by
    document = vendor_invoice_document(
        invoice, customer_number=number, vat=_row_vat(fields["VATType"])
    )
    invoice.create_sent_at = timezone.now()
    invoice.save()
    try:
        return client.document_create("invoice", document)
    except FortnoxOutcomeUnknown:
        existing = _find_by_reference(client, invoice.external_reference)
        if existing is None:
            raise
        return client.document_get("invoice", str(existing["DocumentNumber"]))


def _find_by_reference(client: FortnoxClient, reference: str) -> dict | None:
    # Substring search (fortnox-api.md Addendum §3): keep only the exact match.
    for document in client.documents_search("invoice", externalinvoicereference1=reference):
        if document.get("ExternalInvoiceReference1") == reference:
            return document
    return None


def _counted(installation: HubSpotInstallation, period: datetime.date) -> tuple[int, int]:
    """(documents counted minus credited, credited) in the period: billing.services' count."""
    records = UsageRecord.objects.filter(installation=installation, period=period)
    credited = records.filter(credit__isnull=False).count()
    return records.count() - credited, credited


def _row_vat(customer_vat_type: str) -> int:
    """The rows' VAT as sync/document.py decides it: none for reverse charge and export
    (ZERO_VAT_TYPES), else Swedish VAT (EUVAT: an EU buyer without a VAT number pays it)."""
    return 0 if customer_vat_type in ZERO_VAT_TYPES else SWEDISH_VAT


def customer_fields_from_billing(details: BillingDetails) -> dict[str, str]:
    """The Fortnox customer fields of the portal owner, as sync/customers.py's
    `customer_fields` makes them for a HubSpot company (the forms already checked and
    canonicalised the numbers: billing/forms.py)."""
    country = (details.country or SWEDEN).upper()
    vat_number = details.vat_number.replace(" ", "").upper()
    fields = {
        "Type": "COMPANY",
        "Name": details.legal_name.strip(),
        "OrganisationNumber": details.organisation_number.strip(),
        "VATNumber": vat_number,
        "Address1": details.address.strip(),
        "ZipCode": details.zip_code.strip(),
        "City": details.city.strip(),
        "CountryCode": country,
        "Email": details.invoice_email,
        "EmailInvoice": details.invoice_email,
        "VATType": vat_type(country, vat_number),
    }
    return {name: value for name, value in fields.items() if value}


def vendor_invoice_document(
    invoice: VendorInvoice, *, customer_number: str, vat: int
) -> dict[str, Any]:
    """The draft invoice: the plan's fee, and the period's count as a text row.

    The count is a text row (Description only, fortnox-api.md §4.3: rows without an article
    are allowed), not a quantity row at price 0: the plan is a flat fee, so the count is
    information, and a quantity row would add a zero amount with a VAT rate and an account to
    a line nobody pays for."""
    month = period_name(invoice.period)
    fee = (
        f"{PRODUCT_NAME}, plan {invoice.plan_name}, {month} "
        f"({invoice.plan_quota} documents a month)"
    )
    count = f"Documents created in {month}: {invoice.used} of {invoice.plan_quota}"
    if invoice.credited:
        count += f" ({invoice.credited} credited)"
    today = timezone.now().astimezone(STOCKHOLM).date()
    return {
        "CustomerNumber": customer_number,
        "InvoiceDate": today.isoformat(),
        "Currency": invoice.plan_currency,
        "ExternalInvoiceReference1": invoice.external_reference,
        "YourReference": f"HubSpot portal {invoice.installation.hub_id}",
        "OurReference": OUR_REFERENCE,
        "InvoiceRows": [
            {
                "Description": fee,
                "DeliveredQuantity": 1,
                "Price": float(invoice.plan_price or Decimal(0)),
                "VAT": vat,
            },
            {"Description": count},
        ],
    }


def _store_created(invoice: VendorInvoice, created: dict[str, Any]) -> None:
    """Fortnox's own figures, as it answered."""
    invoice.status = VendorInvoice.Status.CREATED
    invoice.document_number = str(created["DocumentNumber"])
    invoice.fortnox_customer_number = str(created.get("CustomerNumber") or "")
    invoice.total = _decimal(created.get("Total"))
    invoice.total_vat = _decimal(created.get("TotalVAT"))
    invoice.currency = str(created.get("Currency") or invoice.plan_currency)
    invoice.created_at = timezone.now()
    invoice.error_message = invoice.error_fix = ""


def _decimal(value: object) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))
