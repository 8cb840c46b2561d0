"""The run engine: deal → draft Fortnox invoice or order, and the note that reports it.

`run_execute` is safe to call twice for the same run: it takes the run under a row lock, skips
finished runs, and each irreversible step (the document, the note) is recorded on the run as soon
as it happened, so a retry continues after it instead of repeating it.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cloudify.logging import bind_run_id
from integrations.calls import CallRecord
from integrations.errors import IntegrationError
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.errors import FortnoxNotFound, FortnoxOutcomeUnknown
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import record_update
from integrations.hubspot.errors import HubSpotUninstalled
from integrations.models import HubSpotInstallation
from notes.services import deal_note_failure, deal_note_success
from sync.articles import ResolvedRow, fortnox_articles_resolve
from sync.context import RunContext, RunFailure
from sync.customers import fortnox_customer_resolve
from sync.dispatch import attempt_end, attempt_start, runs_send
from sync.document import document_build, document_total
from sync.mapping import mappings_for
from sync.models import DocumentType, Run, SyncSettings
from sync.reader import LineItem, deal_snapshot_read

logger = logging.getLogger(__name__)

KINDS = {DocumentType.INVOICE: "invoices", DocumentType.ORDER: "orders"}


class RunTooSlow(IntegrationError):
    service = "app"
    transient = True


# -- creating runs ---------------------------------------------------------------------------
def run_create(
    installation: HubSpotInstallation,
    deal_id: str,
    document_type: str,
    trigger: str,
    trigger_key: str,
    *,
    replay_of: Run | None = None,
) -> Run | None:
    """A queued run, or None when a live run already covers this deal and trigger."""
    try:
        with transaction.atomic():
            run = Run.objects.create(
                installation=installation,
                deal_id=str(deal_id),
                document_type=document_type,
                trigger=trigger,
                trigger_key=trigger_key,
                replay_of=replay_of,
            )
    except IntegrityError:
        return None
    runs_send([run.pk])
    return run


# -- executing a run -------------------------------------------------------------------------
def _observer(run: Run):
    def record(call: CallRecord) -> None:
        run.steps.create(
            kind="call",
            attempt=run.attempts,
            service=call.service,
            method=call.method,
            path=call.path[:300],
            status=call.status,
            duration_ms=call.duration_ms,
            message=call.error
            or (f"waited {call.waited_ms} ms for the rate limit" if call.waited_ms else ""),
        )

    return record


def _context(run: Run) -> RunContext:
    installation = run.installation
    observer = _observer(run)
    hubspot = HubSpotClient(installation, observer=observer)
    connection = installation.active_fortnox_connection()
    if connection is None:
        raise RunFailure(
            "Fortnox is not connected to this HubSpot portal.",
            "Connect Fortnox in the app's settings, then Replay.",
        )
    sync_settings, _ = SyncSettings.objects.get_or_create(installation=installation)
    return RunContext(
        run=run,
        installation=installation,
        settings=sync_settings,
        mappings=mappings_for(sync_settings.field_mappings),
        hubspot=hubspot,
        fortnox=FortnoxClient(connection, observer=observer),
        fortnox_tenant=connection.database_number,
    )


def run_execute(run_id: int) -> Run:
    """One attempt of the run, if its portal has a free slot (sync/dispatch.py). A transient
    failure is raised for the task to retry; any other ends the run with a note that says what
    happened and what to do."""
    run = attempt_start(run_id)
    if run is None:
        return Run.objects.get(pk=run_id)
    with bind_run_id(run.pk):
        try:
            ctx = _context(run)
            _run_steps(ctx)
        except RunFailure as failure:
            run_fail(
                run.pk,
                failure.message,
                failure.fix,
                code=failure.code,
                service_message=failure.service_message,
            )
        except HubSpotUninstalled as exc:
            # No note possible: HubSpot no longer accepts our tokens for this portal.
            run_fail(run.pk, exc.message, exc.fix, code=exc.code, note=False)
        except IntegrationError as exc:
            if exc.transient:
                raise  # the task retries with backoff; only the final failure writes a note
            run_fail(
                run.pk, exc.message, exc.fix, code=exc.code, service_message=exc.service_message
            )
        except SoftTimeLimitExceeded as exc:
            # Slow answers, not bad data: the task retries, and a retry finds a document this
            # attempt may have created by its external reference.
            raise RunTooSlow(
                f"The run stopped after {django_settings.CELERY_TASK_SOFT_TIME_LIMIT} s because "
                "HubSpot or Fortnox answered slowly.",
                fix="Nothing to do: the app tries again by itself.",
            ) from exc
        except Exception:
            # A fault of ours: end the run with a note rather than leave it running unseen.
            logger.exception("run failed unexpectedly", extra={"run": run.pk})
            run_fail(
                run.pk,
                "The app hit an unexpected error and stopped this run. If a Fortnox document "
                "was created before the error, a Replay finds and keeps it instead of making "
                "another.",
                f"Replay the run. If it fails the same way, contact support and quote run "
                f"{run.pk}.",
                code="unexpected",
            )
        finally:
            attempt_end(run)
    return Run.objects.get(pk=run_id)


def _run_steps(ctx: RunContext) -> None:
    run = ctx.run
    kind = KINDS[run.document_type]
    outcome: dict = run.data_read.get("outcome", {})
    if not run.fortnox_document_number:
        outcome = _create_document(ctx, kind)
    if not run.note_id:
        pdf, problem = None, ""
        try:
            pdf = ctx.fortnox.document_preview_pdf(kind, run.fortnox_document_number)
        except IntegrationError as exc:
            if exc.transient:
                raise
            problem = f"{exc.message} {exc.fix}"
        note_id = deal_note_success(
            ctx.hubspot,
            run,
            customer_name=outcome.get("customer_name", ""),
            total=Decimal(str(outcome.get("total", run.total or 0))),
            total_vat=Decimal(str(outcome["total_vat"])) if outcome.get("total_vat") else None,
            row_count=outcome.get("row_count", 0),
            created_articles=outcome.get("created_articles", []),
            placeholder_rows=outcome.get("placeholder_rows", []),
            tenant=ctx.fortnox_tenant,
            pdf=pdf,
            pdf_problem=problem,
        )
        run.note_id = note_id
        run.pdf_bytes = len(pdf) if pdf else None
        run.save(update_fields=["note_id", "pdf_bytes"])
    record_update(
        ctx.hubspot,
        "deals",
        run.deal_id,
        {
            "fortnox_document_type": run.document_type,
            "fortnox_document_number": run.fortnox_document_number,
            "fortnox_status": "created",
            "fortnox_last_run": str(int(timezone.now().timestamp() * 1000)),
        },
    )
    run.status = Run.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    _workflow_finished(run)
    logger.info(
        "run succeeded",
        extra={
            "portal": run.installation.hub_id,
            "deal": run.deal_id,
            "document": run.fortnox_document_number,
        },
    )


def _create_document(ctx: RunContext, kind: str) -> dict:
    run = ctx.run
    row_props = list(ctx.mappings["row"].values())
    snapshot = deal_snapshot_read(
        ctx.hubspot,
        run.deal_id,
        document_properties=list(ctx.mappings["document"].values()),
        row_properties=row_props,
        customer_properties={
            "companies": list(ctx.mappings["company"].values()),
            "contacts": list(ctx.mappings["contact"].values()),
        },
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
    customer_number = fortnox_customer_resolve(ctx, snapshot)
    rate = _currency_rate(ctx, snapshot.currency)
    document = document_build(
        document_type=run.document_type,
        run_id=run.pk,
        customer_number=customer_number,
        snapshot=snapshot,
        rows=rows,
        mappings=ctx.mappings,
        today=timezone.localdate(),
        currency_rate=rate,
    )
    created = _create_once(ctx, kind, document)
    row_key = "InvoiceRows" if kind == "invoices" else "OrderRows"
    quantity_field = "DeliveredQuantity" if kind == "invoices" else "OrderedQuantity"
    total = Decimal(str(created.get("Total") or document_total(document[row_key], quantity_field)))
    outcome = {
        "customer_name": created.get("CustomerName") or "",
        "total": str(total),
        "total_vat": str(created.get("TotalVAT") or ""),
        "row_count": len(document[row_key]),
        "created_articles": [r.article_number for r in rows if r.created],
        "placeholder_rows": [r.line_item.name for r in rows if r.placeholder],
    }
    run.fortnox_document_number = str(created["DocumentNumber"])
    run.fortnox_customer_number = customer_number
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


def _currency_rate(ctx: RunContext, currency: str) -> Decimal | None:
    if currency == "SEK":
        return None
    try:
        register = ctx.fortnox.get(f"currencies/{currency}", "Currency", resource="currencies")
    except FortnoxNotFound:
        raise RunFailure(
            f"Fortnox does not know the deal's currency {currency}.",
            "Add the currency under Register > Currencies in Fortnox, then Replay.",
        ) from None
    rate = register.get("SellRate") or register.get("BuyRate")
    return Decimal(str(rate)) if rate else None


def _create_once(ctx: RunContext, kind: str, document: dict) -> dict:
    """Create the document, unless an earlier attempt (of this run or of the failed run it
    replays) already did: that attempt's outcome may have been lost in transit."""
    run = ctx.run
    earlier = [run] + list(_replay_chain(run))
    references = [r.external_reference for r in earlier if r.create_sent_at]
    for reference in references:
        existing = _find_by_reference(ctx, kind, reference)
        if existing is not None:
            ctx.info(
                f"Adopted {kind[:-1]} {existing['DocumentNumber']}, created by an earlier "
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
                f"Adopted {kind[:-1]} {existing['DocumentNumber']} after the create "
                "request's answer was lost."
            )
            return ctx.fortnox.document_get(kind, str(existing["DocumentNumber"]))
        raise


