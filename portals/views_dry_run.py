"""The ★ Dry run tab: pick a deal by name and see the document the app would create for it.

Both steps are GETs: the dry run changes nothing (sync/dry_run.py), so a read-only user may use
it, and a preview's address can be shared or reloaded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import formats
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integrations.errors import IntegrationError
from notes.services import money_text
from portals.access import settings_page
from portals.tabs import settings_render
from sync.dry_run import NEW_NUMBER, DryRun, deal_dry_run, dry_run_deals_find
from sync.models import RunKind

KIND_NAMES = {
    RunKind.INVOICE: pgettext_lazy("document", "invoice"),
    RunKind.ORDER: pgettext_lazy("document", "order"),
}


class DealSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Deal name"),
        max_length=200,
        required=True,
        help_text=_("A word of the deal's name, as HubSpot's search finds it."),
        error_messages={"required": _("Deal name: type a word of the deal's name.")},
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class DryRunForm(forms.Form):
    deal = forms.RegexField(
        regex=r"^\d{1,30}$",
        error_messages={"invalid": _("Deal: pick a deal from the search results.")},
    )
    kind = forms.ChoiceField(
        label=_("Document type"),
        required=False,
        choices=[
            ("", _("As the deal's pipeline says")),
            (RunKind.INVOICE, _("Invoice")),
            (RunKind.ORDER, _("Order")),
        ],
    )


@never_cache
@settings_page
@require_GET
def dry_run(request: HttpRequest, hub_id: int) -> HttpResponse:
    installation = request.installation
    search = DealSearchForm(request.GET if "q" in request.GET else None)
    context: dict[str, Any] = {"search": search, "deals": None, "search_problem": None}
    if search.is_bound and search.is_valid():
        try:
            context["deals"] = dry_run_deals_find(installation, search.cleaned_data["q"])
        except IntegrationError as exc:
            context["search_problem"] = {"message": exc.message, "fix": exc.fix}
    if "deal" in request.GET:
        chosen = DryRunForm(request.GET)
        context["dry_run_form"] = chosen
        if chosen.is_valid():
            result = deal_dry_run(
                installation,
                chosen.cleaned_data["deal"],
                kind=chosen.cleaned_data["kind"] or None,
            )
            context["result"] = _shown(result)
    return settings_render(request, "dry_run", "portals/settings/dry_run.html", context)


# -- how the result reads ------------------------------------------------------------------------


def _language() -> str:
    return "sv" if (get_language() or "").startswith("sv") else "en"


def _money(value: Decimal | None, currency: str) -> str:
    return "" if value is None else money_text(value, currency, _language())


def _figure(value: Decimal | None) -> str:
    """A quantity or rate as written, in the page's number format (1,5 in Swedish)."""
    if value is None:
        return ""
    plain = Decimal(f"{value.normalize():f}")
    places = max(0, -plain.as_tuple().exponent)
    return formats.number_format(plain, places, use_l10n=True, force_grouping=True)


MATCHED_BY = {
    "mapping": _("the link the app stored when it last used this customer"),
    "customer_number": _("the Fortnox customer number on the HubSpot record"),
    "organisation_number": _("organisation number"),
    "vat_number": _("VAT number"),
    "name": _("exact name (the only Fortnox company customer with it)"),
    "email": _("e-mail (a private customer)"),
}

# The Fortnox customer fields shown, in words (any other field shows under its Fortnox name).
CUSTOMER_FIELDS = {
    "Name": _("Name"),
    "OrganisationNumber": _("Organisation number"),
    "VATNumber": _("VAT number"),
    "Email": _("E-mail"),
    "Address1": _("Address"),
    "ZipCode": _("Postcode"),
    "City": _("City"),
    "CountryCode": _("Country"),
    "Type": _("Customer type"),
    "VATType": _("VAT type"),
}

# Fortnox's codes, in words.
CUSTOMER_VALUES = {
    ("Type", "COMPANY"): pgettext_lazy("customer type", "Company"),
    ("Type", "PRIVATE"): pgettext_lazy("customer type", "Private person"),
    ("VATType", "SEVAT"): _("Swedish VAT"),
    ("VATType", "SEREVERSEDVAT"): _("Sweden, reverse charge"),
    ("VATType", "EUREVERSEDVAT"): _("EU, reverse charge"),
    ("VATType", "EUVAT"): _("EU, with Swedish VAT"),
    ("VATType", "EXPORT"): _("Export, outside the EU"),
}

OBJECT_NAMES = {"companies": _("company"), "contacts": _("contact")}

ARTICLE_STATES = {
    "found": _("found"),
    "created": _("to be created"),
    "placeholder": _("default article"),
}


