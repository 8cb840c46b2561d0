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
    quantity_field: str  # the row's quantity as the user reads it
    # Every quantity field a row is sent with, equal. An order row carries both: integrators
    # report that Fortnox prices order rows by DeliveredQuantity, which defaults to 0 (C# SDK
    # issue #92; issue 13 item 1), so an order created with OrderedQuantity alone totals 0.
    # The order is created with every row delivered; the reconciliation checks the read-back
    # totals whichever quantity Fortnox prices by.
    quantity_fields: tuple[str, ...]
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
        quantity_fields=("DeliveredQuantity",),
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
        quantity_fields=("OrderedQuantity", "DeliveredQuantity"),
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
