"""The note on the deal: every outcome leaves one (product.md §2).

Pure renderers: a template name and plain data in, HTML out. Nothing here reads a run or talks
to HubSpot; sync/deliveries.py sends the note (with its PDF) and the run engine fills the data.
Values are HTML-escaped by the templates. The footer, "Fortnox for HubSpot · run <id> ·
<trigger>", is also the marker a delivery looks for on the deal before it sends a note again.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

# The keys each template reads; a missing one is a bug in the caller, named in the error.
TEMPLATE_KEYS: dict[str, tuple[str, ...]] = {
    "success": (
        "document_label",
        "document_number",
        "customer_name",
        "customer_number",
        "total",
        "total_vat",
        "currency",
        "row_count",
        "created_articles",
        "placeholder_rows",
        "document_url",
        "run_id",
        "trigger_label",
    ),
    "failure": (
        "document_label",
        "document_number",
        "message",
        "fix",
        "code",
        "service_label",
        "service_message",
        "replay_url",
        "run_id",
        "trigger_label",
    ),
    "skipped": ("message", "fix", "run_id", "trigger_label"),
}


class NoteDataInvalid(ValueError):
    pass


def document_url(tenant: str, kind: str, number: str) -> str:
    return settings.FORTNOX_DOCUMENT_URL.format(tenant=tenant, kind=kind, number=number)


def note_marker(run_id: int | str) -> str:
    """The footer's start, unique to the run: what a delivery searches the deal's notes for."""
    return f"Fortnox for HubSpot · run {run_id}"


def note_data_check(template: str, data: Mapping[str, Any]) -> None:
    if template not in TEMPLATE_KEYS:
        raise NoteDataInvalid(
            f"unknown note template {template!r}: use one of {', '.join(TEMPLATE_KEYS)}"
        )
    missing = [key for key in TEMPLATE_KEYS[template] if key not in data]
    if missing:
        raise NoteDataInvalid(
            f"the {template} note needs {', '.join(missing)} in its data (see notes/services.py)"
        )


def note_body(
    template: str, data: Mapping[str, Any], *, pdf_attached: bool = False, pdf_problem: str = ""
) -> str:
    """The note's HTML. `pdf_problem` says why the document's PDF is not attached."""
    note_data_check(template, data)
    return render_to_string(
        f"notes/{template}.html",
        {**data, "pdf_attached": pdf_attached, "pdf_problem": pdf_problem},
    )


def note_visible_text(body_html: str) -> str:
    """The note as a user reads it in HubSpot: tags dropped, entities decoded, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", body_html or ""))
    return re.sub(r"\s+", " ", text).strip()


def note_has_marker(body_html: str, marker: str) -> bool:
    """True when the note carries `marker` as a whole ("run 4" does not match "run 45")."""
    pattern = rf"(?<!\w){re.escape(note_visible_text(marker))}(?!\w)"
    return re.search(pattern, note_visible_text(body_html)) is not None


# -- compatibility: the run engine's old calls, until it sends notes as deliveries -----------
# These take the run duck-typed (notes/ imports nothing from sync/) and send at once.
def _send(hubspot, deal_id: str, body: str, attachment_ids: list[str] | None = None) -> str:
    from integrations.hubspot.crm import note_create

    return note_create(hubspot, body, int(time.time() * 1000), {"deals": deal_id}, attachment_ids)


def deal_note_success(
    hubspot,
    run,
    *,
    customer_name: str,
    total,
    total_vat,
    row_count: int,
    created_articles: list[str],
    placeholder_rows: list[str],
    tenant: str,
    pdf: bytes | None,
    pdf_problem: str = "",
) -> str:
    from integrations.errors import IntegrationError
    from integrations.hubspot.crm import file_upload

    label = run.get_document_type_display().lower()
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
    data = {
        "document_label": label,
        "document_number": run.fortnox_document_number,
        "customer_name": customer_name,
        "customer_number": run.fortnox_customer_number,
        "total": str(total),
        "total_vat": str(total_vat) if total_vat else "",
        "currency": run.currency,
        "row_count": row_count,
        "created_articles": created_articles,
        "placeholder_rows": placeholder_rows,
        "document_url": document_url(tenant, label, run.fortnox_document_number),
        "run_id": run.pk,
        "trigger_label": run.get_trigger_display(),
    }
    body = note_body(
        "success",
        data,
        pdf_attached=bool(attachment_ids),
        pdf_problem=pdf_problem or ("" if attachment_ids else "Fortnox gave no PDF."),
    )
    return _send(hubspot, run.deal_id, body, attachment_ids)


def deal_note_failure(hubspot, run) -> str:
    from notes.replay import replay_url

    data = {
        "document_label": run.get_document_type_display().lower(),
        "document_number": run.fortnox_document_number,
        "message": run.error_message,
        "fix": run.error_fix,
        "code": run.error_code,
        "service_label": "Fortnox"
        if run.error_code and run.error_code[0].isdigit()
        else "The service",
        "service_message": run.service_message,
        "replay_url": replay_url(run.installation.hub_id, run.pk),
        "run_id": run.pk,
        "trigger_label": run.get_trigger_display(),
    }
    return _send(hubspot, run.deal_id, note_body("failure", data))


def deal_note_skipped(hubspot, run) -> str:
    data = {
        "message": run.error_message,
        "fix": run.error_fix,
        "run_id": run.pk,
        "trigger_label": run.get_trigger_display(),
    }
    return _send(hubspot, run.deal_id, note_body("skipped", data))