def _warning(warning: dict[str, Any], currency: str) -> str:
    code = warning["code"]
    texts = {
        "pipeline_not_added": _(
            "The deal's pipeline (%(pipeline)s) is not added in the invoice and order settings, "
            "so moving the deal there creates nothing; a workflow action still can."
        ),
        "customer_no_address": _(
            "The customer %(name)s has no address, so the document will have none."
        ),
        "customer_created": _("The customer %(name)s will be created in Fortnox."),
        "article_created": _("The article %(number)s (%(name)s) will be created in Fortnox."),
        "placeholder_row": _(
            "No article matches %(line)s: the row uses the default article %(number)s."
        ),
        "vat_unknown": _(
            "%(line)s: the VAT is the new article's, which Fortnox sets when it creates it; "
            "VAT and total are not known before."
        ),
        "vat_override": _(
            "%(line)s: VAT 0 %% (reverse charge or export), whatever the rate in HubSpot."
        ),
        "one_amount_row": _(
            "%(line)s is sent as one amount (quantity 1), because its quantity or price needs "
            "more than 2 decimals."
        ),
        "recurring_row": _("%(line)s recurs (%(period)s) in HubSpot: it is invoiced once."),
        "currency": _(
            "The document will be in %(currency)s; Fortnox sets the exchange rate when it "
            "creates it."
        ),
        "net_differs": _(
            "The rows add up to %(fortnox)s, while HubSpot's line items add up to %(hubspot)s."
        ),
    }
    params = dict(warning)
    if code == "article_created" and not params.get("number"):
        return gettext("An article %(name)s will be created in Fortnox (Fortnox numbers it).") % {
            "name": params.get("name") or ""
        }
    for key in ("fortnox", "hubspot"):
        if isinstance(params.get(key), Decimal):
            params[key] = _money(params[key], currency)
    params["name"] = params.get("name") or ""
    return str(texts[code]) % params


def _placeholder(value: Any) -> str:
    return gettext("the new customer's number") if value == NEW_NUMBER else str(value)


def _would(result: DryRun) -> list[str]:
    """The writes a real run would make besides the document, in words."""
    log = result.would
    lines = []
    if log.customer_created is not None:
        lines.append(
            gettext("Fortnox: create the customer %(name)s.")
            % {"name": log.customer_created.get("Name", "")}
        )
    for number, changed in log.customers_updated:
        lines.append(
            gettext("Fortnox: update customer %(number)s (%(fields)s).")
            % {"number": number, "fields": ", ".join(sorted(changed))}
        )
    for article in log.articles_created:
        lines.append(
            gettext("Fortnox: create the article %(number)s (%(name)s).")
            % {
                "number": article.get("ArticleNumber") or gettext("numbered by Fortnox"),
                "name": article.get("Description") or "",
            }
        )
    for object_type, object_id, properties in log.hubspot_updates:
        lines.append(
            gettext("HubSpot: set %(properties)s on %(object)s %(id)s.")
            % {
                "properties": ", ".join(
                    f"{k} = {_placeholder(v)}" for k, v in sorted(properties.items())
                ),
                "object": OBJECT_NAMES.get(object_type, object_type),
                "id": object_id,
            }
        )
    kind = KIND_NAMES.get(result.kind, result.kind)
    lines.append(gettext("Fortnox: create the draft %(kind)s.") % {"kind": kind})
    lines.append(gettext("HubSpot: write a note on the deal and the deal's Fortnox properties."))
    return lines


def _field_order(name: str) -> tuple[int, str]:
    known = list(CUSTOMER_FIELDS)
    return (known.index(name) if name in known else len(known), name)


def _shown(result: DryRun) -> dict[str, Any]:
    currency = result.totals.currency if result.totals else ""
    customer = result.customer
    shown: dict[str, Any] = {
        "deal_id": result.deal_id,
        "deal_name": result.deal_name,
        "kind": result.kind,
        "kind_name": KIND_NAMES.get(result.kind, result.kind),
        "kind_source": result.kind_source,
        "pipeline": result.pipeline_label,
        "failure": result.failure,
        "earlier_document": result.earlier_document,
        "calls": result.calls,
        "warnings": [_warning(w, currency) for w in result.warnings],
        "would": _would(result) if result.failure is None else [],
        "customer": None,
        "rows": [],
        "totals": None,
    }
    if customer is not None:
        shown["customer"] = {
            "new": customer.number == NEW_NUMBER,
            "number": customer.number,
            "matched_by": MATCHED_BY.get(customer.matched_by, customer.matched_by),
            "fields": [
                (
                    str(CUSTOMER_FIELDS.get(name, name)),
                    str(CUSTOMER_VALUES.get((name, value), value)),
                )
                for name, value in sorted(
                    customer.fields.items(), key=lambda item: _field_order(item[0])
                )
            ],
        }
    for row in result.rows:
        shown["rows"].append(
            {
                "position": row.position,
                "line": row.line,
                "description": row.description,
                "article_number": row.article_number,
                "article_new": row.numbered_by_fortnox,
                "article_state": ARTICLE_STATES[row.article],
                "quantity": _figure(row.quantity),
                "price": _money(row.price, currency),
                "discount": f"{_figure(row.discount)} %" if row.discount else "",
                "vat": f"{_figure(row.vat)} %" if row.vat is not None else gettext("not known"),
                "net": _money(row.net, currency),
            }
        )
    if result.totals is not None:
        totals = result.totals
        shown["totals"] = {
            "currency": totals.currency,
            "net": _money(totals.net, currency),
            "vat": _money(totals.vat, currency) or gettext("not known"),
            "round_off": _money(totals.round_off, currency) if totals.round_off else "",
            "total": _money(totals.total, currency) or gettext("not known"),
            "hubspot_net": _money(result.hubspot_net, currency),
        }
    return shown
