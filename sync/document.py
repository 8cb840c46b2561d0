"""Build the Fortnox invoice or order for a deal: a pure function of what the run read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from integrations.fortnox.documents import DocumentShape, document_shape
from sync.articles import ResolvedRow
from sync.context import RunFailure
from sync.currency import DEFAULT_TIME_ZONE
from sync.customers import ResolvedCustomer
from sync.mapping import check_value, normalise
from sync.reader import DealSnapshot, LineItem

SWEDISH_VAT_RATES = {Decimal("25"), Decimal("12"), Decimal("6"), Decimal("0")}
TWO_PLACES = Decimal("0.01")
DOCUMENT_LANGUAGES = ("SV", "EN")  # Fortnox's document Language enum (fortnox-openapi.json)
# Fortnox keeps prices, quantities and discounts to 2 decimals (fortnox-api.md §4.3, the
# recorded rows): anything finer is rounded by Fortnox, so the builder never sends it.
FORTNOX_DECIMALS = TWO_PLACES
# Customers whose rows carry no Swedish VAT, whatever HubSpot's rate (issue 13 item 10): the
# app decides it (VAT 0 on every row) rather than trusting Fortnox's VATType handling.
ZERO_VAT_TYPES = {"EUREVERSEDVAT": "omvänd skattskyldighet", "EXPORT": "export"}
_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")
_PERIOD_WORDS = (("år", "år"), ("månad", "månader"), ("vecka", "veckor"), ("dag", "dagar"))


@dataclass
class RowPlan:
    """What a row must be, from HubSpot's figures: what the reconciliation checks Fortnox's
    row against, and what the note says about it."""

    line: str  # the line item's name, for messages
    net: Decimal  # HubSpot's line amount (`amount`), to the öre
    vat: Decimal | None  # the rate the app sends; None: the article's own (no rate in HubSpot)
    hubspot_vat: Decimal | None = None
    vat_override: str = ""  # "omvänd skattskyldighet" | "export": VAT 0 whatever HubSpot says
    form: str = "plain"  # plain | percent | net_price | service
    recurring: str = ""  # "12 månader"
    article_number: str = ""
    fields: dict[str, Any] = field(default_factory=dict)  # the row's price fields

    def as_data(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "net": str(self.net),
            "vat": None if self.vat is None else str(self.vat),
            "hubspot_vat": None if self.hubspot_vat is None else str(self.hubspot_vat),
            "vat_override": self.vat_override,
            "form": self.form,
            "recurring": self.recurring,
        }


def external_reference(run_id: int) -> str:
    """Fixed width, so no run's reference is a substring of another's: Fortnox's search on
    ExternalInvoiceReference1 is a substring match (fortnox-api.md Addendum §3)."""
    return f"HubSpot-run-{run_id:010d}"


def _number(value: Decimal) -> float | int:
    """A JSON number for an amount already checked to fit Fortnox's 2 decimals."""
    return int(value) if value == value.to_integral_value() else float(value)


def _fits(value: Decimal) -> bool:
    return value == value.quantize(FORTNOX_DECIMALS)


def _rounds_to(exact: Decimal, target: Decimal) -> bool:
    """True when `exact` becomes `target` however Fortnox rounds a tie (half up or half even):
    the row's total then does not hang on Fortnox's rounding rule, which no reference states."""
    return (
        exact.quantize(TWO_PLACES, rounding=ROUND_HALF_UP) == target
        and exact.quantize(TWO_PLACES, rounding=ROUND_HALF_EVEN) == target
    )


def _text(value: Decimal) -> str:
    """A figure in a row text: Swedish decimal comma, no trailing zeros beyond the öre."""
    text = f"{value.normalize():f}" if value != value.to_integral_value() else f"{int(value)}"
    return text.replace(".", ",")


def _decimal(item: LineItem, name: str) -> Decimal | None:
    """A numeric line item property; None when empty; RunFailure naming it when not a number."""
    raw = item.properties.get(name)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise RunFailure(
            _("Line item '%(line)s' has %(property)s '%(value)s', which is not a number.")
            % {"line": item.name, "property": name, "value": raw},
            _("Correct %(property)s on the line item in HubSpot, then Replay.")
            % {"property": name},
        )
    return value


