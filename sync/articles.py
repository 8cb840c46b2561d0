"""Fortnox articles for a deal's line items: by SKU (the article number) or by product name,
then the not-found policy (skip, default article, create).

By SKU a run does not look articles up first (issue 18): the SKU goes straight onto the row
(`assume_skus`), and only when Fortnox refuses the document for an unknown article
(integrations/fortnox/errors.py `article_missing`) does `fortnox_articles_resolve_missing` look
the SKUs up and apply the policy. A repeat customer's invoice thus costs no article call.

Lookups cost as few calls as the data allows: the article register is listed a page (500) at a
time (FortnoxClient.articles_page), and once fewer keys remain than pages, the rest are searched
one by one. Never through the article's URL path: a number may hold a `/` (issue 13, item 14).
A name is searched among active articles only, and must name exactly one (item 13).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from sync.context import RunContext, RunFailure
from sync.models import SyncSettings
from sync.reader import LineItem

# Fortnox's ArticleNumber: up to 50 characters, letters, digits and - + / . _ (fortnox-api.md
# §4.2: CS-SDK Entities/Articles/Article.cs; the spec's maxLength 50).
ARTICLE_NUMBER = re.compile(r"^[A-Za-z0-9\-+/._–]{1,50}$")


@dataclass
class ResolvedRow:
    line_item: LineItem
    article_number: str
    created: bool = False
    placeholder: bool = False
    #: The SKU put on the row unchecked: Fortnox's answer to the document says whether it exists.
    assumed: bool = False


def _key(item: LineItem, by_sku: bool) -> str:
    return item.sku if by_sku else item.name.lower()


def _article_key(article: dict, by_sku: bool) -> str:
    if by_sku:
        return str(article.get("ArticleNumber", ""))
    return str(article.get("Description", "")).lower()


def _lookup(ctx: RunContext, wanted: set[str], by_sku: bool) -> dict[str, list[str]]:
    """Map each wanted SKU (or lower-cased name) to the article numbers that have it: one for
    a SKU (article numbers are unique), every active article of that name for a name."""
    found: dict[str, list[str]] = {}
    if not wanted:
        return found
    # Inactive articles are left out by Fortnox's own filter (fortnox-api.md §4.2).
    listing = {} if by_sku else {"filter": "active"}

    def unsettled() -> set[str]:
        # A SKU is settled once seen; a name only when every page was seen (a namesake may
        # be on a later page).
        return wanted - found.keys() if by_sku else set(wanted)

    page, total_pages = 1, 1
    # Keep listing while the pages left cost no more calls than searching what is left singly.
    while page <= total_pages and len(unsettled()) >= total_pages - page + 1:
        listed = ctx.fortnox.articles_page(page, **listing)
        total_pages = listed.total_pages
        for article in listed.articles:
            key = _article_key(article, by_sku)
            if key in wanted:
                found.setdefault(key, []).append(str(article["ArticleNumber"]))
        page += 1
    if page <= total_pages:
        for key in sorted(unsettled()):
            # Substring searches (fortnox-api.md §4.0): keep exact matches only.
            if by_sku:
                article = ctx.fortnox.article_find(key)
                numbers = [str(article["ArticleNumber"])] if article else []
            else:
                numbers = [
                    str(article["ArticleNumber"])
                    for article in ctx.fortnox.articles_search(filter="active", description=key)
                    if _article_key(article, by_sku) == key
                ]
            if numbers:
                found[key] = numbers
            else:
                found.pop(key, None)
    return found


def new_article(settings: SyncSettings, item: LineItem) -> dict:
    """The article the "create article" policy creates for a line item, with the settings'
    type, unit, VAT and sales account (Fortnox's Article fields; empty ones are left to
    Fortnox's defaults). No SalesPrice: it is read-only on /3/articles (fortnox-api.md §4.2);
    the row carries the deal's price."""
    article: dict = {"Description": item.name[:200], "Type": settings.new_article_type}
    if settings.new_article_unit:
        article["Unit"] = settings.new_article_unit
    if settings.new_article_vat is not None:
        article["VAT"] = settings.new_article_vat
    if settings.new_article_sales_account:
        article["SalesAccount"] = int(settings.new_article_sales_account)
    return article


def fortnox_articles_resolve(
    ctx: RunContext, items: list[LineItem], *, assume_skus: bool = False
) -> list[ResolvedRow]:
    """The article of each line item. With `assume_skus` (a run by SKU), each SKU goes onto its
    row unchecked, at no call; otherwise the articles are looked up and the not-found policy
    applied (the dry run, and search by name, which has no number to assume)."""
    settings = ctx.settings
    by_sku = settings.article_search == SyncSettings.ArticleSearch.SKU
    if by_sku:
        missing = [item for item in items if not item.sku]
        if missing:
            names = ", ".join(f"'{item.name or item.id}'" for item in missing)
            raise RunFailure(
                _(
                    "SKU should not be empty: the product %(products)s on the deal has no SKU, "
                    "and the app finds Fortnox articles by SKU."
                )
                % {"products": names},
                _(
                    "Set the SKU on the product in HubSpot (it must equal the Fortnox article "
                    "number), or switch the article search method to product name in the app's "
                    "settings; then Replay."
                ),
            )
    else:
        unnamed = [item.id for item in items if not item.name]
        if unnamed:
            raise RunFailure(
                _(
                    "Line item %(line_items)s has no name, and the app finds Fortnox articles "
                    "by product name."
                )
                % {"line_items": ", ".join(unnamed)},
                _("Name the line item or product in HubSpot, then Replay."),
            )
    # A SKU that cannot be an article number (ARTICLE_NUMBER) is missing for
    # sure, and Fortnox might refuse its row for the characters rather than as an unknown
    # article: such a deal is looked up first, as before.
    if by_sku and assume_skus and all(ARTICLE_NUMBER.match(item.sku) for item in items):
        return [ResolvedRow(item, item.sku, assumed=True) for item in items]
    found = _lookup(ctx, {_key(item, by_sku) for item in items}, by_sku)
    return _rows_with_policy(ctx, items, found, by_sku)


def fortnox_articles_resolve_missing(
    ctx: RunContext, rows: list[ResolvedRow]
) -> list[ResolvedRow] | None:
    """Fortnox refused the document for an unknown article: look up the SKUs put on the rows
    unchecked (one list call while the register has one page) and apply the not-found policy
    to those missing, as a lookup first would have. None when every assumed SKU exists: the
    unknown article is another (e.g. the default article), and Fortnox's refusal stands."""
    assumed = {row.article_number for row in rows if row.assumed}
    if not assumed:
        return None
    found = _lookup(ctx, assumed, by_sku=True)
    if found.keys() >= assumed:
        return None
    return _rows_with_policy(ctx, [row.line_item for row in rows], found, by_sku=True)


def _rows_with_policy(
    ctx: RunContext, items: list[LineItem], found: dict[str, list[str]], by_sku: bool
) -> list[ResolvedRow]:
    settings = ctx.settings
    ambiguous = {key: numbers for key, numbers in found.items() if len(numbers) > 1}
    if ambiguous:
        shown = {_key(item, by_sku): item.name for item in items}
        named = "; ".join(
            f"'{shown[key]}': {', '.join(sorted(numbers))}"
            for key, numbers in sorted(ambiguous.items())
        )
        raise RunFailure(
            _(
                "Several active Fortnox articles have the product's name (%(articles)s), so "
                "the app cannot tell which one to invoice."
            )
            % {"articles": named},
            _(
                "Give the articles distinct names in Fortnox (or make the unused ones "
                "inactive), or set the SKU on the product in HubSpot and search articles by "
                "SKU; then Replay."
            ),
        )
    rows: list[ResolvedRow] = []
    created: dict[str, str] = {}
    for item in items:
        key = _key(item, by_sku)
        if key in found:
            rows.append(ResolvedRow(item, found[key][0]))
        elif key in created:
            rows.append(ResolvedRow(item, created[key], created=True))
        elif settings.not_found_policy == SyncSettings.NotFoundPolicy.DEFAULT_ARTICLE:
            if not settings.default_article_number:
                raise RunFailure(
                    _(
                        "No Fortnox article matches the product '%(product)s', and no default "
                        "article is set."
                    )
                    % {"product": item.name},
                    _("Choose a default article in the app's settings, then Replay."),
                )
            rows.append(ResolvedRow(item, settings.default_article_number, placeholder=True))
        elif settings.not_found_policy == SyncSettings.NotFoundPolicy.CREATE_ARTICLE:
            article = new_article(settings, item)
            if by_sku:
                article["ArticleNumber"] = item.sku
            number = str(ctx.fortnox.article_create(article)["ArticleNumber"])
            ctx.info(
                _("Created Fortnox article %(number)s (%(product)s).")
                % {"number": number, "product": item.name}
            )
            created[key] = number
            rows.append(ResolvedRow(item, number, created=True))
        else:
            message = (
                _(
                    "No Fortnox article has SKU '%(sku)s' (product '%(product)s'), so the "
                    "document was not created."
                )
                if by_sku
                else _(
                    "No Fortnox article has the name '%(product)s' (product '%(product)s'), so "
                    "the document was not created."
                )
            )
            raise RunFailure(
                message % {"sku": item.sku, "product": item.name},
                _(
                    "Create the article in Fortnox, correct the product in HubSpot, or change "
                    "the 'product not found' setting to use a default article or create "
                    "articles; then Replay."
                ),
            )
    return rows
