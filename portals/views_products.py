"""The Products tab: article search, the not-found policy, the default article (picked from the
connected Fortnox company's articles), deals without line items, and the articles the app
creates. The article picker's JSON endpoint lives here too."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integrations.errors import IntegrationError
from portals.access import form_tab, settings_page
from portals.forms_products import FIELDS, ProductsForm
from portals.history import model_update_recorded, settings_changes_record
from portals.registers import (
    Article,
    fortnox_article_get,
    fortnox_articles_matching,
    fortnox_client_get,
    fortnox_sales_accounts_list,
    fortnox_units_list,
)
from portals.tabs import settings_render
from sync.models import SyncSettings

SECTION = "Products"
SEARCH_PARAM = "article_q"


def _problem(exc: IntegrationError) -> str:
    return f"{exc.message} {exc.fix}".strip()


def _price_lists(client) -> tuple[list[dict[str, str]] | None, str]:
    """The company's price lists for the picker, or None and why (the code is then typed)."""
    try:
        lists = client.price_lists()
    except IntegrationError as exc:
        return None, _problem(exc)
    return [
        {"code": str(p.get("Code") or ""), "description": str(p.get("Description") or "")}
        for p in lists
        if p.get("Code")
    ], ""


def _page(request: HttpRequest, data=None) -> HttpResponse:
    installation = request.installation
    sync_settings, _created = SyncSettings.objects.get_or_create(installation=installation)
    initial = {name: getattr(sync_settings, name) for name in FIELDS}
    connection = installation.active_fortnox_connection()
    # An article chosen in another Fortnox company is not this company's: not shown as chosen.
    initial["default_article_number"] = sync_settings.default_article_for(
        connection.database_number if connection else ""
    )
    client = fortnox_client_get(installation)
    fortnox_problem = price_lists_problem = ""
    if client is None:
        fortnox_problem = _("Fortnox is not connected: connect it on the Overview tab first.")
    units = accounts = price_lists = None
    articles: list[Article] = []
    matches: list[Article] = []
    query = request.GET.get(SEARCH_PARAM, "").strip()
    if client is not None:
        try:
            units = fortnox_units_list(client)
            accounts = fortnox_sales_accounts_list(installation, client)
            if initial["default_article_number"]:
                stored, _active = fortnox_article_get(client, initial["default_article_number"])
                articles.append(stored or Article(initial["default_article_number"], ""))
            if query:
                matches = fortnox_articles_matching(client, query)
        except IntegrationError as exc:
            fortnox_problem = _problem(exc)
        price_lists, price_lists_problem = _price_lists(client)
    articles += matches
    posted = (data or {}).get("default_article_number") or ""
    if posted and posted not in {a.number for a in articles}:
        # Checked against Fortnox in the form's clean(), not against this page's list.
        articles.append(Article(posted, ""))
    articles = list({a.number: a for a in articles}.values())
    form = ProductsForm(
        data,
        initial=initial,
        articles=articles,
        units=units,
        accounts=accounts,
        article_lookup=(lambda number: fortnox_article_get(client, number)) if client else None,
        price_lists=price_lists,
    )
    if data is not None:
        try:
            valid = form.is_valid()
        except IntegrationError as exc:
            form.add_error(None, _problem(exc))
            valid = False
        if valid:
            values = dict(form.cleaned_data)
            changes = model_update_recorded(
                sync_settings,
                values,
                installation=installation,
                access=request.access,
                section=SECTION,
            )
            if not changes:
                # Saved as they were: still a choice made on purpose (the set-up checklist's
                # products step asks for one), so the history says so.
                settings_changes_record(
                    installation,
                    request.access,
                    SECTION,
                    [(_("Products settings"), "", _("saved unchanged"))],
                )
            messages.success(request, _("Saved."))
            return redirect("settings-products", hub_id=installation.hub_id)
    return settings_render(
        request,
        "products",
        "portals/settings/products.html",
        {
            "form": form,
            "query": query,
            "search_param": SEARCH_PARAM,
            "searched": bool(query),
            "matches": matches,
            "fortnox_problem": fortnox_problem,
            "accounts_readable": accounts is not None,
            "price_lists_problem": price_lists_problem,
            "by_name": initial["article_search"] == SyncSettings.ArticleSearch.NAME,
        },
        status=400 if data is not None else 200,
    )


@never_cache
@require_GET
@settings_page
def products_articles_json(request: HttpRequest, hub_id: int) -> JsonResponse:
    """The picker's search: active articles of the connected company whose number or
    description contains `q`."""
    client = fortnox_client_get(request.installation)
    if client is None:
        return JsonResponse(
            {"error": _("Fortnox is not connected: connect it on the Overview tab first.")},
            status=409,
        )
    try:
        articles = fortnox_articles_matching(client, request.GET.get("q", ""))
    except IntegrationError as exc:
        return JsonResponse({"error": _problem(exc)}, status=502 if exc.transient else 400)
    return JsonResponse(
        {"articles": [{"number": a.number, "label": a.label} for a in articles]},
    )


products_settings = form_tab(_page)
