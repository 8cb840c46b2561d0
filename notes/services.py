"""The note on the deal: every outcome leaves one (product.md §2).

Pure renderers: a template name and plain data in, HTML out. Nothing here reads a run or talks
to HubSpot; sync/deliveries.py sends the note (with its PDF) and the run engine fills the data.
Values are HTML-escaped by the templates. The footer, "Fortnox for HubSpot · run <id> ·
<trigger>", is also the marker a delivery looks for on the deal before it sends a note again.
"""

from __future__ import annotations

import html
import re
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
