"""HubSpot products → Fortnox articles, one way (product.md §3, issue 15).

One run of kind product sync per trigger: a product created, changed, archived or restored in
HubSpot (a webhook, sync/webhooks.py), or the deal-based workflow action "Sync this deal's
products to Fortnox" (subject: the deal; every product of its line items). Per product:

- the article is found through our mapping (ArticleMapping, keyed by the HubSpot product id, per
  Fortnox company), else by the portal's article search: under SKU search the SKU is the article
  number (an existing article with it is adopted), under name search the one active article with
  the product's name (several: the run fails naming them; none: created with Fortnox's next
  number);
- description, unit, VAT, type and sales account are written on the article, and the price in
  the portal's Fortnox price list (SyncSettings.price_list, "A" by default) through /3/prices: an
  article's SalesPrice is read-only (fortnox-api.md §4.2, §5);
- only what changed since the last sync is sent (a short hash per field in
  ArticleMapping.fields_fingerprint); nothing changed costs no Fortnox call;
- a product archived in HubSpot (moved to the recycling bin: HubSpot sends `object.deletion`,
  and `object.restore` when it comes back; developers.hubspot.com/changelog/new-subscription-
  types-for-webhooks, "Restore: when an object is restored (opposite of delete)") makes its
  article inactive; restored, active again.

Prices are SEK only: Fortnox's price lists hold prices in the company's currency (SEK). The SEK
price is the product's `hs_price_sek` (HubSpot's price in an additional currency), else its
`price` when SEK is the portal's company currency. A product priced only in another currency is
synced without a price: the price list is left as it is and the outcome says why (never a
converted guess, which would be wrong the day after).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from integrations.fortnox.errors import FortnoxError, FortnoxNotFound
from integrations.hubspot.crm import CrmRecord, account_details_read, record_get, records_read
from integrations.hubspot.errors import HubSpotNotFound
from sync.articles import ARTICLE_NUMBER
from sync.context import RunContext, RunFailure
from sync.fingerprints import field_hashes, fields_fingerprint, fingerprint_of, fingerprint_read
from sync.finish import run_sync_succeed
from sync.models import ArticleMapping, SubjectType, SyncSettings

PRODUCT_SYNC_PROPERTIES = ["name", "hs_sku", "price", "hs_price_sek", "hs_product_type"]
DESCRIPTION_MAX = 200  # Article.Description, 1–200 characters (fortnox-api.md §4.2)
# HubSpot's own product type (hs_product_type) overrides the settings' article type: a service
# is a Fortnox SERVICE, an inventory item a STOCK article; non-inventory and none: the settings.
PRODUCT_TYPES = {"service": "SERVICE", "inventory": "STOCK"}
PRICE = "Price"  # the fingerprint's key for the price-list price (not an Article field)


@dataclass
class ArticleOutcome:
    number: str
    name: str
    action: str  # created | updated | unchanged | found | inactivated | skipped | failed
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "number": self.number,
            "name": self.name,
            "action": self.action,
            "reason": self.reason,
        }


class ProductFailure(Exception):
    """One product cannot be synced until someone changes something: its message and fix."""

    def __init__(self, message: str, fix: str, number: str = "") -> None:
        super().__init__(message)
        self.message, self.fix, self.number = message, fix, number


# -- fingerprints ---------------------------------------------------------------------------------
def _changed(fields: dict[str, object], fingerprint: str) -> dict[str, object]:
    """The fields whose values differ from those last sent. A field no longer set (a unit
    removed from the settings) is left as it is in Fortnox, not cleared."""
    before = fingerprint_read(fingerprint)
    return {
        name: fields[name]
        for name, digest in field_hashes(fields).items()
        if before.get(name) != digest
    }


# -- what HubSpot says ----------------------------------------------------------------------------
def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value).strip()) if value not in (None, "") else None
    except InvalidOperation:
        return None


class _Portal:
    """The portal's company currency, read once per run and only when a price needs it."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._currency: str | None = None

    @property
    def currency(self) -> str:
        if self._currency is None:
            self._currency = account_details_read(self.ctx.hubspot).company_currency
        return self._currency


def _sek_price(product: CrmRecord, portal: _Portal) -> tuple[Decimal | None, str]:
    """(the SEK price, why there is none): `hs_price_sek`, else `price` in a SEK portal."""
    props = product.properties
    sek = _decimal(props.get("hs_price_sek"))
    if sek is not None:
        return sek, ""
    price = _decimal(props.get("price"))
    if price is None:
        return None, ""
    currency = portal.currency or "SEK"
    if currency == "SEK":
        return price, ""
    return None, _(
        "The product's price is in %(currency)s (the portal's company currency) and it has no "
        "SEK price, so the Fortnox price list was left as it is: Fortnox's price lists are in "
        "SEK. Add a SEK price on the product in HubSpot."
    ) % {"currency": currency}