def recurring_period_text(period: str) -> str:
    """HubSpot's `hs_recurring_billing_period` (ISO 8601, "P12M") in the row's words."""
    match = _PERIOD.match((period or "").strip().upper())
    if not match or not any(match.groups()):
        return ""
    parts = []
    for count, (one, many) in zip(match.groups(), _PERIOD_WORDS, strict=True):
        if count and int(count):
            parts.append(f"{int(count)} {one if int(count) == 1 else many}")
    return ", ".join(parts)


def _discounts(item: LineItem, quantity: Decimal, price: Decimal) -> tuple[Decimal, Decimal]:
    """(percent, per-unit amount), checked before Fortnox is called (issue 13 item 9)."""
    percent = _decimal(item, "hs_discount_percentage") or Decimal(0)
    unit = _decimal(item, "discount") or Decimal(0)
    if percent < 0 or percent > 100:
        raise RunFailure(
            _(
                "Line item '%(line)s' has a discount of %(percent)s %%, which is not between 0 "
                "and 100 %%."
            )
            % {"line": item.name, "percent": percent},
            _("Correct the line item's discount in HubSpot, then Replay."),
        )
    if unit < 0 or (not percent and unit * abs(quantity) > abs(price * quantity)):
        raise RunFailure(
            _(
                "Line item '%(line)s' has a discount of %(discount)s per unit, more than its "
                "unit price %(price)s (or below 0)."
            )
            % {"line": item.name, "discount": unit, "price": price},
            _("Correct the line item's discount in HubSpot, then Replay."),
        )
    return percent, (Decimal(0) if percent else unit)


def _price_fields(
    item: LineItem, quantity: Decimal, price: Decimal, target: Decimal
) -> tuple[str, dict[str, Any], str]:
    """The row's price fields so that Fortnox's row net equals HubSpot's line amount to the
    öre: (form, fields, text added to the description). Fortnox's AMOUNT discount is never
    used: whether it is per row or per unit is unconfirmed (fortnox-api.md third addendum §1)."""
    percent, unit = _discounts(item, quantity, price)
    if _fits(quantity) and _fits(price):
        if not percent and not unit and _rounds_to(quantity * price, target):
            return "plain", {"Price": _number(price)}, ""
        # A unit discount becomes a percent when that percent is exact in 2 decimals.
        as_percent = unit * 100 / price if unit and price else percent
        exact = quantity * price * (100 - as_percent) / 100
        exact_ok = exact == target or (not unit and _rounds_to(exact, target))
        if as_percent and _fits(as_percent) and exact_ok:
            fields = {"Price": _number(price), "Discount": _number(as_percent)}
            return "percent", {**fields, "DiscountType": "PERCENT"}, ""
    discount = f"rabatt {_text(percent)} %" if percent else f"rabatt {_text(unit)} per st"
    net_price = price * (100 - percent) / 100 - unit
    exact_net = _fits(quantity) and _fits(net_price) and _rounds_to(quantity * net_price, target)
    if (percent or unit) and exact_net:
        listed = f"listpris {_text(price)}, {discount}"
        return "net_price", {"Price": _number(net_price)}, listed
    text = f"{_text(quantity)} st à {_text(price)}"
    if percent or unit:
        text += f", {discount}"
    return "service", {"Price": _number(target)}, text


