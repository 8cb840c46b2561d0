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
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

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
    # A customer or product sync (sync/finish.py _sync_note): `outcome` is what the run stored
    # (customer: action, customer_number, customer_name, matched_by, updated_fields;
    # products: articles [{number, name, action, reason}]).
    "sync": (
        "sync_kind",
        "subject_type",
        "failed",
        "outcome",
        "message",
        "fix",
        "code",
        "service_label",
        "service_message",
        "replay_url",
        "run_id",
        "trigger_label",
    ),
    # A document the app made was cancelled in Fortnox (sync/figures.py): "Create again" on the
    # deal's Fortnox card makes a new one. `marker` is cancelled_marker(run_id, language).
    "cancelled": ("document_label", "document_number", "document_url", "run_id"),
    # The task for the deal owner when a run failed (sync/deliveries: the failure task).
    "task": (
        "document_label",
        "document_number",
        "message",
        "fix",
        "replay_url",
        "run_id",
        "trigger_label",
    ),
}


class NoteDataInvalid(ValueError):
    pass


NOTE_LANGUAGES = ("en", "sv")  # `language` in a note's data; "en" when absent

# The document's name in the note's language; `document_label` stays the English kind, which
# is also the `{kind}` of the Fortnox link.
DOCUMENT_NAMES = {"invoice": gettext_lazy("invoice"), "order": gettext_lazy("order")}


def _known(text: str) -> str:
    """`text` in the active language when the catalogue knows it; gettext("") would answer the
    catalogue's header, hence the guard."""
    return _(text) if text else ""


def note_language(data: Mapping[str, Any]) -> str:
    language = str(data.get("language") or "en")
    return language if language in NOTE_LANGUAGES else "en"


def money_text(value: Any, currency: str, language: str = "en") -> str:
    """An amount as the note's reader writes it: "1 250,00 kr" (sv), "1,250.00 SEK" (en).
    Django's own locale formats (sv: non-breaking space, decimal comma); "" for no value."""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return ""
    language = language if language in NOTE_LANGUAGES else "en"
    with translation.override(language):
        text = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    unit = "kr" if language == "sv" and currency.upper() == "SEK" else currency.upper()
    return f"{text} {unit}".strip()


def percent_text(value: Any, language: str = "en") -> str:
    try:
        rate = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{rate:f}"
    return f"{text.replace('.', ',') if language == 'sv' else text} %"


def _difference_text(difference: Mapping[str, Any], currency: str, language: str) -> str:
    kind = difference.get("kind")

    def show(value: Any) -> str:
        if kind == "money":
            return money_text(value, currency, language) or _("none")
        if kind == "percent":
            return percent_text(value, language)
        return str(value)

    what = _known(str(difference.get("what") or ""))
    if difference.get("row"):
        line = f" ({difference['line']})" if difference.get("line") else ""
        what = _("Row %(row)s%(line)s %(what)s") % {
            "row": difference["row"],
            "line": line,
            "what": what,
        }
    return _("%(what)s: %(fortnox)s in Fortnox, %(deal)s in HubSpot") % {
        "what": what,
        "fortnox": show(difference.get("fortnox")),
        "deal": show(difference.get("deal")),
    }


def _success_figures(data: Mapping[str, Any]) -> dict[str, Any]:
    """Fortnox's figures and the reconciliation, formatted for the note's language."""
    language = str(data.get("language") or "en")
    currency = str(data.get("currency") or "")
    round_off = data.get("round_off") or ""
    try:
        has_round_off = bool(round_off) and Decimal(str(round_off)) != 0
    except InvalidOperation:
        has_round_off = False
    return {
        "net_text": money_text(data.get("net", ""), currency, language),
        "vat_text": money_text(data.get("total_vat", ""), currency, language),
        "total_text": money_text(data.get("total", ""), currency, language),
        "round_off_text": money_text(round_off, currency, language) if has_round_off else "",
        "difference_lines": [
            _difference_text(d, currency, language) for d in data.get("differences") or []
        ],
        "override_lines": [
            _("VAT 0 %% on %(line)s (%(reason)s")
            % {"line": o["line"], "reason": _known(str(o["reason"]))}
            + (f"; HubSpot: {percent_text(o['hubspot_vat'], language)}" if o["hubspot_vat"] else "")
            + ")"
            for o in data.get("vat_overrides") or []
        ],
    }