def article_fields(settings: SyncSettings, product: CrmRecord) -> dict[str, object]:
    """The article's fields from the product and the settings (Fortnox's Article names)."""
    props = product.properties
    kind = PRODUCT_TYPES.get((props.get("hs_product_type") or "").strip().lower())
    fields: dict[str, object] = {
        "Description": (props.get("name") or "").strip()[:DESCRIPTION_MAX],
        "Type": kind or settings.new_article_type,
        "Active": True,
    }
    if settings.new_article_unit:
        fields["Unit"] = settings.new_article_unit
    if settings.new_article_vat is not None:
        fields["VAT"] = settings.new_article_vat
    if settings.new_article_sales_account:
        fields["SalesAccount"] = int(settings.new_article_sales_account)
    return fields


# -- one product ------------------------------------------------------------------------------
def _mapping(ctx: RunContext, product_id: str) -> ArticleMapping | None:
    return ArticleMapping.objects.filter(
        installation=ctx.installation,
        fortnox_database_number=ctx.fortnox_tenant,
        hubspot_product_id=product_id,
    ).first()


def _mapping_store(
    ctx: RunContext, product_id: str, number: str, fingerprint: str, *, active: bool = True
) -> None:
    ArticleMapping.objects.update_or_create(
        installation=ctx.installation,
        fortnox_database_number=ctx.fortnox_tenant,
        hubspot_product_id=product_id,
        defaults={
            "fortnox_article_number": number,
            "fields_fingerprint": fingerprint,
            "active": active,
        },
    )


def _price_write(ctx: RunContext, price_list: str, number: str, price: object) -> None:
    """The price in the price list; a refusal (e.g. a price list the company does not have)
    fails this product with Fortnox's reason and the fix, and the next sync sends it again."""
    try:
        ctx.fortnox.price_set(price_list, number, float(str(price)))
    except FortnoxError as exc:
        if exc.transient:
            raise  # the run is tried again
        raise ProductFailure(
            _("Fortnox refused the price of article %(number)s in price list %(list)s: %(reason)s")
            % {"number": number, "list": price_list, "reason": str(exc)},
            _(
                "Choose one of the company's price lists on the app's Products tab (or create "
                "price list %(list)s in Fortnox), then Replay."
            )
            % {"list": price_list},
            number=number,
        ) from exc


def _send(ctx: RunContext, number: str, changed: dict[str, object], price_list: str) -> None:
    """Write what changed: the article's fields, then its price in the price list."""
    article = {name: value for name, value in changed.items() if name != PRICE}
    if article:
        ctx.fortnox.article_update(number, article)
    if changed.get(PRICE) not in (None, ""):
        _price_write(ctx, price_list, number, changed[PRICE])


def _find_by_name(ctx: RunContext, name: str) -> str:
    """The one active article whose description is the product's name (any case), "" for none;
    several fail naming them (search is a substring match: compare exactly ourselves)."""
    wanted = name.casefold()
    numbers = [
        str(article["ArticleNumber"])
        for article in ctx.fortnox.articles_search(filter="active", description=name)
        if str(article.get("Description") or "").casefold() == wanted
    ]
    if len(numbers) > 1:
        raise ProductFailure(
            _(
                "Several active Fortnox articles are named '%(name)s' (%(numbers)s), and this "
                "portal syncs products to articles by name, so the app cannot tell which one is "
                "the product's."
            )
            % {"name": name, "numbers": ", ".join(sorted(numbers))},
            _(
                "Give the articles distinct names in Fortnox (or make the unused ones inactive), "
                "or set SKUs on the products and search articles by SKU in the app's settings; "
                "then Replay."
            ),
        )
    return numbers[0] if numbers else ""


