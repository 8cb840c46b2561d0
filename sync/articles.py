"""Fortnox articles for a deal's line items: by SKU (the article number) or by product name,
then the not-found policy (skip, default article, create).

Lookups cost as few calls as the data allows: the article register is listed a page (500) at a
time (FortnoxClient.articles_page), and once fewer SKUs remain than pages, the rest are fetched
one by one."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from integrations.fortnox.errors import FortnoxNotFound
from sync.context import RunContext, RunFailure
from sync.models import SyncSettings
from sync.reader import LineItem


@dataclass
class ResolvedRow:
    line_item: LineItem
    article_number: str
    created: bool = False
    placeholder: bool = False


def _key(item: LineItem, by_sku: bool) -> str:
    return item.sku if by_sku else item.name.lower()


def _lookup(ctx: RunContext, wanted: set[str], by_sku: bool) -> dict[str, str]:
    """Map each wanted SKU (or lower-cased name) to an article number, where one exists."""
    found: dict[str, str] = {}
    if not wanted:
        return found
    page, total_pages = 1, 1
    # Keep listing while the pages left cost no more calls than fetching what is left singly.
    while page <= total_pages and len(wanted - found.keys()) >= total_pages - page + 1:
        listed = ctx.fortnox.articles_page(page)
        total_pages = listed.total_pages
        for article in listed.articles:
            key = (
                str(article.get("ArticleNumber", ""))
                if by_sku
                else str(article.get("Description", "")).lower()
            )
            if key in wanted and key not in found:
                found[key] = str(article["ArticleNumber"])
        page += 1
    remaining = wanted - found.keys()
    if page <= total_pages and remaining:
        for key in sorted(remaining):
            if by_sku:
                with contextlib.suppress(FortnoxNotFound):
                    found[key] = str(ctx.fortnox.article_get(key)["ArticleNumber"])
            else:
                for article in ctx.fortnox.articles_search(description=key):
                    if str(article.get("Description", "")).lower() == key:
                        found[key] = str(article["ArticleNumber"])
                        break
    return found


def fortnox_articles_resolve(ctx: RunContext, items: list[LineItem]) -> list[ResolvedRow]:
    settings = ctx.settings
    by_sku = settings.article_search == SyncSettings.ArticleSearch.SKU
    if by_sku:
        missing = [item for item in items if not item.sku]
        if missing:
            names = ", ".join(f"'{item.name or item.id}'" for item in missing)
            raise RunFailure(
                f"SKU should not be empty: the product {names} on the deal has no SKU, and the "
                "app finds Fortnox articles by SKU.",
                "Set the SKU on the product in HubSpot (it must equal the Fortnox article "
                "number), or switch the article search method to product name in the app's "
                "settings; then Replay.",
            )
    else:
        unnamed = [item.id for item in items if not item.name]
        if unnamed:
            raise RunFailure(
                f"Line item {', '.join(unnamed)} has no name, and the app finds "
                "Fortnox articles by product name.",
                "Name the line item or product in HubSpot, then Replay.",
            )
    found = _lookup(ctx, {_key(item, by_sku) for item in items}, by_sku)
    rows: list[ResolvedRow] = []
    created: dict[str, str] = {}
    for item in items:
        key = _key(item, by_sku)
        if key in found:
            rows.append(ResolvedRow(item, found[key]))
        elif key in created:
            rows.append(ResolvedRow(item, created[key], created=True))
        elif settings.not_found_policy == SyncSettings.NotFoundPolicy.DEFAULT_ARTICLE:
            if not settings.default_article_number:
                raise RunFailure(
                    "No Fortnox article matches the product "
                    f"'{item.name}', and no default article is set.",
                    "Choose a default article in the app's settings, then Replay.",
                )
            rows.append(ResolvedRow(item, settings.default_article_number, placeholder=True))
        elif settings.not_found_policy == SyncSettings.NotFoundPolicy.CREATE_ARTICLE:
            # No SalesPrice: it is read-only on /3/articles (fortnox-api.md §4.2); the row
            # carries the deal's price.
            article = {"Description": item.name[:200]}
            if by_sku:
                article["ArticleNumber"] = item.sku
            number = str(ctx.fortnox.article_create(article)["ArticleNumber"])
            ctx.info(f"Created Fortnox article {number} ({item.name}).")
            created[key] = number
            rows.append(ResolvedRow(item, number, created=True))
        else:
            what = f"SKU '{item.sku}'" if by_sku else f"the name '{item.name}'"
            raise RunFailure(
                f"No Fortnox article has {what} (product '{item.name}'), so the document was "
                "not created.",
                "Create the article in Fortnox, correct the product in HubSpot, or change the "
                "'product not found' setting to use a default article or create articles; "
                "then Replay.",
            )
    return rows
