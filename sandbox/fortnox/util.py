"""Numbers the way Fortnox writes them."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any


def round2(value: float) -> float:
    """Half-up to 2 decimals, as the real service rounds prices and quantities (1.125 -> 1.13)."""
    try:
        return float(Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError, OverflowError):
        return float(value)


def round_half_up(value: float, digits: int = 0) -> float:
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP))


def num(value: Any) -> Any:
    """A JSON number as the real service prints it: 14 significant digits (the recorded
    QuantityInStock -99999999999999.9 came back as -100000000000000), ints without '.0'."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return 0
    out = float(f"{value:.14g}")
    if out == int(out) and abs(out) < 1e17:
        return int(out)
    return out


def num_str(value: Any) -> str:
    """Numbers the real service answers as strings ("DeliveredQuantity": "1.12")."""
    if value is None or value == "":
        return "0"
    try:
        return str(num(float(value)))
    except (TypeError, ValueError):
        return str(value)


def to_float(value: Any, default: float = 0.0) -> float:
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
