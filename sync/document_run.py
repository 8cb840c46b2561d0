"""The steps of an invoice or order run: read the deal, resolve the customer and articles,
create the document once, then report it.

Each irreversible step is recorded on the run as soon as it happened (the document number, the
note), so a retry continues after it instead of repeating it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from billing.quota import quota_reserve
from integrations.fortnox.documents import document_shape
from integrations.fortnox.errors import (
    FortnoxError,
    FortnoxNotFound,
    FortnoxOutcomeUnknown,
    article_missing,
)
from integrations.hubspot.crm import TAX_RATES_SCOPE, tax_rate_get
from integrations.hubspot.errors import HubSpotError
from sync.articles import ResolvedRow, fortnox_articles_resolve, fortnox_articles_resolve_missing
from sync.context import RunContext, RunFailure
from sync.currency import HOME_CURRENCY, document_currency_check, portal_settings_get
from sync.customers import ResolvedCustomer, fortnox_customer_resolve
from sync.document import RowPlan, document_build, rows_plan
from sync.finish import run_succeed
from sync.models import Run, SyncSettings
from sync.reader import DealSnapshot, LineItem, deal_snapshot_read
from sync.reconcile import differences_to_store, document_reconcile, vat_overrides
from sync.selectors import run_replay_chain


def document_run(ctx: RunContext) -> None:
    run = ctx.run
    if not run.fortnox_document_number:
        _create_document(ctx, run.kind)
    run_succeed(run, tenant=ctx.fortnox_tenant)


@dataclass
class PreparedDocument:
    """Everything a run decided before it asks Fortnox to create the document: what it read,
    the customer and articles it resolved (creating them where the settings say so), the rows'
    plan and the document it would send. The dry run (sync/dry_run.py) shows exactly this."""

    snapshot: DealSnapshot
    rows: list[ResolvedRow]
    customer: ResolvedCustomer
    plan: list[RowPlan]
    document: dict
    tax_rates: dict[str, Decimal]
    time_zone: str


def document_prepare(ctx: RunContext, kind: str, *, assume_skus: bool = False) -> PreparedDocument:
    """What the run would send. `assume_skus`: a SKU goes onto its row unchecked (the run,
    sync/articles.py); without it the articles are looked up first (the dry run, which creates
    nothing and shows what the policy would do)."""
    run = ctx.run
    portal = portal_settings_get(ctx)
    snapshot = deal_snapshot_read(
        ctx.hubspot,
        run.subject_id,
        document_properties=list(ctx.mappings["document"].values()),
        row_properties=list(ctx.mappings["row"].values()),
        customer_properties={
            "companies": list(ctx.mappings["company"].values()),
            "contacts": list(ctx.mappings["contact"].values()),
        },
        portal_currency=portal.company_currency,
        prefer=ctx.settings.customer_preference,
    )
    run.data_read = {
        "deal": snapshot.deal.properties,
        "line_items": [li.properties for li in snapshot.line_items],
        "customer": {
            "type": snapshot.customer_type,
            "id": snapshot.customer.id if snapshot.customer else None,
        },
    }
    run.save(update_fields=["data_read"])
    tax_rates = _tax_group_rates(ctx, snapshot.line_items)
    # The line items' figures (discounts, tax rates, numbers) are checked before Fortnox is
    # called, so a bad line leaves nothing behind in Fortnox (issue 13 item 9).
    rows_plan([ResolvedRow(li, "") for li in snapshot.line_items], ResolvedCustomer(""), tax_rates)
    # Likewise the currency, before any article or customer is created in Fortnox.
    document_currency_check(ctx, snapshot.currency)
    rows = _rows(ctx, snapshot, assume_skus)
    if snapshot.customer is None:
        raise RunFailure(
            _(
                "The deal has no associated company or contact, so there is no customer for "
                "the document."
            ),
            _("Associate a company (or a contact) with the deal, then Replay."),
        )
    customer = fortnox_customer_resolve(ctx, snapshot.customer, snapshot.customer_type)
    return _prepared(ctx, snapshot, rows, customer, tax_rates, portal.time_zone)


def _prepared(
    ctx: RunContext,
    snapshot: DealSnapshot,
    rows: list[ResolvedRow],
    customer: ResolvedCustomer,
    tax_rates: dict[str, Decimal],
    time_zone: str,
    checked: frozenset[str] = frozenset(),
) -> PreparedDocument:
    """The rows' plan and the document for the resolved rows; `checked`: articles whose
    stock status was already read for this run."""
    plan = rows_plan(rows, customer, tax_rates)
    _check_service_rows(ctx, plan, rows, checked)
    document = document_build(
        document_type=ctx.run.kind,
        run_id=ctx.run.pk,
        customer=customer,
        snapshot=snapshot,
        rows=rows,
        mappings=ctx.mappings,
        today=timezone.localdate(),
        time_zone=time_zone,
        plan=plan,
        language=ctx.settings.language,
    )
    return PreparedDocument(snapshot, rows, customer, plan, document, tax_rates, time_zone)


def _create_document(ctx: RunContext, kind: str) -> dict:
    run = ctx.run
    prepared = document_prepare(ctx, kind, assume_skus=True)
    created, adopted_from, prepared = _create_once(ctx, kind, prepared)
    # The rows as finally sent: a refused first create may have changed them (not-found policy).
    snapshot, rows, customer, plan = (
        prepared.snapshot,
        prepared.rows,
        prepared.customer,
        prepared.plan,
    )
    shape = document_shape(kind)
    # Every figure the note shows is Fortnox's own, as it answered (issue 13 item 1): a 0 is a
    # 0, never replaced by ours; the reconciliation says whether it equals the deal.
    differences = document_reconcile(created, shape, plan, snapshot.currency)
    outcome = {
        "customer_name": created.get("CustomerName") or "",
        "customer_matched_by": customer.matched_by,
        "total": _figure(created.get("Total")),
        "total_vat": _figure(created.get("TotalVAT")),
        "net": _figure(created.get("Net")),
        "round_off": _figure(created.get("RoundOff")),
        "document_date": str(created.get(shape.date_field) or ""),
        "due_date": str(created.get("DueDate") or ""),
        "row_count": len(created.get(shape.rows_key) or []),
        "created_articles": [r.article_number for r in rows if r.created],
        "placeholder_rows": [r.line_item.name for r in rows if r.placeholder],
        "service_rows": [p.line for p in plan if p.form == "service"],
        "recurring_rows": [f"{p.line} ({p.recurring})" for p in plan if p.recurring],
        "vat_overrides": vat_overrides(plan),
        "differences": differences,
        "adopted_from_run": adopted_from,
        "rows": [p.as_data() for p in plan],
        **_currency_outcome(created),
    }
    run.fortnox_document_number = str(created["DocumentNumber"])
    run.fortnox_customer_number = customer.number
    total = created.get("Total")
    run.total = Decimal(str(total)) if total not in (None, "") else None
    run.currency = str(created.get("Currency") or snapshot.currency)
    run.reconciliation_differences = differences_to_store(differences)
    run.data_read = {**run.data_read, "outcome": outcome}
    run.save(
        update_fields=[
            "fortnox_document_number",
            "fortnox_customer_number",
            "total",
            "currency",
            "reconciliation_differences",
            "data_read",
        ]
    )
    return outcome


def _figure(value: object) -> str:
    return "" if value in (None, "") else str(value)


def _tax_group_rates(ctx: RunContext, items: list[LineItem]) -> dict[str, Decimal]:
    """The rate of each HubSpot tax rate group a line item names without an `hs_tax_rate`
    (issue 13 item 16), read from HubSpot's tax rate library (crm.tax_rate_get)."""
    rates: dict[str, Decimal] = {}
    for item in items:
        group = (item.properties.get("hs_tax_rate_group_id") or "").strip()
        if not group or item.properties.get("hs_tax_rate") not in (None, "") or group in rates:
            continue
        try:
            found = tax_rate_get(ctx.hubspot, group)
        except HubSpotError as exc:
            if exc.transient:
                raise
            message = (
                _(
                    "Line item '%(line)s' has tax rate group %(group)s and no tax rate, and the "
                    "app may not read HubSpot's tax rates (scope %(scope)s)."
                )
                if exc.status in (401, 403)
                else _(
                    "Line item '%(line)s' has tax rate group %(group)s and no tax rate, and "
                    "HubSpot has no such tax rate."
                )
            )
            raise RunFailure(
                message % {"line": item.name, "group": group, "scope": TAX_RATES_SCOPE},
                _(
                    "Set the line item's tax rate in HubSpot (or reinstall the app to grant "
                    "%(scope)s), then Replay."
                )
                % {"scope": TAX_RATES_SCOPE},
                service_message=exc.message,
            ) from None
        try:
            rates[group] = Decimal(str(found["percentageRate"]))
        except (KeyError, InvalidOperation, ValueError):
            raise RunFailure(
                _("Line item '%(line)s': HubSpot's tax rate group %(group)s has no rate.")
                % {"line": item.name, "group": group},
                _("Set the line item's tax rate in HubSpot, then Replay."),
            ) from None
    return rates


