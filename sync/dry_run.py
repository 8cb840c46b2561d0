"""The dry run: the document a run would create for a deal, computed by the run's own steps
(sync/execute.py `run_context`, sync/document_run.py `document_prepare`: the same reading,
customer and article resolution, rows plan and document builder), creating nothing.

Three guards keep it read-only:

1. The clients are the run's own, subclassed so that every write is answered with a placeholder
   and recorded as "would …" (a Fortnox customer or article created, a customer updated, a
   HubSpot property set) or refused outright (DryRunRefused: any other write, e.g. a document or
   a note). Reads are real, paced under the same rate limits as a run's.
2. All of it runs in a database transaction that is rolled back: the run row the steps need, its
   step log, the customer mapping a run would store, the cached account details.
3. Tokens are made fresh before that transaction and never refreshed inside it: a Fortnox
   refresh token is single-use (fortnox-api.md §1.4), so a refresh rolled back would cut the
   connection. A token refused mid-way ends the transaction (TokenStale), is refreshed outside
   it, and the dry run starts once more.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from integrations.deadline import deadline
from integrations.errors import IntegrationError
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.documents import document_shape
from integrations.fortnox.tokens import fortnox_access_token_get, fortnox_access_token_refresh
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import deal_pipelines, record_get
from integrations.hubspot.search import deals_search_by_text
from integrations.hubspot.tokens import hubspot_access_token_get, hubspot_access_token_refresh
from integrations.models import HubSpotInstallation
from sync.context import RunContext, RunFailure
from sync.currency import HOME_CURRENCY
from sync.document import TWO_PLACES
from sync.document_run import PreparedDocument, document_prepare
from sync.execute import run_context
from sync.models import PipelineSetting, Run, RunKind, SubjectType

logger = logging.getLogger(__name__)

#: A dry run answers a person waiting on the page; its calls end by then (a run's attempt has
#: minutes, a page should not).
DRY_RUN_TIME = timedelta(seconds=25)
#: How many deals a name search lists.
DEALS_LISTED = 20
#: The number of a customer the run would create (Fortnox numbers it), and the start of one
#: of an article created without a SKU; never a Fortnox number (those hold no parentheses).
NEW_NUMBER = "(new)"
SEARCH_PROPERTIES = ["dealname", "amount", "deal_currency_code", "pipeline", "dealstage"]


class DryRunRefused(IntegrationError):
    """A write the dry run has no placeholder for: it stops there rather than send it."""

    service = "app"


class TokenStale(Exception):
    """The service refused the token the dry run started with; refresh it outside the
    rolled-back transaction and start again."""

    def __init__(self, service: str, stale_token: str) -> None:
        super().__init__(service)
        self.service, self.stale_token = service, stale_token


@dataclass
class WouldLog:
    """What the run would have written, in the order it would have."""

    customer_created: dict[str, str] | None = None
    customers_updated: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    articles_created: list[dict[str, Any]] = field(default_factory=list)
    hubspot_updates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    numbered_by_fortnox: set[str] = field(default_factory=set)  # placeholder article numbers
    # Placeholder records, so a later read of one (a run reads a created article back) finds it.
    made: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"customers": {}, "articles": {}}
    )


class DryRunFortnoxClient(FortnoxClient):
    def __init__(self, connection, *, observer=None, log: WouldLog, token: str) -> None:
        super().__init__(connection, observer=observer)
        self.log, self.token = log, token

    def _token_get(self) -> str:
        return self.token

    def _token_refresh(self, stale_token: str) -> str:
        raise TokenStale("fortnox", stale_token)

    def request(self, method: str, path: str, **kwargs: Any):
        if method.upper() != "GET":
            raise DryRunRefused(
                f"The dry run stopped before a {method.upper()} request to Fortnox ({path}).",
                fix="Nothing to change: the dry run never writes to Fortnox.",
            )
        return super().request(method, path, **kwargs)

    def customer_create(self, customer: dict[str, Any]) -> dict[str, Any]:
        self.log.customer_created = dict(customer)
        record = {**customer, "CustomerNumber": NEW_NUMBER}
        self.log.made["customers"][NEW_NUMBER] = record
        return record

    def customer_update(self, number: str, customer: dict[str, Any]) -> dict[str, Any]:
        self.log.customers_updated.append((number, dict(customer)))
        return {**customer, "CustomerNumber": number}

    def article_create(self, article: dict[str, Any]) -> dict[str, Any]:
        self.log.articles_created.append(dict(article))
        number = str(article.get("ArticleNumber") or "")
        if not number:  # Fortnox numbers an article created without one
            number = f"(new {len(self.log.articles_created)})"
            self.log.numbered_by_fortnox.add(number)
        record = {**article, "ArticleNumber": number}
        self.log.made["articles"][number] = record
        return record

    def customer_get(self, number: str) -> dict[str, Any]:
        made = self.log.made["customers"].get(number)
        return dict(made) if made else super().customer_get(number)

    def article_get(self, number: str) -> dict[str, Any]:
        made = self.log.made["articles"].get(number)
        return dict(made) if made else super().article_get(number)


# Requests that read although they are POSTs (hubspot-api.md §6).
HUBSPOT_READ_SUFFIXES = ("/batch/read", "/search")


class DryRunHubSpotClient(HubSpotClient):
    def __init__(self, installation, *, observer=None, log: WouldLog, token: str) -> None:
        super().__init__(installation, observer=observer)
        self.log, self.token = log, token

    def _token_get(self) -> str:
        return self.token

    def _token_refresh(self, stale_token: str) -> str:
        raise TokenStale("hubspot", stale_token)

    def call(self, what: str, label: str, api, *args: Any, idempotent: bool = True, **kwargs):
        method, _, path = label.partition(" ")
        if method == "GET" or path.endswith(HUBSPOT_READ_SUFFIXES):
            return super().call(what, label, api, *args, idempotent=idempotent, **kwargs)
        if method == "PATCH" and path.startswith("/crm/v3/objects/") and len(args) >= 3:
            object_type, object_id, update = args[:3]
            properties = dict(getattr(update, "properties", None) or {})
            self.log.hubspot_updates.append((str(object_type), str(object_id), properties))
            return None
        raise DryRunRefused(
            f"The dry run stopped before a {method} request to HubSpot ({path}).",
            fix="Nothing to change: the dry run never writes to HubSpot.",
        )


# -- what the page shows -------------------------------------------------------------------


@dataclass
class DryRunRow:
    position: int
    line: str  # the line item's name
    description: str  # the Fortnox row's text, as it would be sent
    article_number: str
    article: str  # "found" | "created" | "placeholder"
    numbered_by_fortnox: bool  # created without a SKU: Fortnox gives the number
    quantity: Decimal
    price: Decimal
    discount: Decimal | None  # percent
    vat: Decimal | None  # None: not known before Fortnox creates the article
    vat_source: str  # "hubspot" | "article" | "override" | "unknown"
    net: Decimal
    vat_amount: Decimal | None


@dataclass
class DryRunCustomer:
    number: str  # NEW_NUMBER when it would be created
    matched_by: str  # as ResolvedCustomer.matched_by; "created" when it would be created
    fields: dict[str, str]  # the new customer's fields, or the found customer's card (a few)


@dataclass
class DryRunTotals:
    currency: str
    net: Decimal
    vat: Decimal | None
    round_off: Decimal | None
    total: Decimal | None


@dataclass
class DryRun:
    deal_id: str
    deal_name: str = ""
    kind: str = RunKind.INVOICE
    kind_source: str = "default"  # "pipeline" | "chosen" | "default"
    pipeline_label: str = ""
    failure: dict[str, str] | None = None  # {"message", "fix", "code"}
    customer: DryRunCustomer | None = None
    rows: list[DryRunRow] = field(default_factory=list)
    totals: DryRunTotals | None = None
    hubspot_net: Decimal | None = None  # the sum of the line items' amounts, as HubSpot has them
    warnings: list[dict[str, Any]] = field(default_factory=list)  # {"code", ...params}
    would: WouldLog = field(default_factory=WouldLog)
    earlier_document: dict[str, Any] | None = None  # {"number", "run"} of a succeeded run
    calls: dict[str, int] = field(default_factory=dict)  # reads made, per service


def _fresh_tokens(installation: HubSpotInstallation, connection) -> tuple[str, str]:
    """Both tokens, refreshed now if they would not last (committed, outside any rollback)."""
    return (
        hubspot_access_token_get(installation.pk),
        fortnox_access_token_get(connection.pk) if connection is not None else "",
    )


def dry_run_deals_find(installation: HubSpotInstallation, text: str) -> list[dict[str, str]]:
    """Deals whose name HubSpot's search finds for `text`, with their pipeline and stage
    labels. Raises IntegrationError (message and fix) when HubSpot cannot answer."""
    client = HubSpotClient(installation)
    found = deals_search_by_text(client, text, SEARCH_PROPERTIES, limit=DEALS_LISTED)
    labels: dict[str, tuple[str, dict[str, str]]] = {}
    if found:
        for pipeline in deal_pipelines(client):
            stages = {s["id"]: s["label"] for s in pipeline["stages"]}
            labels[pipeline["id"]] = (pipeline["label"], stages)
    deals = []
    for record in found:
        props = record.properties
        pipeline_label, stages = labels.get(props.get("pipeline") or "", ("", {}))
        deals.append(
            {
                "id": record.id,
                "name": props.get("dealname") or "",
                "amount": props.get("amount") or "",
                "currency": (props.get("deal_currency_code") or "").upper(),
                "pipeline": pipeline_label or props.get("pipeline") or "",
                "stage": stages.get(props.get("dealstage") or "", props.get("dealstage") or ""),
            }
        )
    return deals


def deal_dry_run(
    installation: HubSpotInstallation, deal_id: str, *, kind: str | None = None
) -> DryRun:
    """The document a run would create for the deal now (or the failure it would end in)."""
    with deadline(timezone.now() + DRY_RUN_TIME):
        try:
            return _dry_run_once(installation, deal_id, kind)
        except TokenStale as stale:
            # Refreshed here, outside the rolled-back transaction, then once more from the top.
            try:
                if stale.service == "fortnox":
                    connection = installation.active_fortnox_connection()
                    fortnox_access_token_refresh(connection.pk, stale_token=stale.stale_token)
                else:
                    hubspot_access_token_refresh(installation.pk, stale_token=stale.stale_token)
            except IntegrationError as exc:  # refused: the connection says what to do
                return _failed(DryRun(deal_id), exc.message, exc.fix, exc.code)
            try:
                return _dry_run_once(installation, deal_id, kind)
            except TokenStale:
                return _failed(
                    DryRun(deal_id),
                    "HubSpot or Fortnox refused the app's fresh authorisation.",
                    "Reconnect in the Connection settings, then try the dry run again.",
                )


def _failed(result: DryRun, message: str, fix: str, code: str = "") -> DryRun:
    result.failure = {"message": message, "fix": fix, "code": code}
    return result


def _dry_run_once(installation: HubSpotInstallation, deal_id: str, kind: str | None) -> DryRun:
    result = DryRun(deal_id)
    connection = installation.active_fortnox_connection()
    try:
        hubspot_token, fortnox_token = _fresh_tokens(installation, connection)
        deal = record_get(
            HubSpotClient(installation), "deals", deal_id, ["dealname", "pipeline", "dealstage"]
        )
    except IntegrationError as exc:
        return _failed(result, exc.message, exc.fix, exc.code)
    result.deal_name = deal.properties.get("dealname") or ""
    _document_kind(installation, result, deal.properties.get("pipeline") or "", kind)
    earlier = (
        Run.objects.filter(
            installation=installation,
            subject_type=SubjectType.DEAL,
            subject_id=deal_id,
            kind=result.kind,
            status=Run.Status.SUCCEEDED,
        )
        .exclude(fortnox_document_number="")
        .order_by("-pk")
        .first()
    )
    if earlier is not None:
        result.earlier_document = {"number": earlier.fortnox_document_number, "run": earlier.pk}
    with transaction.atomic():
        try:
            _prepare_in_transaction(installation, result, hubspot_token, fortnox_token)
        finally:
            # Whatever the run's steps wrote (the run, its steps, a customer mapping, cached
            # account details) goes: the dry run leaves nothing behind.
            transaction.set_rollback(True)
    return result


def _document_kind(
    installation: HubSpotInstallation, result: DryRun, pipeline_id: str, chosen: str | None
) -> None:
    setting = PipelineSetting.objects.filter(
        settings__installation=installation, pipeline_id=pipeline_id
    ).first()
    result.pipeline_label = setting.pipeline_label if setting else pipeline_id
    if chosen in RunKind.values:
        result.kind, result.kind_source = chosen, "chosen"
    elif setting is not None:
        result.kind, result.kind_source = setting.document_type, "pipeline"
    if setting is None:
        result.warnings.append({"code": "pipeline_not_added", "pipeline": pipeline_id})


def _prepare_in_transaction(
    installation: HubSpotInstallation, result: DryRun, hubspot_token: str, fortnox_token: str
) -> None:
    run = Run.objects.create(
        installation=installation,
        subject_type=SubjectType.DEAL,
        subject_id=result.deal_id,
        kind=result.kind,
        trigger=Run.Trigger.MANUAL,
        trigger_key=f"dry-run:{uuid.uuid4().hex}",
        status=Run.Status.RUNNING,
        attempts=1,
        started_at=timezone.now(),
    )
    log = result.would
    try:
        ctx = run_context(
            run,
            hubspot_type=partial(DryRunHubSpotClient, log=log, token=hubspot_token),
            fortnox_type=partial(DryRunFortnoxClient, log=log, token=fortnox_token),
        )
        prepared = document_prepare(ctx, result.kind)
        _describe(ctx, result, prepared)
    except RunFailure as failure:
        _failed(result, failure.message, failure.fix, failure.code)
    except TokenStale:
        raise
    except IntegrationError as exc:
        _failed(result, exc.message, exc.fix, exc.code)
    except Exception:
        logger.exception("dry run failed unexpectedly", extra={"deal": result.deal_id})
        _failed(
            result,
            "The app hit an unexpected error while working out this deal's document.",
            "Try again. If it fails the same way, contact support and quote the deal's id.",
            "unexpected",
        )
    # After a database error above the transaction takes no query; the failure says enough.
    with contextlib.suppress(DatabaseError):
        result.calls = {
            service: run.steps.filter(kind="call", service=service).count()
            for service in ("hubspot", "fortnox")
        }


def _describe(ctx: RunContext, result: DryRun, prepared: PreparedDocument) -> None:
    """What the page shows, from what the run decided (and a few reads it would not need)."""
    shape = document_shape(result.kind)
    log = result.would
    result.customer = _customer(ctx, prepared, log)
    currency = prepared.snapshot.currency
    rows = []
    sent_rows = prepared.document[shape.rows_key]
    for position, (row, plan, sent) in enumerate(
        zip(prepared.rows, prepared.plan, sent_rows, strict=True), start=1
    ):
        vat, vat_source = _row_vat(ctx, plan, sent, row.article_number, log)
        discount = sent.get("Discount") if sent.get("DiscountType") == "PERCENT" else None
        rows.append(
            DryRunRow(
                position=position,
                line=plan.line,
                description=str(sent.get("Description") or ""),
                article_number=row.article_number,
                article="created" if row.created else "placeholder" if row.placeholder else "found",
                numbered_by_fortnox=row.article_number in log.numbered_by_fortnox,
                quantity=Decimal(str(sent[shape.quantity_fields[0]])),
                price=Decimal(str(sent.get("Price") or 0)),
                discount=None if discount is None else Decimal(str(discount)),
                vat=vat,
                vat_source=vat_source,
                net=plan.net,
                vat_amount=None if vat is None else plan.net * vat / 100,
            )
        )
    result.rows = rows
    result.totals = document_totals(rows, currency)
    result.hubspot_net = _hubspot_net(prepared)
    _warnings(result, prepared, currency)


def _customer(ctx: RunContext, prepared: PreparedDocument, log: WouldLog) -> DryRunCustomer:
    customer = prepared.customer
    if log.customer_created is not None and customer.number == NEW_NUMBER:
        return DryRunCustomer(NEW_NUMBER, "created", dict(log.customer_created))
    card = ctx.fortnox.customer_get(customer.number)
    shown = (
        "Name",
        "OrganisationNumber",
        "VATNumber",
        "Email",
        "Address1",
        "ZipCode",
        "City",
        "CountryCode",
    )
    return DryRunCustomer(
        customer.number,
        customer.matched_by,
        {name: str(card.get(name) or "") for name in shown if card.get(name)},
    )


def _row_vat(
    ctx: RunContext, plan, sent: dict[str, Any], article_number: str, log: WouldLog
) -> tuple[Decimal | None, str]:
    """The row's VAT rate as Fortnox will have it: the rate sent, else the article's own."""
    if "VAT" in sent:
        return Decimal(str(sent["VAT"])), "override" if plan.vat_override else "hubspot"
    article = ctx.fortnox.article_get(article_number)
    if article_number in log.made["articles"] and article.get("VAT") in (None, ""):
        return None, "unknown"  # the company's default for new articles decides
    return Decimal(str(article.get("VAT") or 0)), "article"


def document_totals(rows: list[DryRunRow], currency: str) -> DryRunTotals:
    """Net, VAT and total as Fortnox computes them from these rows (fortnox-api.md, the
    sandbox's README: VAT per row on its net, summed and rounded to the öre; a SEK total rounded
    half-up to whole kronor, the difference shown as öresavrundning/RoundOff)."""
    net = sum((r.net for r in rows), Decimal("0.00"))
    if any(r.vat_amount is None for r in rows):
        return DryRunTotals(currency, net, None, None, None)
    vat = sum((r.vat_amount for r in rows), Decimal(0)).quantize(TWO_PLACES, ROUND_HALF_UP)
    raw = net + vat
    total = raw.quantize(Decimal(1), ROUND_HALF_UP) if currency == HOME_CURRENCY else raw
    return DryRunTotals(currency, net, vat, total - raw, total)


def _hubspot_net(prepared: PreparedDocument) -> Decimal | None:
    """HubSpot's own sum of the line items' amounts (what the deal shows), when it has them."""
    try:
        amounts = [Decimal(str(li.properties["amount"])) for li in prepared.snapshot.line_items]
    except (KeyError, InvalidOperation, ValueError):
        return None
    return sum(amounts, Decimal(0)).quantize(TWO_PLACES, ROUND_HALF_UP) if amounts else None


def _warnings(result: DryRun, prepared: PreparedDocument, currency: str) -> None:
    warnings = result.warnings
    customer = result.customer
    if customer is not None:
        if not (customer.fields.get("Address1") or customer.fields.get("City")):
            warnings.append({"code": "customer_no_address", "name": customer.fields.get("Name")})
        if customer.matched_by == "created":
            warnings.append({"code": "customer_created", "name": customer.fields.get("Name")})
    for article in result.would.articles_created:
        warnings.append(
            {
                "code": "article_created",
                "number": article.get("ArticleNumber") or "",
                "name": article.get("Description") or "",
            }
        )
    for row in result.rows:
        if row.article == "placeholder":
            warnings.append(
                {"code": "placeholder_row", "line": row.line, "number": row.article_number}
            )
        if row.vat_source == "unknown":
            warnings.append({"code": "vat_unknown", "line": row.line})
        if row.vat_source == "override":
            warnings.append({"code": "vat_override", "line": row.line})
    for plan in prepared.plan:
        if plan.form == "service":
            warnings.append({"code": "one_amount_row", "line": plan.line})
        if plan.recurring:
            warnings.append({"code": "recurring_row", "line": plan.line, "period": plan.recurring})
    if currency != HOME_CURRENCY:
        warnings.append({"code": "currency", "currency": currency})
    if result.hubspot_net is not None and result.totals and result.hubspot_net != result.totals.net:
        warnings.append(
            {"code": "net_differs", "hubspot": result.hubspot_net, "fortnox": result.totals.net}
        )