def _replay_chain(run: Run):
    seen = {run.pk}
    current = run.replay_of
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        yield current
        current = current.replay_of


def _find_by_reference(ctx: RunContext, kind: str, reference: str) -> dict | None:
    # Substring search (fortnox-api.md Addendum §3): keep only the exact match.
    for document in ctx.fortnox.documents_search(kind, externalinvoicereference1=reference):
        if document.get("ExternalInvoiceReference1") == reference:
            return document
    return None


# -- finishing a run that failed --------------------------------------------------------------
def run_fail(
    run_id: int,
    message: str,
    fix: str,
    *,
    code: str = "",
    service_message: str = "",
    note: bool = True,
) -> Run:
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("installation").get(pk=run_id)
        if run.is_finished:
            return run
        run.status = Run.Status.FAILED
        run.error_message, run.error_fix = message, fix
        run.error_code, run.service_message = code, service_message
        run.finished_at = timezone.now()
        run.save()
    run.steps.create(kind="error", attempt=run.attempts, message=f"{message} {fix}")
    logger.warning(
        "run failed",
        extra={"portal": run.installation.hub_id, "deal": run.deal_id, "reason": message},
    )
    if note and run.installation.is_active:
        try:
            hubspot = HubSpotClient(run.installation, observer=_observer(run))
            run.note_id = deal_note_failure(hubspot, run)
            run.save(update_fields=["note_id"])
            record_update(
                hubspot,
                "deals",
                run.deal_id,
                {
                    "fortnox_document_type": run.document_type,
                    "fortnox_status": "failed",
                    "fortnox_last_run": str(int(timezone.now().timestamp() * 1000)),
                },
            )
        except IntegrationError as exc:
            logger.error("failure note not written", extra={"run": run.pk, "why": str(exc)})
    _workflow_finished(run)
    return run


