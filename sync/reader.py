"""Read a deal and everything its document needs, in as few HubSpot calls as the API allows:
the deal with its associations (1), its line items (1 per 100), the products of the line items
that lack a name or SKU of their own (1 per 100; none when every line item carries both, as
HubSpot copies them from the product when the line item is made), and the company, else the
contact, that becomes the Fortnox customer (1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import (
    PRIMARY_DEAL_TO_COMPANY,
    CrmRecord,
    record_association_types,
    record_get,
    records_read,
)
from sync.context import RunFailure

DEAL_PROPERTIES = [
    "dealname",
    "amount",
    "deal_currency_code",
    "closedate",
    "description",
    "pipeline",
    "dealstage",
    "fortnox_document_number",
]
LINE_ITEM_PROPERTIES = [
    "name",
    "description",
    "quantity",
    "price",
    "hs_sku",
    "hs_product_id",
    "discount",
    "hs_discount_percentage",
    "hs_tax_rate",
    "hs_tax_rate_group_id",
    "hs_line_item_currency_code",
    # HubSpot's computed line amount after discount ("Net price"), what the row must equal.
    "amount",
    "hs_position_on_quote",
    "hs_recurring_billing_period",
    "createdate",
]
PRODUCT_PROPERTIES = ["name", "hs_sku", "price", "description"]
# What a run takes from a line item's product, when the line item lacks it (LineItem.name and
# LineItem.sku fall back to the product's): the rest of a row (price, quantity, discounts, the
# row mappings) is read from the line item alone.
PRODUCT_FALLBACK_PROPERTIES = ("name", "hs_sku")
CUSTOMER_PROPERTIES = {
    "companies": ["name", "fortnox_customer_number"],
    "contacts": ["firstname", "lastname", "email", "fortnox_customer_number"],
}


def to_decimal(value: object, default: str = "0") -> Decimal:
    try:
        return Decimal(str(value).strip()) if value not in (None, "") else Decimal(default)
    except InvalidOperation:
        return Decimal(default)


@dataclass
class LineItem:
    id: str
    properties: dict[str, str]
    product: CrmRecord | None

    @property
    def name(self) -> str:
        return (
            self.properties.get("name")
            or (self.product.properties.get("name") if self.product else "")
            or ""
        ).strip()

    @property
    def sku(self) -> str:
        sku = self.properties.get("hs_sku") or (
            self.product.properties.get("hs_sku") if self.product else ""
        )
        return (sku or "").strip()

    @property
    def quantity(self) -> Decimal:
        return to_decimal(self.properties.get("quantity"), "1")

    @property
    def price(self) -> Decimal:
        return to_decimal(self.properties.get("price"))


def line_order_key(item: LineItem) -> tuple:
    """`hs_position_on_quote` first (lines without one after those with one), then creation
    order: `createdate`, then the id (HubSpot's ids grow with creation)."""
    position = item.properties.get("hs_position_on_quote")
    try:
        placed = (0, Decimal(str(position))) if position not in (None, "") else (1, Decimal(0))
    except InvalidOperation:
        placed = (1, Decimal(0))
    item_id = int(item.id) if str(item.id).isdigit() else 0
    return (*placed, item.properties.get("createdate") or "", item_id)


@dataclass
class DealSnapshot:
    deal: CrmRecord
    line_items: list[LineItem] = field(default_factory=list)
    customer_type: str = ""  # "companies" | "contacts" | "" (none associated)
    customer: CrmRecord | None = None
    #: The portal's company currency (HubSpot's account details), for a deal without its own.
    portal_currency: str = ""

    @property
    def currency(self) -> str:
        """The deal's currency, else its line items', else the portal's company currency (a
        single-currency portal sets no deal_currency_code); "" when none is known."""
        code = self.deal.properties.get("deal_currency_code") or next(
            (
                li.properties.get("hs_line_item_currency_code")
                for li in self.line_items
                if li.properties.get("hs_line_item_currency_code")
            ),
            "",
        )
        return (code or self.portal_currency).upper()


def deal_snapshot_read(
    client: HubSpotClient,
    deal_id: str,
    *,
    document_properties: list[str],
    row_properties: list[str],
    customer_properties: dict[str, list[str]],
    portal_currency: str = "",
    prefer: str = "company",
) -> DealSnapshot:
    """`prefer`: "company" (the deal's company, its contact when it has none) or "contact"
    (the other way round): SyncSettings.customer_preference."""
    deal = record_get(
        client,
        "deals",
        deal_id,
        list(dict.fromkeys(DEAL_PROPERTIES + document_properties)),
        associations=["line_items", "companies", "contacts"],
    )
    snapshot = DealSnapshot(deal=deal, portal_currency=portal_currency)
    line_item_ids = deal.associations.get("line_items", [])
    if line_item_ids:
        items = records_read(
            client,
            "line_items",
            line_item_ids,
            list(dict.fromkeys(LINE_ITEM_PROPERTIES + row_properties)),
        )
        product_ids = [
            item.properties.get("hs_product_id")
            for item in items.values()
            if item.properties.get("hs_product_id") and product_needed(item.properties)
        ]
        products = (
            records_read(client, "products", product_ids, PRODUCT_PROPERTIES) if product_ids else {}
        )
        # HubSpot's own line order (the quote's), not the association order: the association
        # list follows when each line was linked, which a salesperson never sees.
        snapshot.line_items = sorted(
            (
                LineItem(
                    item_id,
                    items[item_id].properties,
                    products.get(items[item_id].properties.get("hs_product_id") or ""),
                )
                for item_id in line_item_ids
                if item_id in items
            ),
            key=line_order_key,
        )
    # The company is preferred unless the portal prefers the contact; the other is the
    # fallback (product.md §2).
    order = ("contacts", "companies") if prefer == "contact" else ("companies", "contacts")
    for object_type in order:
        # v3 lists a primary company twice, once per association type (deal_to_company and
        # deal_to_company_unlabeled: sandbox/hubspot/README.md).
        ids = list(dict.fromkeys(deal.associations.get(object_type, [])))
        if object_type == "companies" and len(ids) > 1:
            ids = [_primary_company(client, deal_id)]
        if ids:
            properties = list(
                dict.fromkeys(
                    CUSTOMER_PROPERTIES[object_type] + customer_properties.get(object_type, [])
                )
            )
            snapshot.customer_type = object_type
            snapshot.customer = record_get(client, object_type, ids[0], properties)
            break
    return snapshot


def product_needed(line_item_properties: dict[str, str]) -> bool:
    """Whether a line item's product must be read: the line item lacks a value the run takes
    from the product when missing (the same test as LineItem.name and LineItem.sku make)."""
    return any(not line_item_properties.get(name) for name in PRODUCT_FALLBACK_PROPERTIES)


def _primary_company(client: HubSpotClient, deal_id: str) -> str:
    """The deal's primary company, when several are associated. v3 names association types
    but not their ids, so ask v4, which gives each company's type ids (5 = primary,
    hubspot-api.md §6): one extra call, only for deals with more than one company."""
    companies = record_association_types(client, "deals", deal_id, "companies")
    primary = [cid for cid, types in companies.items() if PRIMARY_DEAL_TO_COMPANY in types]
    if len(primary) == 1:
        return primary[0]
    names = records_read(client, "companies", list(companies), ["name"])
    listed = ", ".join(
        f"{(names[cid].properties.get('name') if cid in names else '') or _('(no name)')} ({cid})"
        for cid in companies
    )
    raise RunFailure(
        _(
            "The deal has %(count)s companies and none of them is its primary company, so the "
            "app cannot tell which one to invoice: %(companies)s."
        )
        % {"count": len(companies), "companies": listed},
        _("Mark one of them as the primary company on the deal in HubSpot, then Replay."),
    )