def _check_service_rows(
    ctx: RunContext,
    plan: list[RowPlan],
    rows: list[ResolvedRow],
    checked: frozenset[str] = frozenset(),
) -> None:
    """A row sent as one amount (quantity 1) would move the wrong quantity of a stock article
    (Fortnox `StockGoods`, "lagervara"): fail instead. Only those rows' articles are read, each
    once (`checked`: read before)."""
    assumed = {r.article_number for r in rows if r.assumed}
    for row in plan:
        if row.form != "service" or not row.article_number or row.article_number in checked:
            continue
        try:
            article = ctx.fortnox.article_get(row.article_number)
        except FortnoxNotFound:
            if row.article_number not in assumed:
                raise
            # A SKU put on the row unchecked that Fortnox does not know: the create will be
            # refused for it, and the policy's article is checked then (_articles_settled).
            continue
        if article.get("StockGoods"):
            raise RunFailure(
                _(
                    "Line item '%(line)s': its quantity or unit price needs more than 2 "
                    "decimals, which Fortnox cannot store, and article %(article)s is a stock "
                    "article, so the row cannot be sent as one amount without moving the wrong "
                    "quantity of stock."
                )
                % {"line": row.line, "article": row.article_number},
                _(
                    "Round the line item's quantity and unit price to 2 decimals in HubSpot "
                    "(keeping the amount), then Replay."
                ),
            )


