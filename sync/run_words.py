"""How the app's pages speak of a run, in the page's language: its HubSpot record (a deal, a
company, a contact or a product), its kind, and what a customer or product sync did. The Runs
tab (portals/views_runs.py) and the Replay page (sync/views.py) say the same things this way.

Record words carry a message context ("hubspot record"): "company" or "product" alone would
collide with other parts' translations (locale/sv/parts/workflows.po).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from sync.models import Run, RunKind, SubjectType

# "Company: Verkstad AB"
RECORD_LABELS = {
    SubjectType.DEAL: pgettext_lazy("hubspot record", "Deal"),
    SubjectType.COMPANY: pgettext_lazy("hubspot record", "Company"),
    SubjectType.CONTACT: pgettext_lazy("hubspot record", "Contact"),
    SubjectType.PRODUCT: pgettext_lazy("hubspot record", "Product"),
}
# "HubSpot company 12"
RECORD_WORDS = {
    SubjectType.DEAL: pgettext_lazy("hubspot record", "deal"),
    SubjectType.COMPANY: pgettext_lazy("hubspot record", "company"),
    SubjectType.CONTACT: pgettext_lazy("hubspot record", "contact"),
    SubjectType.PRODUCT: pgettext_lazy("hubspot record", "product"),
}
# "Replay reads the company again": Swedish says it in one word ("företaget").
THE_RECORD = {
    SubjectType.DEAL: pgettext_lazy("hubspot record", "the deal"),
    SubjectType.COMPANY: pgettext_lazy("hubspot record", "the company"),
    SubjectType.CONTACT: pgettext_lazy("hubspot record", "the contact"),
    SubjectType.PRODUCT: pgettext_lazy("hubspot record", "the product"),
}
KIND_LABELS = {
    RunKind.INVOICE: gettext_lazy("Invoice"),
    RunKind.ORDER: gettext_lazy("Order"),
    RunKind.CUSTOMER_SYNC: gettext_lazy("Customer sync"),
    RunKind.PRODUCT_SYNC: gettext_lazy("Product sync"),
}
# What a succeeded customer sync did (sync/customer_sync.py's outcome "action").
CUSTOMER_RESULTS = {
    "created": gettext_lazy("customer %(number)s, created"),
    "updated": gettext_lazy("customer %(number)s, updated: %(fields)s"),
    "unchanged": gettext_lazy("customer %(number)s, already in step: nothing sent to Fortnox"),
    "found": gettext_lazy("customer %(number)s, found and linked"),
}
ARTICLES_SHOWN = 5  # a deal's product sync may touch many articles: the detail page lists them


def record_label(run: Run) -> str:
    return str(RECORD_LABELS.get(run.subject_type, run.subject_type))


def record_word(run: Run) -> str:
    return str(RECORD_WORDS.get(run.subject_type, run.subject_type))


def the_record(run: Run) -> str:
    return str(THE_RECORD.get(run.subject_type, run.subject_type))


def kind_label(run: Run) -> str:
    return str(KIND_LABELS.get(run.kind, run.kind))


def sync_result(run: Run) -> str:
    """What a succeeded customer or product sync did to Fortnox ("customer 12, created";
    "articles A1, A2"), or "" (a document run, or a sync that did not succeed)."""
    if run.status != Run.Status.SUCCEEDED:
        return ""
    outcome = (run.data_read or {}).get("outcome") or {}
    if run.kind == RunKind.CUSTOMER_SYNC:
        text = CUSTOMER_RESULTS.get(outcome.get("action", ""))
        number = outcome.get("customer_number") or run.fortnox_customer_number
        if text is None or not number:
            return ""
        return str(text) % {
            "number": number,
            "fields": ", ".join(outcome.get("updated_fields") or []),
        }
    if run.kind == RunKind.PRODUCT_SYNC:
        numbers = [str(a["number"]) for a in outcome.get("articles") or [] if a.get("number")]
        if not numbers:
            return ""
        shown = ", ".join(numbers[:ARTICLES_SHOWN])
        if len(numbers) > ARTICLES_SHOWN:
            shown += " …"
        return ngettext("article %(numbers)s", "articles %(numbers)s", len(numbers)) % {
            "numbers": shown
        }
    return ""
