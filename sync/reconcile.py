"""After the create: does Fortnox's document equal the deal? (issue 13, the reconciliation)

Compares the document as Fortnox answered it (its own figures, never ours) with HubSpot's: the
row count, each row's net against the line item's `amount`, the document's net against the sum
of the line amounts, the currency, and each row's VAT against the rate the app decided. Net
amounts must match to the öre. Fortnox's öre rounding of the total (`RoundOff`) is expected and
shown, not a difference; a VAT 0 decided for reverse charge or export is an explained override.

The result is plain data (shown in the note): a list of differences, each {"what", "row",
"line", "deal", "fortnox", "kind"}: what "net" | "VAT" (of row `row`, the line item `line`) or
"Rows" | "Document net" | "Currency" (row None); kind "money" | "percent" | "text" | "count".
The run keeps them without the line's name (`differences_to_store`): a name is the deal's
content, which the privacy scrub removes from a run (sync/privacy.py).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from integrations.fortnox.documents import DocumentShape
from sync.document import TWO_PLACES, RowPlan


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        return None


def _row_net(document: dict[str, Any], row: dict[str, Any]) -> Decimal | None:
    """The row's net as Fortnox computed it: `TotalExcludingVAT` on invoices; an order row has
    only `Total`, gross when the document came back VAT-included."""
    if row.get("TotalExcludingVAT") not in (None, ""):
        return _amount(row["TotalExcludingVAT"])
    total = _amount(row.get("Total"))
    if total is None or not document.get("VATIncluded"):
        return total
    vat = Decimal(str(row.get("VAT") or 0))
    return (total * 100 / (100 + vat)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _difference(
    what: str, deal: Any, fortnox: Any, kind: str, row: int | None = None, line: str = ""
) -> dict[str, Any]:
    return {
        "what": what,
        "row": row,
        "line": line,
        "deal": str(deal),
        "fortnox": str(fortnox),
        "kind": kind,
    }


def differences_to_store(differences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in d.items() if k != "line"} for d in differences]


def document_reconcile(
    document: dict[str, Any], shape: DocumentShape, plan: list[RowPlan], currency: str
) -> list[dict[str, Any]]:
    """Every difference between Fortnox's `document` and the deal (its rows' `plan`)."""
    differences: list[dict[str, str]] = []
    rows = document.get(shape.rows_key) or []
    if len(rows) != len(plan):
        differences.append(_difference("Rows", len(plan), len(rows), "count"))
    for position, (row, expected) in enumerate(zip(rows, plan, strict=False), start=1):
        at = {"row": position, "line": expected.line}
        net = _row_net(document, row)
        if net != expected.net:
            differences.append(_difference("net", expected.net, net, "money", **at))
        if expected.vat is not None:
            vat = _amount(row.get("VAT"))
            if vat != expected.vat.quantize(TWO_PLACES):
                differences.append(
                    _difference("VAT", expected.vat, row.get("VAT"), "percent", **at)
                )
    expected_net = sum((p.net for p in plan), Decimal("0.00"))
    net = _amount(document.get("Net"))
    if net != expected_net:
        differences.append(_difference("Document net", expected_net, net, "money"))
    found_currency = str(document.get("Currency") or "").upper()
    if found_currency != currency.upper():
        differences.append(_difference("Currency", currency.upper(), found_currency, "text"))
    return differences


def vat_overrides(plan: list[RowPlan]) -> list[dict[str, str]]:
    """Rows whose VAT the app set to 0 against HubSpot's rate, with the reason (for the note)."""
    return [
        {
            "line": p.line,
            "hubspot_vat": "" if p.hubspot_vat is None else str(p.hubspot_vat),
            "reason": p.vat_override,
        }
        for p in plan
        if p.vat_override
    ]