def _locate(ctx: RunContext, product: CrmRecord, mapping: ArticleMapping | None) -> tuple[str, str]:
    """(article number, how: "mapping" | "found" | "new"); "new" with the number to create
    ("" for Fortnox's next number). Raises ProductFailure, or returns ("", "skip:<reason>")."""
    by_sku = ctx.settings.article_search == SyncSettings.ArticleSearch.SKU
    name = (product.properties.get("name") or "").strip()
    if by_sku:
        sku = (product.properties.get("hs_sku") or "").strip()
        if not sku:
            return "", "skip:" + _(
                "The product has no SKU, and this portal's articles are found by SKU (the SKU "
                "is the article number): set a SKU on the product in HubSpot to sync it."
            )
        if mapping is not None and mapping.fortnox_article_number != sku:
            raise ProductFailure(
                _(
                    "The product's SKU changed from '%(old)s' to '%(new)s', but it is already "
                    "synced to Fortnox article %(old)s, and an article number cannot change in "
                    "Fortnox."
                )
                % {"old": mapping.fortnox_article_number, "new": sku},
                _(
                    "Set the SKU back to '%(old)s' in HubSpot; or, to sell it under the new "
                    "number, create a new product with SKU '%(new)s' in HubSpot (and make "
                    "article %(old)s inactive in Fortnox if it is no longer sold)."
                )
                % {"old": mapping.fortnox_article_number, "new": sku},
                number=mapping.fortnox_article_number,
            )
        if not ARTICLE_NUMBER.match(sku):
            raise ProductFailure(
                _(
                    "The product's SKU '%(sku)s' cannot be a Fortnox article number: it must be "
                    "1 to 50 characters, only letters, digits and - + / . _ (no spaces)."
                )
                % {"sku": sku},
                _("Change the SKU on the product '%(name)s' in HubSpot, then Replay.")
                % {"name": name},
            )
        if "/" in sku:
            # Fortnox allows "/" in an article number, but the article's update and its price
            # are addressed by the number in the URL path, and whether Fortnox routes an
            # encoded "/" there is unconfirmed (integrations/fortnox/client.py _path_safe).
            raise ProductFailure(
                _(
                    "The product's SKU '%(sku)s' contains '/', and the app cannot keep an "
                    "article with '/' in its number in step: Fortnox addresses its updates and "
                    "prices by the number in the web address."
                )
                % {"sku": sku},
                _(
                    "Use a SKU without '/' on the product '%(name)s' in HubSpot (e.g. '-' "
                    "instead), then Replay."
                )
                % {"name": name},
            )
        if mapping is not None:
            return sku, "mapping"
        if ctx.fortnox.article_find(sku) is not None:
            return sku, "found"
        return sku, "new"
    if mapping is not None:
        return mapping.fortnox_article_number, "mapping"
    number = _find_by_name(ctx, name)
    return (number, "found") if number else ("", "new")


def product_article_sync(ctx: RunContext, product: CrmRecord, portal: _Portal) -> ArticleOutcome:
    """Create, adopt or update the product's article and its price; only changes are sent."""
    name = (product.properties.get("name") or "").strip()
    if not name:
        raise ProductFailure(
            _("The product %(id)s has no name, and a Fortnox article needs a description.")
            % {"id": product.id},
            _("Name the product in HubSpot, then Replay."),
        )
    mapping = _mapping(ctx, product.id)
    number, how = _locate(ctx, product, mapping)
    if how.startswith("skip:"):
        ctx.info(how[5:])
        return ArticleOutcome("", name, "skipped", how[5:])
    fields = article_fields(ctx.settings, product)
    price, price_reason = _sek_price(product, portal)
    if price is not None:
        fields[PRICE] = str(price)
    price_list = ctx.settings.price_list or "A"
    fingerprint = fields_fingerprint({**fields, "PriceList": price_list})
    if how == "mapping":
        changed = _changed({**fields, "PriceList": price_list}, mapping.fields_fingerprint)
        if "PriceList" in changed and PRICE in fields:
            changed[PRICE] = fields[PRICE]  # a new price list gets the price
        changed.pop("PriceList", None)
        if not changed:
            return ArticleOutcome(number, name, "unchanged", price_reason)
        try:
            _send(ctx, number, changed, price_list)
        except FortnoxNotFound:
            # Deleted in Fortnox since: found or made again below, as if never synced.
            mapping.delete()
            number, how = _locate(ctx, product, None)
        else:
            _mapping_store(ctx, product.id, number, fingerprint)
            ctx.info(
                _("Updated Fortnox article %(number)s: %(fields)s changed in HubSpot.")
                % {"number": number, "fields": ", ".join(sorted(changed))}
            )
            return ArticleOutcome(number, name, "updated", price_reason)
    article = {k: v for k, v in fields.items() if k != PRICE}
    if how == "found":
        ctx.fortnox.article_update(number, article)
        ctx.info(_("Found Fortnox article %(number)s and updated it.") % {"number": number})
        action = "found"
    else:
        if number:
            article["ArticleNumber"] = number
        number = str(ctx.fortnox.article_create(article)["ArticleNumber"])
        ctx.info(
            _("Created Fortnox article %(number)s (%(name)s).") % {"number": number, "name": name}
        )
        action = "created"
    # Stored before the price: a failed price write leaves the article mapped, and the next
    # sync sends the price again (it is not in the stored fingerprint yet).
    _mapping_store(
        ctx, product.id, number, fields_fingerprint({**article, "PriceList": price_list})
    )
    if price is not None:
        _price_write(ctx, price_list, number, price)
        _mapping_store(ctx, product.id, number, fingerprint)
    return ArticleOutcome(number, name, action, price_reason)