def _currency_outcome(created: dict) -> dict:
    """Fortnox's own rate and unit, read back (it sets them; an unannounced change once made
    the rate 1 on creation: fortnox-api.md, third addendum §2). Only for a foreign currency."""
    currency = str(created.get("Currency") or HOME_CURRENCY).upper()
    if currency == HOME_CURRENCY or created.get("CurrencyRate") in (None, ""):
        return {}
    return {
        "currency_rate": _plain(created["CurrencyRate"]),
        "currency_unit": _plain(created.get("CurrencyUnit") or 1),
    }


def _plain(value: object) -> str:
    """A number as written, without trailing zeros or exponent (11.20 → 11.2, 100.0 → 100)."""
    return format(Decimal(str(value)).normalize(), "f")


def _rows(ctx: RunContext, snapshot, assume_skus: bool) -> list[ResolvedRow]:
    if snapshot.line_items:
        return fortnox_articles_resolve(ctx, snapshot.line_items, assume_skus=assume_skus)
    settings = ctx.settings
    if settings.no_line_items_policy == SyncSettings.NoLineItemsPolicy.DEFAULT_ROW:
        if not settings.default_article_number:
            raise RunFailure(
                _("The deal has no line items and no default article is set."),
                _(
                    "Add line items to the deal, or choose a default article in the app's "
                    "settings; then Replay."
                ),
            )
        amount = str(snapshot.deal.properties.get("amount") or "").strip()
        try:
            valid = bool(amount) and Decimal(amount) != 0
        except InvalidOperation:
            valid = False
        if not valid:
            # A default row at 0 would be a 0 invoice (issue 13 item 11).
            raise RunFailure(
                _("The deal has no line items and no amount, so the default row would be 0."),
                _("Add line items to the deal, or set the deal's amount in HubSpot; then Replay."),
            )
        item = LineItem(
            "deal",
            {
                "name": snapshot.deal.properties.get("dealname") or "Deal",
                "quantity": "1",
                "price": amount,
                "amount": amount,
            },
            None,
        )
        return [ResolvedRow(item, settings.default_article_number, placeholder=True)]
    raise RunFailure(
        _("The deal has no line items, so there is nothing to put on the document."),
        _(
            "Add line items (products) to the deal in HubSpot, or let the app use one row with "
            "the default article and the deal amount (settings); then Replay."
        ),
    )