def _workflow_finished(run: Run) -> None:
    from sync.workflows import workflow_run_finished

    workflow_run_finished(run)


# -- replay -------------------------------------------------------------------------------------
def run_replay(run: Run) -> tuple[Run | None, str]:
    """Re-run a failed run with the deal's current data. (new run or None, what happened)."""
    done = Run.objects.filter(
        installation=run.installation,
        deal_id=run.deal_id,
        document_type=run.document_type,
        trigger_key=run.trigger_key,
        status=Run.Status.SUCCEEDED,
    ).first()
    if done is not None:
        return None, (
            f"Nothing to do: Fortnox {done.get_document_type_display().lower()} "
            f"{done.fortnox_document_number} was already created for this deal "
            f"(run {done.pk}). No new document was created."
        )
    live = Run.objects.filter(
        installation=run.installation,
        deal_id=run.deal_id,
        document_type=run.document_type,
        trigger_key=run.trigger_key,
        status__in=[Run.Status.QUEUED, Run.Status.RUNNING],
    ).first()
    if live is not None:
        return None, f"Run {live.pk} for this deal is already under way; check the deal's notes."
    new = run_create(
        run.installation,
        run.deal_id,
        run.document_type,
        Run.Trigger.REPLAY,
        run.trigger_key,
        replay_of=run,
    )
    if new is None:
        return None, "Another run for this deal started at the same moment; check the notes."
    return new, (
        f"Replay started (run {new.pk}). The result will appear as a note on the deal "
        "in a few moments."
    )
