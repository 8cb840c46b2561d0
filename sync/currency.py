"""The currency of a document in a foreign currency."""

from __future__ import annotations

from decimal import Decimal

from integrations.fortnox.errors import FortnoxNotFound
from sync.context import RunContext, RunFailure

HOME_CURRENCY = "SEK"


def document_currency_rate(ctx: RunContext, currency: str) -> Decimal | None:
    """None for SEK; else the rate from Fortnox's currency register (a missing currency fails
    the run with the fix)."""
    if currency == HOME_CURRENCY:
        return None
    try:
        register = ctx.fortnox.currency_get(currency)
    except FortnoxNotFound:
        raise RunFailure(
            f"Fortnox does not know the deal's currency {currency}.",
            "Add the currency under Register > Currencies in Fortnox, then Replay.",
        ) from None
    rate = register.get("SellRate") or register.get("BuyRate")
    return Decimal(str(rate)) if rate else None
