"""The note on the deal: every outcome leaves one (product.md §2). Values are HTML-escaped by
the templates; the PDF (Fortnox `preview`, which does not mark the document sent) is uploaded
as a private file and attached."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string

from integrations.errors import IntegrationError
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import file_upload, note_create
from notes.replay import replay_url
from sync.models import Run

logger = logging.getLogger(__name__)


def document_url(tenant: str, kind: str, number: str) -> str:
    return settings.FORTNOX_DOCUMENT_URL.format(tenant=tenant, kind=kind, number=number)


def deal_note_success(
    hubspot: HubSpotClient,
    run: Run,
    *,
    customer_name: str,
    total: Decimal,
    total_vat: Decimal | None,
    row_count: int,
    created_articles: list[str],
    placeholder_rows: list[str],
    tenant: str,
    pdf: bytes | None,
    pdf_problem: str = "",
) -> str:
    label = run.get_kind_display().lower()
    attachment_ids: list[str] = []
    if pdf:
        try:
            uploaded = file_upload(
                hubspot, f"Fortnox {label} {run.fortnox_document_number}.pdf", pdf
            )
            attachment_ids.append(uploaded["id"])
        except IntegrationError as exc:
            if exc.transient:
                raise
            pdf_problem = f"{exc.message} {exc.fix}"
    body = render_to_string(
        "notes/success.html",
        {
            "run": run,
            "document_label": label,
            "customer_name": customer_name,
            "total": total,
            "total_vat": total_vat,
            "row_count": row_count,
            "created_articles": created_articles,
            "placeholder_rows": placeholder_rows,
            "document_url": document_url(tenant, label, run.fortnox_document_number),
            "pdf_attached": bool(attachment_ids),
            "pdf_problem": pdf_problem,
            "trigger": run.get_trigger_display(),
        },
    )
    return note_create(
        hubspot, body, int(time.time() * 1000), {"deals": run.subject_id}, attachment_ids
    )


def deal_note_failure(hubspot: HubSpotClient, run: Run) -> str:
    body = render_to_string(
        "notes/failure.html",
        {
            "run": run,
            "document_label": run.get_kind_display().lower(),
            "service": "Fortnox"
            if run.error_code and run.error_code[0].isdigit()
            else "The service",
            "replay_url": replay_url(run.installation.hub_id, run.pk),
            "trigger": run.get_trigger_display(),
        },
    )
    return note_create(hubspot, body, int(time.time() * 1000), {"deals": run.subject_id})


def deal_note_skipped(hubspot: HubSpotClient, run: Run) -> str:
    body = render_to_string(
        "notes/skipped.html", {"run": run, "trigger": run.get_trigger_display()}
    )
    return note_create(hubspot, body, int(time.time() * 1000), {"deals": run.subject_id})
