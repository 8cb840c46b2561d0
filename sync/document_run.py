"""The steps of an invoice or order run: read the deal, resolve the customer and articles,
create the document once, then report it.

Each irreversible step is recorded on the run as soon as it happened (the document number, the
note), so a retry continues after it instead of repeating it.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from integrations.fortnox.documents import document_shape
from integrations.fortnox.errors import FortnoxOutcomeUnknown
from sync.articles import ResolvedRow, fortnox_articles_resolve
from sync.context import RunContext, RunFailure
from sync.currency import HOME_CURRENCY, document_currency_check, portal_settings_get
from sync.customers import fortnox_customer_resolve
from sync.document import document_build, document_total
from sync.finish import run_succeed
from sync.models import Run, SyncSettings
from sync.reader import LineItem, deal_snapshot_read
from sync.selectors import run_replay_chain


def document_run(ctx: RunContext) -> None:
    run = ctx.run
    if not run.fortnox_document_number:
        _create_document(ctx, run.kind)
    run_succeed(run, tenant=ctx.fortnox_tenant)


def _create_document(ctx: RunContext, kind: str) -> dict:
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
    rows = _rows(ctx, snapshot)
    customer = fortnox_customer_resolve(ctx, snapshot)
    document_currency_check(ctx, snapshot.currency)
    document = document_build(
        document_type=run.kind,
        run_id=run.pk,
        customer=customer,
        snapshot=snapshot,
        rows=rows,
        mappings=ctx.mappings,
        today=timezone.localdate(),
        time_zone=portal.time_zone,
    )
    created = _create_once(ctx, kind, document)
    shape = document_shape(kind)
    row_key, quantity_field = shape.rows_key, shape.quantity_field
    total = Decimal(str(created.get("Total") or document_total(document[row_key], quantity_field)))
    outcome = {
        "customer_name": created.get("CustomerName") or "",
        "customer_matched_by": customer.matched_by,
        "total": str(total),
        "total_vat": str(created.get("TotalVAT") or ""),
        "row_count": len(document[row_key]),
        "created_articles": [r.article_number for r in rows if r.created],
        "placeholder_rows": [r.line_item.name for r in rows if r.placeholder],
        **_currency_outcome(created),
    }
    run.fortnox_document_number = str(created["DocumentNumber"])
    run.fortnox_customer_number = customer.number
    run.total, run.currency = total, snapshot.currency
    run.data_read = {**run.data_read, "outcome": outcome}
    run.save(
        update_fields=[
            "fortnox_document_number",
            "fortnox_customer_number",
            "total",
            "currency",
            "data_read",
        ]
    )
    return outcome


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


def _rows(ctx: RunContext, snapshot) -> list[ResolvedRow]:
    if snapshot.line_items:
        return fortnox_articles_resolve(ctx, snapshot.line_items)
    settings = ctx.settings
    if settings.no_line_items_policy == SyncSettings.NoLineItemsPolicy.DEFAULT_ROW:
        if not settings.default_article_number:
            raise RunFailure(
                "The deal has no line items and no default article is set.",
                "Add line items to the deal, or choose a default article in the "
                "app's settings; then Replay.",
            )
        amount = snapshot.deal.properties.get("amount") or "0"
        item = LineItem(
            "deal",
            {
                "name": snapshot.deal.properties.get("dealname") or "Deal",
                "quantity": "1",
                "price": amount,
            },
            None,
        )
        return [ResolvedRow(item, settings.default_article_number, placeholder=True)]
    raise RunFailure(
        "The deal has no line items, so there is nothing to put on the document.",
        "Add line items (products) to the deal in HubSpot, or let the app use one "
        "row with the default article and the deal amount (settings); then Replay.",
    )


def _create_once(ctx: RunContext, kind: str, document: dict) -> dict:
    """Create the document, unless an earlier attempt (of this run or of the failed run it
    replays) already did: that attempt's outcome may have been lost in transit."""
    run = ctx.run
    earlier = [run, *run_replay_chain(run)]
    references = [r.external_reference for r in earlier if r.create_sent_at]
    for reference in references:
        existing = _find_by_reference(ctx, kind, reference)
        if existing is not None:
            ctx.info(
                f"Adopted {kind} {existing['DocumentNumber']}, created by an earlier "
                f"attempt whose answer was lost."
            )
            return ctx.fortnox.document_get(kind, str(existing["DocumentNumber"]))
    Run.objects.filter(pk=run.pk).update(create_sent_at=timezone.now())
    run.create_sent_at = timezone.now()
    try:
        return ctx.fortnox.document_create(kind, document)
    except FortnoxOutcomeUnknown:
        existing = _find_by_reference(ctx, kind, run.external_reference)
        if existing is not None:
            ctx.info(
                f"Adopted {kind} {existing['DocumentNumber']} after the create "
                "request's answer was lost."
            )
            return ctx.fortnox.document_get(kind, str(existing["DocumentNumber"]))
        raise


def _find_by_reference(ctx: RunContext, kind: str, reference: str) -> dict | None:
    # Substring search (fortnox-api.md Addendum §3): keep only the exact match.
    for document in ctx.fortnox.documents_search(kind, externalinvoicereference1=reference):
        if document.get("ExternalInvoiceReference1") == reference:
            return document
    return None