def product_article_deactivate(ctx: RunContext, product_id: str) -> ArticleOutcome:
    """The product is archived in HubSpot: its article becomes inactive (never deleted, since
    documents may use it)."""
    mapping = _mapping(ctx, product_id)
    if mapping is None:
        reason = _(
            "The product %(id)s was deleted in HubSpot, and no Fortnox article was synced for it: "
            "nothing to make inactive."
        ) % {"id": product_id}
        ctx.info(reason)
        return ArticleOutcome("", "", "skipped", reason)
    number = mapping.fortnox_article_number
    if not mapping.active:
        return ArticleOutcome(number, "", "unchanged")
    try:
        article = ctx.fortnox.article_update(number, {"Active": False})
    except FortnoxNotFound:
        mapping.delete()
        reason = _("Fortnox article %(number)s no longer exists: nothing to make inactive.") % {
            "number": number
        }
        ctx.info(reason)
        return ArticleOutcome(number, "", "skipped", reason)
    # Active false in the fingerprint: a restore sends Active true again.
    before = fingerprint_read(mapping.fields_fingerprint)
    before.update(field_hashes({"Active": False}))
    mapping.fields_fingerprint = fingerprint_of(before)
    mapping.active = False
    mapping.save(update_fields=["fields_fingerprint", "active", "updated_at"])
    ctx.info(
        _("Made Fortnox article %(number)s inactive: the product was deleted in HubSpot.")
        % {"number": number}
    )
    return ArticleOutcome(number, str(article.get("Description") or ""), "inactivated")


# -- the run ------------------------------------------------------------------------------------
def _deal_products(ctx: RunContext, deal_id: str) -> list[CrmRecord]:
    try:
        deal = record_get(ctx.hubspot, "deals", deal_id, ["dealname"], associations=["line_items"])
    except HubSpotNotFound:
        raise RunFailure(
            _("The deal %(id)s no longer exists in HubSpot.") % {"id": deal_id},
            _("Nothing to sync: restore the deal in HubSpot if it was deleted by mistake."),
        ) from None
    item_ids = deal.associations.get("line_items", [])
    items = records_read(ctx.hubspot, "line_items", item_ids, ["hs_product_id"]) if item_ids else {}
    product_ids = list(
        dict.fromkeys(
            items[i].properties["hs_product_id"]
            for i in item_ids
            if i in items and items[i].properties.get("hs_product_id")
        )
    )
    if not product_ids:
        raise RunFailure(
            _(
                "The deal has no line items from the product library, so there is no product to "
                "sync."
            ),
            _("Add products to the deal in HubSpot, then run the action again."),
        )
    products = records_read(ctx.hubspot, "products", product_ids, PRODUCT_SYNC_PROPERTIES)
    return [products[pid] for pid in product_ids if pid in products]


def product_sync_run(ctx: RunContext) -> None:
    run = ctx.run
    portal = _Portal(ctx)
    outcomes: list[ArticleOutcome] = []
    failures: list[ProductFailure] = []
    if run.subject_type == SubjectType.PRODUCT:
        try:
            products = [
                record_get(ctx.hubspot, "products", run.subject_id, PRODUCT_SYNC_PROPERTIES)
            ]
        except HubSpotNotFound:
            products = []  # archived (in the recycling bin) or gone: the article goes inactive
            outcomes.append(product_article_deactivate(ctx, run.subject_id))
    elif run.subject_type == SubjectType.DEAL:
        products = _deal_products(ctx, run.subject_id)
    else:
        raise RunFailure(
            _("A product sync works on a product or a deal, not on a %(object)s.")
            % {"object": run.get_subject_type_display().lower()},
            _("Start the sync from a deal."),
        )
    run.data_read = {"products": {p.id: p.properties for p in products}}
    run.save(update_fields=["data_read"])
    for product in products:
        try:
            outcomes.append(product_article_sync(ctx, product, portal))
        except ProductFailure as failure:
            failures.append(failure)
            outcomes.append(
                ArticleOutcome(
                    failure.number,
                    (product.properties.get("name") or "").strip(),
                    "failed",
                    f"{failure.message} {failure.fix}",
                )
            )
    run.data_read = {**run.data_read, "outcome": {"articles": [o.as_dict() for o in outcomes]}}
    run.save(update_fields=["data_read"])
    if failures:
        if len(failures) == 1:
            raise RunFailure(failures[0].message, failures[0].fix)
        raise RunFailure(
            " ".join(f.message for f in failures),
            _("Correct the products in HubSpot as each message says, then Replay."),
        )
    run_sync_succeed(run)
