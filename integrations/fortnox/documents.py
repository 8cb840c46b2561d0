"""The shapes of the Fortnox documents a deal can become, keyed by our kind names.

One table, so the resource path, JSON wrappers, row key, quantity and date fields of an invoice
or an order are written once (fortnox-api.md §4.3, §4.4).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentShape:
    kind: str  # ours: "invoice" | "order" (sync.models.RunKind)
    resource: str  # the path under /3/
    wrapper: str  # {"Invoice": {...}}
    list_wrapper: str  # {"Invoices": [...], "MetaInformation": {...}}
    rows_key: str
    # Orders keep today's OrderedQuantity; which quantity an order's rows should carry is for
    # a later change (the sandbox, like Fortnox, prices order rows by DeliveredQuantity).
    quantity_field: str
    date_field: str
    label: str  # in messages: "Adopted invoice 12"


DOCUMENT_SHAPES: dict[str, DocumentShape] = {
    "invoice": DocumentShape(
        kind="invoice",
        resource="invoices",
        wrapper="Invoice",
        list_wrapper="Invoices",
        rows_key="InvoiceRows",
        quantity_field="DeliveredQuantity",
        date_field="InvoiceDate",
        label="invoice",
    ),
    "order": DocumentShape(
        kind="order",
        resource="orders",
        wrapper="Order",
        list_wrapper="Orders",
        rows_key="OrderRows",
        quantity_field="OrderedQuantity",
        date_field="OrderDate",
        label="order",
    ),
}


def document_shape(kind: str) -> DocumentShape:
    try:
        return DOCUMENT_SHAPES[kind]
    except KeyError:
        raise ValueError(
            f"Unknown Fortnox document kind {kind!r}: use one of {', '.join(DOCUMENT_SHAPES)}."
        ) from None