def _create_once(
    ctx: RunContext, kind: str, prepared: PreparedDocument
) -> tuple[dict, int | None, PreparedDocument]:
    """Create the document, unless an earlier attempt (of this run or of the failed run it
    replays) already did: that attempt's outcome may have been lost in transit. Returns the
    document, when it was made by an earlier run (from the deal's data then) that run's id (the
    note says so, issue 13 item 18), and what was sent (changed if Fortnox did not know an
    article: _articles_settled)."""
    run = ctx.run
    earlier = [r for r in (run, *run_replay_chain(run)) if r.create_sent_at]
    for attempt in earlier:
        existing = _find_by_reference(ctx, kind, attempt.external_reference)
        if existing is not None:
            ctx.info(
                _(
                    "Adopted %(document)s %(number)s, created by an earlier attempt whose "
                    "answer was lost."
                )
                % {"document": _document_name(kind), "number": existing["DocumentNumber"]}
            )
            adopted = ctx.fortnox.document_get(kind, str(existing["DocumentNumber"]))
            if any(row.assumed for row in prepared.rows):
                # The earlier attempt may have sent the rows the not-found policy made: settle
                # them as it did, so the note tells the same (placeholder rows...).
                prepared = _articles_settled(ctx, prepared) or prepared
            return adopted, (attempt.pk if attempt.pk != run.pk else None), prepared
    # The quota (billing/quota.py): one unit held until the run succeeds or fails; over the
    # quota the run fails here, before anything is created in Fortnox.
    quota_reserve(run)
    Run.objects.filter(pk=run.pk).update(create_sent_at=timezone.now())
    run.create_sent_at = timezone.now()
    try:
        try:
            return ctx.fortnox.document_create(kind, prepared.document), None, prepared
        except FortnoxError as exc:
            if not article_missing(exc):
                raise
            # Fortnox checks the rows before it stores anything, so the refused create made
            # nothing: sending it again (same external reference, same held quota unit) after
            # the policy has settled the unknown SKUs cannot make a second document.
            settled = _articles_settled(ctx, prepared)
            if settled is None:
                raise
            prepared = settled
            return ctx.fortnox.document_create(kind, prepared.document), None, prepared
    except FortnoxOutcomeUnknown:
        existing = _find_by_reference(ctx, kind, run.external_reference)
        if existing is not None:
            ctx.info(
                _("Adopted %(document)s %(number)s after the create request's answer was lost.")
                % {"document": _document_name(kind), "number": existing["DocumentNumber"]}
            )
            return ctx.fortnox.document_get(kind, str(existing["DocumentNumber"])), None, prepared
        raise


def _articles_settled(ctx: RunContext, prepared: PreparedDocument) -> PreparedDocument | None:
    """Fortnox did not know an article on the document: find which SKUs are missing and apply
    the not-found policy (skip fails naming them; default article; create), as a lookup before
    the create would have; then the document to send again. None when every SKU exists (the
    unknown article is another, e.g. the default article: Fortnox's refusal stands)."""
    rows = fortnox_articles_resolve_missing(ctx, prepared.rows)
    if rows is None:
        return None
    found = {r.article_number for r in rows if not (r.created or r.placeholder)}
    missing = {r.article_number for r in prepared.rows if r.assumed} - found
    # The stock check read every service row's article that existed; the new ones are read now.
    read = {p.article_number for p in prepared.plan if p.form == "service" and p.article_number}
    return _prepared(
        ctx,
        prepared.snapshot,
        rows,
        prepared.customer,
        prepared.tax_rates,
        prepared.time_zone,
        checked=frozenset(read - missing),
    )


def _document_name(kind: str) -> str:
    """The document's name (invoice or order) in the run's language."""
    return _("invoice") if kind == "invoice" else _("order")


def _find_by_reference(ctx: RunContext, kind: str, reference: str) -> dict | None:
    # Substring search (fortnox-api.md Addendum §3): keep only the exact match.
    for document in ctx.fortnox.documents_search(kind, externalinvoicereference1=reference):
        if document.get("ExternalInvoiceReference1") == reference:
            return document
    return None