def row_plan(
    row: ResolvedRow, customer: ResolvedCustomer, tax_rates: dict[str, Decimal]
) -> RowPlan:
    """How one line item becomes a Fortnox row (pure: the tax groups' rates are read before)."""
    item = row.line_item
    quantity = _decimal(item, "quantity")
    quantity = Decimal(1) if quantity is None else quantity
    price = _decimal(item, "price") or Decimal(0)
    amount = _decimal(item, "amount")
    if amount is None:  # HubSpot always computes it; a row made by the app (default row) not
        percent, unit = _discounts(item, quantity, price)
        amount = quantity * price * (100 - percent) / 100 - unit * quantity
    target = amount.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    form, fields, text = _price_fields(item, quantity, price, target)
    fields = (
        {"quantity": Decimal(1), **fields}
        if form == "service"
        else {"quantity": quantity, **fields}
    )
    rate = _decimal(item, "hs_tax_rate")
    group = (item.properties.get("hs_tax_rate_group_id") or "").strip()
    if rate is None and group:
        rate = tax_rates.get(group)
    if rate is not None and rate not in SWEDISH_VAT_RATES:
        raise RunFailure(
            _(
                "Line item '%(line)s' has a tax rate of %(rate)s %%, which is not a Swedish VAT "
                "rate (25, 12, 6 or 0)."
            )
            % {"line": item.name, "rate": rate},
            _("Correct the line item's tax rate in HubSpot, then Replay."),
        )
    override = ZERO_VAT_TYPES.get(customer.vat_type, "")
    plan = RowPlan(
        line=item.name,
        net=target,
        vat=Decimal(0) if override else rate,
        hubspot_vat=rate,
        vat_override=override,
        form=form,
        recurring=recurring_period_text(item.properties.get("hs_recurring_billing_period") or ""),
        article_number=row.article_number,
        fields={**fields, "text": text},
    )
    return plan


def rows_plan(
    rows: list[ResolvedRow],
    customer: ResolvedCustomer,
    tax_rates: dict[str, Decimal] | None = None,
) -> list[RowPlan]:
    return [row_plan(row, customer, tax_rates or {}) for row in rows]


def _row(
    shape: DocumentShape, row: ResolvedRow, plan: RowPlan, mappings: dict[str, str]
) -> dict[str, Any]:
    item = row.line_item
    fields = dict(plan.fields)
    quantity, text = fields.pop("quantity"), fields.pop("text")
    result: dict[str, Any] = {"ArticleNumber": row.article_number}
    for quantity_field in shape.quantity_fields:
        result[quantity_field] = _number(quantity)
    result.update(fields)
    for fortnox_field, hubspot_property in mappings.items():
        value = normalise(str(item.properties.get(hubspot_property) or ""))
        if value:
            result[fortnox_field] = value
    result.setdefault("Description", normalise(item.name))
    extra = ", ".join(p for p in (plan.recurring, text) if p)
    if extra:
        result["Description"] = f"{result['Description']} ({extra})"
    if plan.vat is not None:
        result["VAT"] = int(plan.vat)
    for fortnox_field in ("Description", "Unit"):
        problem = check_value("row", fortnox_field, result.get(fortnox_field))
        if problem:
            raise RunFailure(
                _("Line item '%(line)s': %(field)s %(problem)s")
                % {"line": item.name, "field": fortnox_field, "problem": problem.message},
                problem.fix,
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
    plan: list[RowPlan] | None = None,
    language: str = "",
) -> dict[str, Any]:
    """The document to send. `language`: the portal's language of documents ("sv"|"en",
    SyncSettings.language), Fortnox's `Language` unless a mapping or a customer abroad decides
    it; "" leaves it to the customer card."""
    deal = snapshot.deal
    plan = rows_plan(rows, customer) if plan is None else plan
    shape = document_shape(document_type)
    document: dict[str, Any] = {
        "CustomerNumber": customer.number,
        "Currency": snapshot.currency,
        "ExternalInvoiceReference1": external_reference(run_id),
        "ExternalInvoiceReference2": f"HubSpot deal {deal.id}"[:80],
        shape.date_field: today.isoformat(),
        # HubSpot's prices are net. Without this Fortnox takes it from the customer card
        # (`ShowPriceVATIncluded`) and reads net prices as gross (issue 13 item 2).
        "VATIncluded": False,
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
            raise RunFailure(
                _("The deal's %(field)s %(problem)s")
                % {"field": fortnox_field, "problem": problem.message},
                problem.fix,
            )
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
    elif language.upper() in DOCUMENT_LANGUAGES:
        document["Language"] = language.upper()
    document[shape.rows_key] = [
        _row(shape, row, row_plan_, mappings["row"])
        for row, row_plan_ in zip(rows, plan, strict=True)
    ]
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
