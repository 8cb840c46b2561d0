"""The app's own HubSpot properties, in a "Fortnox" group on deals, contacts and companies."""

from __future__ import annotations

from typing import Any

from hubspot.crm.properties import (
    BatchInputPropertyCreate,
    OptionInput,
    PropertyCreate,
    PropertyGroupCreate,
)

from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.errors import HubSpotError

GROUP_NAME = "fortnox"
GROUP_LABEL = "Fortnox"


def _text(name: str, label: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "string",
        "field_type": "text",
        "description": description,
    }


def _number(name: str, label: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "number",
        "field_type": "number",
        "description": description,
    }


def _datetime(name: str, label: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "datetime",
        "field_type": "date",
        "description": description,
    }


def _choice(name: str, label: str, description: str, options: list[tuple[str, str]]):
    return {
        "name": name,
        "label": label,
        "type": "enumeration",
        "field_type": "select",
        "description": description,
        "options": [
            OptionInput(label=text, value=value, display_order=index, hidden=False)
            for index, (value, text) in enumerate(options)
        ],
    }


_FINANCIALS = [
    _text(
        "fortnox_customer_number",
        "Fortnox customer number",
        "The Fortnox customer this record is synced to.",
    ),
    _number(
        "fortnox_total_invoiced",
        "Fortnox total invoiced",
        "Total of the customer's booked invoices in Fortnox.",
    ),
    _number(
        "fortnox_unpaid_balance",
        "Fortnox unpaid balance",
        "What the customer still owes on booked invoices.",
    ),
    _number(
        "fortnox_overdue_amount",
        "Fortnox overdue amount",
        "The part of the unpaid balance that is past its due date.",
    ),
    _datetime(
        "fortnox_financials_synced_at",
        "Fortnox figures synced at",
        "When the Fortnox figures were last fetched.",
    ),
]

APP_PROPERTIES: dict[str, list[dict[str, Any]]] = {
    "deals": [
        _choice(
            "fortnox_document_type",
            "Fortnox document type",
            "The kind of Fortnox document created from this deal.",
            [("invoice", "Invoice"), ("order", "Order")],
        ),
        _text(
            "fortnox_document_number",
            "Fortnox document number",
            "The number of the Fortnox invoice or order created from this deal.",
        ),
        _choice(
            "fortnox_status",
            "Fortnox sync status",
            "The outcome of the last run.",
            [("created", "Created"), ("failed", "Failed"), ("skipped", "Skipped")],
        ),
        _datetime("fortnox_last_run", "Fortnox last run", "When the app last ran for this deal."),
        # The payment status of the deal's document (sync/figures.py): refreshed nightly and by
        # the card's Perform Sync, so a workflow can act on "invoice paid". An order's are its
        # invoice's once one is made from it.
        _choice(
            "fortnox_document_status",
            "Fortnox document status",
            "The status of the deal's Fortnox document (an order: of its invoice once made).",
            [
                ("draft", "Draft"),
                ("booked", "Booked"),
                ("sent", "Sent"),
                ("unpaid", "Unpaid"),
                ("paid", "Paid"),
                ("overdue", "Overdue"),
                ("credited", "Credited"),
                ("cancelled", "Cancelled"),
            ],
        ),
        _number(
            "fortnox_document_balance",
            "Fortnox document balance",
            "What is left to pay on the deal's Fortnox document, in its currency.",
        ),
    ],
    "contacts": _FINANCIALS,
    "companies": [
        # Filled in by users; the app reads them (sync/mapping.py defaults).
        _text(
            "fortnox_organisation_number",
            "Organisation number (Fortnox)",
            "The company's Swedish organisation number, e.g. 556677-8899. The app finds the "
            "Fortnox customer by it, and creates the customer with it.",
        ),
        _text(
            "fortnox_vat_number",
            "VAT number (Fortnox)",
            "The company's VAT number, e.g. DE123456789, for a company outside Sweden: the app "
            "finds the Fortnox customer by it, and invoices an EU company that has one with "
            "reverse charge.",
        ),
        _text(
            "fortnox_invoice_email",
            "Invoice e-mail (Fortnox)",
            "Where Fortnox sends this customer's invoices, when it differs from the company's "
            "e-mail.",
        ),
        *_FINANCIALS,
    ],
}


def hubspot_properties_ensure(client: HubSpotClient) -> dict[str, int]:
    """Create the group and properties that are missing; existing ones are left as they are."""
    created: dict[str, int] = {}
    for object_type, definitions in APP_PROPERTIES.items():
        existing_groups = client.call(
            f"{object_type} property groups",
            f"GET /crm/v3/properties/{object_type}/groups",
            lambda c: c.crm.properties.groups_api.get_all,
            object_type,
        )
        if GROUP_NAME not in {group.name for group in existing_groups.results}:
            client.call(
                f"{object_type} property group",
                f"POST /crm/v3/properties/{object_type}/groups",
                lambda c: c.crm.properties.groups_api.create,
                object_type,
                PropertyGroupCreate(name=GROUP_NAME, label=GROUP_LABEL, display_order=-1),
            )
        existing = client.call(
            f"{object_type} properties",
            f"GET /crm/v3/properties/{object_type}",
            lambda c: c.crm.properties.core_api.get_all,
            object_type,
        )
        names = {prop.name for prop in existing.results}
        missing = [
            PropertyCreate(group_name=GROUP_NAME, **definition)
            for definition in definitions
            if definition["name"] not in names
        ]
        if missing:
            try:
                client.call(
                    f"{object_type} properties",
                    f"POST /crm/v3/properties/{object_type}/batch/create",
                    lambda c: c.crm.properties.batch_api.create,
                    object_type,
                    BatchInputPropertyCreate(inputs=missing),
                )
            except HubSpotError as exc:
                if exc.status != 409:  # created meanwhile by a concurrent install: fine
                    raise
        created[object_type] = len(missing)
    return created


def object_properties_list(client: HubSpotClient, object_type: str) -> list[dict[str, Any]]:
    """Every property of an object type, as the settings page offers them: name, label, type
    (string, number, date, datetime, bool, enumeration...), field type and the enumeration's
    options. Hidden properties are left out (HubSpot shows them to no user)."""
    response = client.call(
        f"{object_type} properties",
        f"GET /crm/v3/properties/{object_type}",
        lambda c: c.crm.properties.core_api.get_all,
        object_type,
    )
    return sorted(
        (
            {
                "name": prop.name,
                "label": prop.label or prop.name,
                "type": prop.type or "string",
                "field_type": prop.field_type or "",
                "options": [
                    {"value": option.value, "label": option.label}
                    for option in (prop.options or [])
                    if not option.hidden
                ],
            }
            for prop in response.results or []
            if not prop.hidden and not getattr(prop, "archived", False)
        ),
        key=lambda prop: prop["label"].casefold(),
    )
