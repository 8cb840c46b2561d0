"""Field mappings (HubSpot property → Fortnox field) and Fortnox's rules for the values.

Rules come from Fortnox's spec (fortnox-openapi.json: maxLength per field) and its formats page
(the allowed character set; anything else is refused with 2000359: fortnox-api.md §4.0). They
are checked when an admin saves a mapping and again on every value a run sends, so a bad value
fails the run with a note naming the field, instead of a half-understood Fortnox error.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

# Default mappings per target: Fortnox field -> HubSpot property.
DEFAULT_MAPPINGS: dict[str, dict[str, str]] = {
    "company": {
        "Name": "name",
        "OrganisationNumber": "fortnox_organisation_number",
        "Address1": "address",
        "Address2": "address2",
        "ZipCode": "zip",
        "City": "city",
        "Phone1": "phone",
        "WWW": "website",
        # Where Fortnox e-mails the invoices; `Email` is the customer's general address.
        "EmailInvoice": "fortnox_invoice_email",
        "VATNumber": "fortnox_vat_number",
        # A country name (English or Swedish) or ISO code; sent as ISO 3166-1 alpha-2.
        "CountryCode": "country",
    },
    "contact": {
        "Email": "email",
        "Phone1": "phone",
        "Address1": "address",
        "ZipCode": "zip",
        "City": "city",
        "CountryCode": "country",
    },
    # The description is internal (`Comments`); `Remarks` is printed on the customer's document.
    # `YourOrderNumber` is the buyer's purchase order number: no HubSpot default fills it.
    "document": {"Comments": "description"},
    "row": {"Description": "name"},
}
TARGETS = tuple(DEFAULT_MAPPINGS)

# Fortnox field -> max length (spec, or where noted a recorded/observed limit).
FIELD_MAX_LENGTH: dict[str, dict[str, int]] = {
    "customer": {
        "Name": 1024,
        "Address1": 1024,
        "Address2": 1024,
        "City": 1024,
        "ZipCode": 10,
        "Phone1": 1024,
        "Phone2": 1024,
        "Email": 1024,
        "EmailInvoice": 1024,
        "WWW": 128,
        "YourReference": 50,
        "OurReference": 50,
        "Comments": 1024,
        "OrganisationNumber": 30,
        "VATNumber": 30,
        "CountryCode": 2,
        "VATType": 13,
        "Currency": 3,
        "Fax": 1024,
        "InvoiceRemark": 1024,
    },
    "document": {
        "YourReference": 50,
        "OurReference": 50,
        "YourOrderNumber": 75,
        "Remarks": 1024,
        "Comments": 1024,
        "ExternalInvoiceReference2": 80,
        "DeliveryName": 1024,
        "DeliveryAddress1": 1024,
        "DeliveryAddress2": 1024,
        "DeliveryCity": 1024,
        "DeliveryZipCode": 1024,
        "Phone1": 1024,
        "Language": 2,
    },
    "row": {"Description": 255, "Unit": 10},  # 255 accepted: recordings row_description_limit
}
TARGET_RULES = {"company": "customer", "contact": "customer", "document": "document", "row": "row"}

# Characters Fortnox accepts besides letters (Unicode L*) and ASCII digits (formats page).
_ALLOWED_PUNCTUATION = set(" –:.`´’,;^¤#%§£$€¢¥©™°&/()=+-*_!?²³®½@\u00a0\n\r\\")
_ALLOWED_MARKS = {"\u0308", "\u030a"}  # combining diaeresis and ring (decomposed å, ä, ö)
# Harmless look-alikes we substitute rather than refuse: "O'Brien AB" must not fail a run.
_SUBSTITUTES = {"'": "’", "\t": " "}


def disallowed_characters(value: str) -> list[str]:
    bad = []
    for char in value:
        if char.isalpha() or "0" <= char <= "9" or char in _ALLOWED_PUNCTUATION:
            continue
        if char in _ALLOWED_MARKS or unicodedata.category(char).startswith("L"):
            continue
        if char not in bad:
            bad.append(char)
    return bad


def normalise(value: str) -> str:
    for plain, substitute in _SUBSTITUTES.items():
        value = value.replace(plain, substitute)
    return value.strip()


@dataclass(frozen=True)
class FieldProblem:
    target: str
    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} {self.fix}"


def check_value(target: str, field: str, value: Any, *, source: str = "") -> FieldProblem | None:
    """A value about to be sent to Fortnox: None when fine, else what is wrong and how to fix."""
    if value is None or not isinstance(value, str):
        return None
    where = f" (from HubSpot property '{source}')" if source else ""
    bad = disallowed_characters(value)
    if bad:
        shown = " ".join(repr(char) for char in bad)
        return FieldProblem(
            target,
            field,
            f"contains characters Fortnox does not allow: {shown}{where}.",
            "Remove them in HubSpot, then Replay.",
        )
    limit = FIELD_MAX_LENGTH.get(TARGET_RULES.get(target, target), {}).get(field)
    if limit and len(value) > limit:
        return FieldProblem(
            target,
            field,
            f"is {len(value)} characters long; Fortnox allows {limit}{where}.",
            f"Shorten it to {limit} characters, then Replay.",
        )
    return None


def mappings_for(custom: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]]:
    """The defaults with the portal's own mappings laid over them ("" removes a default)."""
    merged = {target: dict(fields) for target, fields in DEFAULT_MAPPINGS.items()}
    for target, fields in (custom or {}).items():
        for fortnox_field, hubspot_property in fields.items():
            if hubspot_property:
                merged.setdefault(target, {})[fortnox_field] = hubspot_property
            else:
                merged.get(target, {}).pop(fortnox_field, None)
    return merged


def validate_mappings(custom: Any) -> list[str]:
    """Problems with a mapping an admin wants to save, each naming the field and the fix."""
    if not isinstance(custom, dict):
        return ['Field mappings must be an object like {"company": {"Name": "name"}}.']
    problems = []
    for target, fields in custom.items():
        if target not in TARGETS:
            problems.append(
                f"'{target}' is not something the app maps; use one of {', '.join(TARGETS)}."
            )
            continue
        if not isinstance(fields, dict):
            problems.append(f"{target}: expected Fortnox field → HubSpot property pairs.")
            continue
        allowed = FIELD_MAX_LENGTH[TARGET_RULES[target]]
        for fortnox_field, hubspot_property in fields.items():
            if fortnox_field not in allowed:
                problems.append(
                    f"{target}: Fortnox has no field '{fortnox_field}' the app can "
                    f"fill; choose one of {', '.join(sorted(allowed))}."
                )
            elif not isinstance(hubspot_property, str) or (
                hubspot_property and not hubspot_property.replace("_", "").isalnum()
            ):
                problems.append(
                    f"{target}.{fortnox_field}: '{hubspot_property}' is not a "
                    "HubSpot property name (letters, digits and _ only)."
                )
    return problems