RECORD_NAMES = {
    "companies": pgettext_lazy("sync note record", "company"),
    "contacts": pgettext_lazy("sync note record", "contact"),
    "deals": pgettext_lazy("sync note record", "deal"),
}
MATCHED_BY_WORDS = {
    "customer_number": gettext_lazy("by the customer number on the record"),
    "organisation_number": gettext_lazy("matched by organisation number"),
    "vat_number": gettext_lazy("matched by VAT number"),
    "name": gettext_lazy("matched by name"),
    "email": gettext_lazy("matched by e-mail"),
}
ARTICLE_ACTION_WORDS = {
    "created": pgettext_lazy("article action", "created"),
    "updated": pgettext_lazy("article action", "updated"),
    "unchanged": pgettext_lazy("article action", "already in step, nothing sent"),
    "found": pgettext_lazy("article action", "found in Fortnox"),
    "inactivated": pgettext_lazy("article action", "made inactive"),
    "skipped": pgettext_lazy("article action", "skipped"),
    "failed": pgettext_lazy("article action", "failed"),
}


def _sync_words(data: Mapping[str, Any]) -> dict[str, Any]:
    """The words of a sync note that depend on its data, in the note's language."""
    outcome = data.get("outcome") or {}
    lines = []
    for article in outcome.get("articles") or []:
        action = str(ARTICLE_ACTION_WORDS.get(article.get("action", ""), article.get("action", "")))
        line = _("Article %(number)s (%(name)s): %(action)s") % {
            "number": article.get("number") or "—",
            "name": article.get("name") or "",
            "action": action,
        }
        if article.get("reason"):
            line = f"{line}. {article['reason']}"
        lines.append(line)
    subject = str(data.get("subject_type") or "")
    return {
        "record_name": str(RECORD_NAMES.get(subject, subject)),
        "matched_text": str(MATCHED_BY_WORDS.get(outcome.get("matched_by", ""), "")),
        "updated_fields_text": ", ".join(outcome.get("updated_fields") or []),
        "article_lines": lines,
    }


def document_url(tenant: str, kind: str, number: str) -> str:
    return settings.FORTNOX_DOCUMENT_URL.format(tenant=tenant, kind=kind, number=number)


def note_marker(run_id: int | str, language: str = "en") -> str:
    """The footer's start, unique to the run: what a delivery searches the deal's notes for.
    In the note's language, so a Swedish note reads Swedish to its end."""
    with translation.override(language if language in NOTE_LANGUAGES else "en"):
        return _("Fortnox for HubSpot · run %(run_id)s") % {"run_id": run_id}


def cancelled_marker(run_id: int | str, language: str = "en") -> str:
    """The cancelled note's footer: unlike the run's own note's marker, so a retry never takes
    the run's first note for this one."""
    with translation.override(language if language in NOTE_LANGUAGES else "en"):
        return _("Fortnox for HubSpot · run %(run_id)s · cancelled in Fortnox") % {"run_id": run_id}


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
    language = note_language(data)
    # Rendered in the portal's language (SyncSettings.language), whatever the worker's is.
    with translation.override(language):
        extra = _success_figures(data) if template == "success" else {}
        if template == "sync":
            extra = _sync_words(data)
        label = str(data.get("document_label") or "")
        return render_to_string(
            f"notes/{template}.html",
            {
                **data,
                **extra,
                "document_name": str(DOCUMENT_NAMES.get(label, label)),
                "service_name": _known(str(data.get("service_label") or "")),
                "trigger_label": _known(str(data["trigger_label"] or "")),
                "marker": (
                    cancelled_marker(data["run_id"], language)
                    if template == "cancelled"
                    else note_marker(data["run_id"], language)
                ),
                "pdf_attached": pdf_attached,
                "pdf_problem": pdf_problem,
            },
        )


def task_subject(data: Mapping[str, Any]) -> str:
    """The failure task's title, in the note's language."""
    note_data_check("task", data)
    with translation.override(note_language(data)):
        label = str(data.get("document_label") or "")
        return _("Fortnox %(document)s not created: fix the deal and Replay") % {
            "document": DOCUMENT_NAMES.get(label, label)
        }


def note_visible_text(body_html: str) -> str:
    """The note as a user reads it in HubSpot: tags dropped, entities decoded, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", body_html or ""))
    return re.sub(r"\s+", " ", text).strip()


def note_has_marker(body_html: str, marker: str) -> bool:
    """True when the note carries `marker` as a whole ("run 4" does not match "run 45")."""
    pattern = rf"(?<!\w){re.escape(note_visible_text(marker))}(?!\w)"
    return re.search(pattern, note_visible_text(body_html)) is not None
