"""Build the Fortnox invoice or order for a deal: a pure function of what the run read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from integrations.fortnox.documents import DocumentShape, document_shape
from sync.articles import ResolvedRow
from sync.context import RunFailure
from sync.currency import DEFAULT_TIME_ZONE
from sync.customers import ResolvedCustomer
from sync.mapping import check_value, normalise
from sync.reader import DealSnapshot, to_decimal

SWEDISH_VAT_RATES = {Decimal("25"), Decimal("12"), Decimal("6"), Decimal("0")}
TWO_PLACES = Decimal("0.01")
DOCUMENT_LANGUAGES = ("SV", "EN")  # Fortnox's document Language enum (fortnox-openapi.json)


def external_reference(run_id: int) -> str:
    """Fixed width, so no run's reference is a substring of another's: Fortnox's search on
    ExternalInvoiceReference1 is a substring match (fortnox-api.md Addendum §3)."""
    return f"HubSpot-run-{run_id:010d}"


def _money(value: Decimal) -> float:
    return float(value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def _row(shape: DocumentShape, row: ResolvedRow, mappings: dict[str, str]) -> dict[str, Any]:
    item = row.line_item
    result: dict[str, Any] = {
        "ArticleNumber": row.article_number,
        shape.quantity_field: _money(item.quantity),
        "Price": _money(item.price),
    }
    for fortnox_field, hubspot_property in mappings.items():
        value = normalise(str(item.properties.get(hubspot_property) or ""))
        if value:
            result[fortnox_field] = value
    result.setdefault("Description", normalise(item.name))
    percent = to_decimal(item.properties.get("hs_discount_percentage"))
    amount = to_decimal(item.properties.get("discount"))
    if percent > 0:
        result["Discount"], result["DiscountType"] = _money(percent), "PERCENT"
    elif amount > 0:
        # HubSpot's `discount` is a per-unit amount; Fortnox's AMOUNT discount is per row.
        result["Discount"] = _money(amount * item.quantity)
        result["DiscountType"] = "AMOUNT"
    tax = item.properties.get("hs_tax_rate")
    if tax not in (None, ""):
        rate = to_decimal(tax)
        if rate not in SWEDISH_VAT_RATES:
            raise RunFailure(
                f"Line item '{item.name}' has a tax rate of {rate} %, which is not "
                "a Swedish VAT rate (25, 12, 6 or 0).",
                "Correct the line item's tax rate in HubSpot, then Replay.",
            )
        result["VAT"] = int(rate)
    for fortnox_field in ("Description", "Unit"):
        problem = check_value("row", fortnox_field, result.get(fortnox_field))
        if problem:
            raise RunFailure(
                f"Line item '{item.name}': {fortnox_field} {problem.message}", problem.fix
            )
    return result


def document_build(
    *,
    document_type: str,
    run_id: int,
    customer: ResolvedCustomer,
    snapshot: DealSnapshot,
    rows: list[ResolvedRow],
    mappings: dict[str, dict[str, str]],
    today: date,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> dict[str, Any]:
    deal = snapshot.deal
    shape = document_shape(document_type)
    document: dict[str, Any] = {
        "CustomerNumber": customer.number,
        "Currency": snapshot.currency,
        "ExternalInvoiceReference1": external_reference(run_id),
        "ExternalInvoiceReference2": f"HubSpot deal {deal.id}"[:80],
        shape.date_field: today.isoformat(),
    }
    # No CurrencyRate: Fortnox sets it (sync/currency.py).
    delivery = _portal_date(deal.properties.get("closedate"), time_zone)
    if delivery is not None:
        document["DeliveryDate"] = delivery.isoformat()
    if snapshot.customer_type == "contacts" and snapshot.customer is not None:
        name = " ".join(
            p
            for p in (
                snapshot.customer.properties.get("firstname"),
                snapshot.customer.properties.get("lastname"),
            )
            if p
        )
        if name:
            document["YourReference"] = normalise(name)[:50]
    for fortnox_field, hubspot_property in mappings["document"].items():
        value = normalise(str(deal.properties.get(hubspot_property) or ""))
        if not value:
            continue
        problem = check_value("document", fortnox_field, value, source=hubspot_property)
        if problem:
            raise RunFailure(f"The deal's {fortnox_field} {problem.message}", problem.fix)
        document[fortnox_field] = value
    if "Language" in document:
        document["Language"] = document["Language"].upper()
        if document["Language"] not in DOCUMENT_LANGUAGES:
            raise RunFailure(
                f"The deal's Language '{document['Language']}' is not one Fortnox prints "
                "documents in.",
                "Use SV or EN in the mapped HubSpot property (or remove the Language mapping), "
                "then Replay.",
            )
    elif customer.country_code not in ("", "SE"):
        document["Language"] = "EN"  # a customer outside Sweden reads English, unless mapped
    document[shape.rows_key] = [_row(shape, row, mappings["row"]) for row in rows]
    return document


def _portal_date(value: object, time_zone: str) -> date | None:
    """The calendar date of a HubSpot datetime in the portal's time zone: `closedate` is an
    instant (UTC), so 23:30 UTC is already the next day in Stockholm. HubSpot writes ISO 8601;
    a value set through the API may be milliseconds since the epoch, or a bare date."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        if text.isdigit():
            instant = datetime.fromtimestamp(int(text) / 1000, UTC)
        elif len(text) == 10:
            return date.fromisoformat(text)
        else:
            instant = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(time_zone)).date()


def document_total(rows: list[dict[str, Any]], quantity_field: str) -> Decimal:
    """Net total before VAT, as the rows will be priced (for the note; Fortnox's own figure,
    with VAT, is read back from the created document)."""
    total = Decimal("0")
    for row in rows:
        line = Decimal(str(row.get("Price", 0))) * Decimal(str(row.get(quantity_field, 0)))
        if row.get("DiscountType") == "PERCENT":
            line -= line * Decimal(str(row.get("Discount", 0))) / 100
        elif row.get("DiscountType") == "AMOUNT":
            line -= Decimal(str(row.get("Discount", 0)))
        total += line
    return total.quantize(TWO_PLACES)
