"""Fortnox financial figures on HubSpot records, and the payment status of the deals' documents
(issue 16): the interface the app card endpoints use, the nightly refresh, and the deals'
payment status. Storing and computing: sync/figures_store.py; writing to HubSpot:
sync/figures_hubspot.py; the status codes: sync/figures_status.py.

A customer's figures are its **booked, not cancelled** invoices in Fortnox (every page of
`GET /3/invoices?customernumber=…`, compared exactly: the search is a substring match), summed
in SEK (each invoice converted with its own CurrencyRate / CurrencyUnit). They are stored
(FortnoxDocument, FortnoxCustomerFigures) and written to the app's properties on the contact or
company. A deal's document status and balance are written to the app's deal properties; an
order follows the invoice made from it (InvoiceReference).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations import ratelimit
from integrations.errors import IntegrationError
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.errors import FortnoxError, FortnoxNotFound
from integrations.hubspot.client import HubSpotClient
from integrations.models import HubSpotInstallation
from notes.services import document_url
from sync.figures_hubspot import (
    cancelled_notes,
    customer_properties_write,
    deal_properties_write,
)

# The status codes are part of this module's interface (the cards name them from here).
from sync.figures_status import (  # noqa: F401
    BOOKED,
    CANCELLED,
    CREDITED,
    DRAFT,
    OVERDUE,
    PAID,
    SENT,
    UNPAID,
    document_status,
)
from sync.figures_store import (
    Stored,
    decimal_of,
    document_store,
    figures_store,
    list_digest,
    reference_set,
)
from sync.models import (
    CustomerMapping,
    FiguresRefresh,
    FortnoxCustomerFigures,
    FortnoxDocument,
    Run,
    RunKind,
)

logger = logging.getLogger(__name__)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: How many of a customer's invoices the card lists (newest first).
LATEST_INVOICES = 10


@dataclass(frozen=True)
class DocumentView:
    kind: str  # "invoice" | "order"
    number: str
    status: str  # one of the codes of sync/figures_status.py
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
    # The name on the customer's newest invoice in Fortnox ("" before one was read).
    customer_name: str = ""


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


def record_object_type(object_type: str) -> str:
    """CustomerMapping's name of the object type, "contacts" or "companies", from HubSpot's
    object type id ("0-1", "0-2") or name (singular or plural)."""
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
    """By date, then by number (numerically: "10" after "9")."""
    return queryset.order_by("-document_date", Length("document_number").desc(), "-document_number")


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
        customer_name=FortnoxDocument.objects.filter(
            installation=installation,
            fortnox_database_number=tenant,
            customer_number=customer_number,
        )
        .exclude(customer_name="")
        .order_by("-document_date", "-pk")
        .values_list("customer_name", flat=True)
        .first()
        or "",
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


def deal_document_made(installation: HubSpotInstallation, deal_id: str) -> list[Run]:
    """The latest run that made each document of the deal, newest first, one per document."""
    made: dict[tuple[str, str], Run] = {}
    for run in deal_document_runs(installation, deal_id):
        made.setdefault((run.kind, run.fortnox_document_number), run)
    return list(made.values())


def deal_documents_get(
    installation: HubSpotInstallation, deal_id: str, *, today: dt.date | None = None
) -> list[DocumentView]:
    """The Fortnox documents the app made from the deal (newest first), as last read (no API
    call); one never read yet as its run made it (a draft, the run's total). [] when Fortnox is
    not connected."""
    connection = installation.active_fortnox_connection()
    if connection is None:
        return []
    tenant = connection.database_number
    today = today or swedish_today()
    views: list[DocumentView] = []
    for run in deal_document_made(installation, deal_id):
        doc = FortnoxDocument.objects.filter(
            installation=installation,
            fortnox_database_number=tenant,
            kind=run.kind,
            document_number=run.fortnox_document_number,
        ).first()
        if doc is None:
            # Not read from Fortnox yet: as the run made it (the app makes drafts only).
            views.append(_run_view(run, tenant))
            continue
        invoice = None
        if doc.kind == FortnoxDocument.Kind.ORDER and reference_set(doc.invoice_reference):
            invoice = FortnoxDocument.objects.filter(
                installation=installation,
                fortnox_database_number=tenant,
                kind=FortnoxDocument.Kind.INVOICE,
                document_number=doc.invoice_reference,
            ).first()
        views.append(document_view(doc, today, invoice))
    return views


def _run_view(run: Run, tenant: str) -> DocumentView:
    total = run.total if run.total is not None else Decimal(0)
    return DocumentView(
        kind=run.kind,
        number=run.fortnox_document_number,
        status=DRAFT,
        date=None,
        due_date=None,
        total=total,
        balance=total,
        currency=run.currency or "SEK",
        url=document_url(tenant, run.kind, run.fortnox_document_number),
    )


def deal_status(view: DocumentView) -> tuple[str, Decimal]:
    """The deal's payment status and balance from its document: an order's are its invoice's
    once one was made from it."""
    shown = view.invoice if view.invoice is not None else view
    return shown.status, shown.balance


def _clients(installation: HubSpotInstallation, *, bulk: bool = False):
    connection = installation.active_fortnox_connection()
    if connection is None or not connection.database_number:
        _tenant(installation)  # raises not_connected
    fortnox = FortnoxClient(connection)
    if bulk:
        # Deal runs first: the nightly refresh takes its calls from the company's bulk share of
        # the Fortnox pace (integrations/ratelimit.py FORTNOX_BULK_RATE).
        fortnox.share_bucket = (ratelimit.bulk_key(fortnox.rate_key), ratelimit.fortnox_bulk_rate())
    return connection.database_number, fortnox, HubSpotClient(installation)


def _fortnox_refused(exc: IntegrationError) -> FiguresUnavailable:
    return FiguresUnavailable(
        "fortnox", exc.message, exc.fix or _("Wait a few minutes and press Perform Sync again.")
    )


def _invoice_order(item: dict) -> tuple:
    """Newest first: by invoice date, then document number."""
    number = str(item.get("DocumentNumber", ""))
    return (str(item.get("InvoiceDate") or ""), number.isdigit(), number.zfill(20))


def _customer_read(
    installation: HubSpotInstallation, tenant: str, fortnox, customer_number: str
) -> list[Stored]:
    """Every page of the customer's invoices, stored; the newest LATEST_INVOICES read in full
    when new or changed (the credit fields are only on the full invoice)."""
    items = sorted(fortnox.customer_invoices(customer_number), key=_invoice_order, reverse=True)
    stored: list[Stored] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        number = str(item["DocumentNumber"])
        seen.add(number)
        previous = FortnoxDocument.objects.filter(
            installation=installation,
            fortnox_database_number=tenant,
            kind=FortnoxDocument.Kind.INVOICE,
            document_number=number,
        ).first()
        full_wanted = index < LATEST_INVOICES and (
            previous is None
            or not previous.detail_read
            or previous.list_digest != list_digest(item)
        )
        if full_wanted:
            item = fortnox.document_get("invoice", number)
        stored.append(
            document_store(
                installation, tenant, FortnoxDocument.Kind.INVOICE, item, full=full_wanted
            )
        )
    # An invoice no longer listed for the customer (moved to another customer) is not its.
    FortnoxDocument.objects.filter(
        installation=installation,
        fortnox_database_number=tenant,
        kind=FortnoxDocument.Kind.INVOICE,
        customer_number=customer_number,
    ).exclude(document_number__in=seen).delete()
    return stored


def _customer_refresh(
    installation: HubSpotInstallation, tenant: str, fortnox, hubspot, customer_number: str
) -> list[Stored]:
    """Read, store, compute and write one customer's figures; the deals of its invoices get
    their status. Returns what was stored."""
    read_at = timezone.now()
    stored = _customer_read(installation, tenant, fortnox, customer_number)
    row = figures_store(installation, tenant, customer_number, swedish_today(), synced_at=read_at)
    customer_properties_write(hubspot, installation, row)
    _deals_of_documents_write(installation, tenant, hubspot, [s.doc for s in stored])
    cancelled_notes(installation, [s.doc for s in stored if s.newly_cancelled])
    return stored


def customer_figures_refresh(
    installation: HubSpotInstallation, object_type: str, object_id: str
) -> CustomerFiguresView:
    """Perform Sync: read the customer's invoices from Fortnox now, store them, write the
    record's Fortnox properties (and those of every other record mapped to the customer) and
    the payment status of the deals they belong to. Raises FiguresUnavailable
    ("not_connected" / "no_customer" / "fortnox", the last with Fortnox's words and the fix);
    a HubSpot failure is raised as the IntegrationError it is."""
    tenant = _tenant(installation)
    mapping = _mapping(installation, tenant, object_type, object_id)
    tenant, fortnox, hubspot = _clients(installation)
    number = mapping.fortnox_customer_number
    try:
        _customer_refresh(installation, tenant, fortnox, hubspot, number)
    except FortnoxError as exc:
        raise _fortnox_refused(exc) from exc
    view = _figures_view(installation, tenant, number)
    assert view is not None  # just stored
    return view


def _deal_ids_of_documents(
    installation: HubSpotInstallation, tenant: str, docs: list[FortnoxDocument]
) -> list[str]:
    """The deals whose succeeded document runs made these documents, or the orders these
    invoices were made from."""
    invoices = {d.document_number for d in docs if d.kind == FortnoxDocument.Kind.INVOICE}
    orders = {d.document_number for d in docs if d.kind == FortnoxDocument.Kind.ORDER}
    if invoices:
        orders |= set(
            FortnoxDocument.objects.filter(
                installation=installation,
                fortnox_database_number=tenant,
                kind=FortnoxDocument.Kind.ORDER,
                invoice_reference__in=invoices,
            ).values_list("document_number", flat=True)
        )
    runs = Run.objects.filter(
        installation=installation, status=Run.Status.SUCCEEDED, subject_type="deals"
    )
    deal_ids = set(
        runs.filter(kind=RunKind.INVOICE, fortnox_document_number__in=invoices).values_list(
            "subject_id", flat=True
        )
    ) | set(
        runs.filter(kind=RunKind.ORDER, fortnox_document_number__in=orders).values_list(
            "subject_id", flat=True
        )
    )
    return sorted(deal_ids)


def _deal_write(
    installation: HubSpotInstallation, hubspot, deal_id: str, today: dt.date | None = None
) -> None:
    """The deal's payment status properties from its newest stored document."""
    views = deal_documents_get(installation, deal_id, today=today)
    if views:
        status, balance = deal_status(views[0])
        deal_properties_write(hubspot, deal_id, status, balance)


def _deals_of_documents_write(
    installation: HubSpotInstallation,
    tenant: str,
    hubspot,
    docs: list[FortnoxDocument],
    today: dt.date | None = None,
) -> None:
    for deal_id in _deal_ids_of_documents(installation, tenant, docs):
        _deal_write(installation, hubspot, deal_id, today)


def _deal_read(
    installation: HubSpotInstallation, tenant: str, fortnox, deal_id: str
) -> list[Stored]:
    stored: list[Stored] = []
    for run in deal_document_made(installation, deal_id):
        stored.extend(
            _document_read(installation, tenant, fortnox, run.kind, run.fortnox_document_number)
        )
    return stored


def _document_read(
    installation: HubSpotInstallation, tenant: str, fortnox, kind: str, number: str
) -> list[Stored]:
    """One document the app made, read in full and stored; an order's invoice too."""
    try:
        item = fortnox.document_get(kind, number)
    except FortnoxNotFound:
        logger.info("a document the app made is gone from Fortnox", extra={"number": number})
        return []
    stored = [document_store(installation, tenant, kind, item, full=True)]
    doc = stored[0].doc
    if kind == FortnoxDocument.Kind.ORDER and reference_set(doc.invoice_reference):
        try:
            invoice = fortnox.document_get("invoice", doc.invoice_reference)
        except FortnoxNotFound:
            return stored
        stored.append(
            document_store(installation, tenant, FortnoxDocument.Kind.INVOICE, invoice, full=True)
        )
    return stored


def deal_documents_refresh(installation: HubSpotInstallation, deal_id: str) -> list[DocumentView]:
    """Read the deal's documents from Fortnox now (an order's invoice too), store them, write
    the deal's payment status properties, and leave the note on the deal for a document newly
    seen cancelled. Raises FiguresUnavailable ("not_connected" / "fortnox")."""
    tenant, fortnox, hubspot = _clients(installation)
    try:
        stored = _deal_read(installation, tenant, fortnox, deal_id)
    except FortnoxError as exc:
        raise _fortnox_refused(exc) from exc
    _deal_write(installation, hubspot, deal_id)
    cancelled_notes(installation, [s.doc for s in stored if s.newly_cancelled])
    return deal_documents_get(installation, deal_id)


# The nightly refresh asks for what changed since its last start, minus this overlap: Fortnox's
# `lastmodified` is in minutes, its time zone and inclusivity unconfirmed (fortnox-api.md,
# second addendum §9); a document seen twice is stored twice, harmlessly.
NIGHTLY_OVERLAP = dt.timedelta(minutes=2)


def lastmodified_stamp(moment: dt.datetime) -> str:
    """Fortnox's `lastmodified` value: "YYYY-MM-DD HH:MM" in Swedish time."""
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def _known_deal_documents(installation: HubSpotInstallation) -> set[tuple[str, str]]:
    return set(
        Run.objects.filter(
            installation=installation,
            kind__in=(RunKind.INVOICE, RunKind.ORDER),
            status=Run.Status.SUCCEEDED,
        )
        .exclude(fortnox_document_number="")
        .values_list("kind", "fortnox_document_number")
    )


def figures_nightly(
    installation: HubSpotInstallation, *, now: dt.datetime | None = None
) -> dict[str, int]:
    """One paged `GET /3/invoices?lastmodified=<last start minus 2 minutes>` and one paged
    `GET /3/orders?lastmodified=…` for the portal's Fortnox company, paced under the bulk share
    of its limit; stores the invoices of customers mapped to HubSpot records and the documents
    the app made, recomputes the figures of the customers touched, writes their records'
    properties and the deals' status. The first run (no cursor yet) refreshes the customers and
    deals the app knows instead. The outcome is recorded in FiguresRefresh; a Fortnox or HubSpot
    error is recorded there and raised. `now`: the run's moment (the tests' clock)."""
    tenant, fortnox, hubspot = _clients(installation, bulk=True)
    refresh, _created = FiguresRefresh.objects.get_or_create(
        installation=installation, fortnox_database_number=tenant
    )
    started = now or timezone.now()
    refresh.started_at = started
    refresh.save(update_fields=["started_at"])
    try:
        if refresh.modified_since is None:
            counts = _nightly_first(installation, tenant, fortnox, hubspot)
        else:
            counts = _nightly_changes(
                installation,
                tenant,
                fortnox,
                hubspot,
                refresh.modified_since - NIGHTLY_OVERLAP,
                swedish_today(started),
            )
    except IntegrationError as exc:
        refresh.finished_at = timezone.now()
        refresh.outcome = f"failed: {exc.message} {exc.fix}".strip()
        refresh.save(update_fields=["finished_at", "outcome"])
        raise
    refresh.modified_since = started
    refresh.finished_at = timezone.now()
    refresh.outcome = "succeeded: " + ", ".join(f"{k} {v}" for k, v in counts.items())
    refresh.save(update_fields=["modified_since", "finished_at", "outcome"])
    return counts


def _mapped_customers(installation: HubSpotInstallation, tenant: str) -> set[str]:
    return set(
        CustomerMapping.objects.filter(
            installation=installation, fortnox_database_number=tenant
        ).values_list("fortnox_customer_number", flat=True)
    )


def _nightly_first(installation, tenant, fortnox, hubspot) -> dict[str, int]:
    customers = sorted(_mapped_customers(installation, tenant))
    for number in customers:
        _customer_refresh(installation, tenant, fortnox, hubspot, number)
    deals = sorted(
        set(
            Run.objects.filter(
                installation=installation,
                kind__in=(RunKind.INVOICE, RunKind.ORDER),
                status=Run.Status.SUCCEEDED,
                subject_type="deals",
            )
            .exclude(fortnox_document_number="")
            .values_list("subject_id", flat=True)
        )
    )
    for deal_id in deals:
        stored = _deal_read(installation, tenant, fortnox, deal_id)
        _deal_write(installation, hubspot, deal_id)
        cancelled_notes(installation, [s.doc for s in stored if s.newly_cancelled])
    return {"customers": len(customers), "deals": len(deals)}


def _nightly_changes(
    installation, tenant, fortnox, hubspot, since: dt.datetime, today: dt.date
) -> dict[str, int]:
    stamp = lastmodified_stamp(since)
    mapped = _mapped_customers(installation, tenant)
    known = _known_deal_documents(installation)
    synced = set(
        FortnoxCustomerFigures.objects.filter(
            installation=installation, fortnox_database_number=tenant, synced_at__isnull=False
        ).values_list("customer_number", flat=True)
    )
    stored: list[Stored] = []
    customers: set[str] = set()
    never_synced: set[str] = set()
    for item in fortnox.documents_modified_since("invoice", stamp):
        number = str(item.get("DocumentNumber", ""))
        customer = str(item.get("CustomerNumber", ""))
        ours = ("invoice", number) in known
        if customer in mapped and customer not in synced:
            never_synced.add(customer)  # read in full below: what is stored of it is partial
            continue
        if customer not in mapped and not ours:
            continue
        previous = FortnoxDocument.objects.filter(
            installation=installation,
            fortnox_database_number=tenant,
            kind=FortnoxDocument.Kind.INVOICE,
            document_number=number,
        ).first()
        changed = previous is None or previous.list_digest != list_digest(item)
        # The credit fields are only on the full invoice: read it for a document the app made
        # that changed, and for a new credit invoice (negative total) that names what it credits.
        full = changed and (ours or (previous is None and decimal_of(item.get("Total")) < 0))
        if full:
            item = fortnox.document_get("invoice", number)
        stored.append(
            document_store(installation, tenant, FortnoxDocument.Kind.INVOICE, item, full=full)
        )
        if customer in mapped:
            customers.add(customer)
    orders = 0
    for item in fortnox.documents_modified_since("order", stamp):
        number = str(item.get("DocumentNumber", ""))
        if ("order", number) not in known:
            continue
        orders += 1
        stored.extend(_document_read(installation, tenant, fortnox, "order", number))
    # Nothing changes in Fortnox when an invoice falls due: those that did since the last run
    # make their customers' overdue amount and their deals' status change all the same.
    fell_due = list(
        FortnoxDocument.objects.filter(
            installation=installation,
            fortnox_database_number=tenant,
            kind=FortnoxDocument.Kind.INVOICE,
            booked=True,
            cancelled=False,
            balance__gt=0,
            due_date__gte=since.astimezone(STOCKHOLM).date() - dt.timedelta(days=1),
            due_date__lt=today,
        )
    )
    customers |= {d.customer_number for d in fell_due if d.customer_number in synced & mapped}
    for customer in sorted(customers):
        row = figures_store(installation, tenant, customer, today, synced_at=None)
        customer_properties_write(hubspot, installation, row)
    for customer in sorted(never_synced):
        stored.extend(_customer_refresh(installation, tenant, fortnox, hubspot, customer))
    _deals_of_documents_write(
        installation, tenant, hubspot, [s.doc for s in stored] + fell_due, today
    )
    cancelled_notes(installation, [s.doc for s in stored if s.newly_cancelled])
    return {
        "invoices": sum(1 for s in stored if s.doc.kind == FortnoxDocument.Kind.INVOICE),
        "orders": orders,
        "customers": len(customers | never_synced),
    }


def nightly_installation_ids() -> list[int]:
    """The active installations with a Fortnox connection."""
    return [
        installation.pk
        for installation in HubSpotInstallation.objects.filter(
            status=HubSpotInstallation.Status.ACTIVE
        ).order_by("pk")
        if (connection := installation.active_fortnox_connection()) is not None
        and connection.database_number
    ]


def figures_nightly_one(installation_id: int) -> str:
    """One portal's nightly refresh; "succeeded" or "failed" (recorded in FiguresRefresh and
    logged: a Fortnox company that refuses never stops the others)."""
    installation = HubSpotInstallation.objects.get(pk=installation_id)
    try:
        figures_nightly(installation)
    except (IntegrationError, FiguresUnavailable) as exc:
        logger.warning(
            "nightly figures refresh failed",
            extra={"hub_id": installation.hub_id, "error": exc.message},
        )
        return "failed"
    return "succeeded"


def figures_nightly_all() -> dict[str, str]:
    """Every active installation with a Fortnox connection, one after the other (the task sends
    one task per installation instead); a failure of one never stops the others. By hub id."""
    return {
        str(HubSpotInstallation.objects.get(pk=installation_id).hub_id): figures_nightly_one(
            installation_id
        )
        for installation_id in nightly_installation_ids()
    }
