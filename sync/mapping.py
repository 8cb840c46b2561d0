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

from django.utils.translation import gettext as _

from sync.countries import country_code

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
# The HubSpot object each target reads its properties from.
TARGET_OBJECTS = {
    "company": "companies",
    "contact": "contacts",
    "document": "deals",
    "row": "line_items",
}
# Fortnox's customer VAT types (Customer.VATType's enum in fortnox-openapi.json).
VAT_TYPES = ("SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT")
# Fields that take one of Fortnox's codes rather than free text: which values they accept.
# CountryCode takes what sync/countries.py turns into an ISO code (a name or a code).
CODED_FIELDS = {
    ("customer", "CountryCode"): "country",
    ("customer", "VATType"): "vat_type",
    ("customer", "Currency"): "currency",
    ("document", "Language"): "language",
}
DOCUMENT_LANGUAGES = ("SV", "EN")  # Invoice.Language's enum in fortnox-openapi.json
# How long HubSpot's values of a type are as text (hubspot-api.md: dates as YYYY-MM-DD,
# datetimes as ISO 8601 with milliseconds, numbers as decimal text of up to ~20 characters).
TYPE_TEXT_LENGTH = {"date": 10, "datetime": 24, "number": 20}
# Fields Fortnox requires (Customer.Name minLength 1); a contact falls back to its name.
REQUIRED = {("company", "Name")}

# Characters Fortnox accepts besides letters (Unicode L*) and ASCII digits (formats page).
_ALLOWED_PUNCTUATION = set(" –:.`´’,;^¤#%§£$€¢¥©™°&/()=+-*_!?²³®½@\u00a0\n\r\\")
_ALLOWED_MARKS = {"\u0308", "\u030a"}  # combining diaeresis and ring (decomposed å, ä, ö)
# Harmless look-alikes we substitute rather than refuse: "O'Brien AB" must not fail a run.
_SUBSTITUTES = {"'": "’", "\t": " "}


def allowed_punctuation() -> str:
    """The characters besides letters and digits Fortnox accepts, as a page lists them."""
    visible = sorted(c for c in _ALLOWED_PUNCTUATION if c.strip() and c != "\u00a0")
    return " ".join(visible)


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
    bad = disallowed_characters(value)
    if bad:
        shown = " ".join(repr(char) for char in bad)
        message = (
            _(
                "contains characters Fortnox does not allow: %(characters)s (from HubSpot "
                "property '%(property)s')."
            )
            if source
            else _("contains characters Fortnox does not allow: %(characters)s.")
        )
        return FieldProblem(
            target,
            field,
            message % {"characters": shown, "property": source},
            _("Remove them in HubSpot, then Replay."),
        )
    limit = FIELD_MAX_LENGTH.get(TARGET_RULES.get(target, target), {}).get(field)
    if limit and len(value) > limit:
        message = (
            _(
                "is %(length)s characters long; Fortnox allows %(limit)s (from HubSpot "
                "property '%(property)s')."
            )
            if source
            else _("is %(length)s characters long; Fortnox allows %(limit)s.")
        )
        return FieldProblem(
            target,
            field,
            message % {"length": len(value), "limit": limit, "property": source},
            _("Shorten it to %(limit)s characters, then Replay.") % {"limit": limit},
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


def _code_problem(kind: str, value: str) -> bool:
    """True when `value` is not a code the field takes."""
    if kind == "country":
        return not country_code(value)
    if kind == "vat_type":
        return value.upper() not in VAT_TYPES
    if kind == "currency":
        return not (len(value) == 3 and value.isalpha())
    return value.upper() not in DOCUMENT_LANGUAGES


def property_problem(target: str, fortnox_field: str, prop: dict[str, Any]) -> str:
    """Why HubSpot property `prop` (name, label, type, options) cannot fill `fortnox_field`
    without breaking Fortnox's rules for it, or "" when it can. Text properties are accepted:
    their values are checked on every run (check_value) and the note names any bad one."""
    rules = TARGET_RULES[target]
    limit = FIELD_MAX_LENGTH[rules].get(fortnox_field)
    coded = CODED_FIELDS.get((rules, fortnox_field))
    kind, name = prop.get("type") or "string", prop["name"]
    if kind == "bool":
        return _(
            "'%(name)s' is a yes/no property: Fortnox would get the words true or false in "
            "%(field)s."
        ) % {"name": name, "field": fortnox_field}
    if kind == "enumeration":
        for option in prop.get("options") or []:
            value = str(option.get("value") or "")
            if coded and value and _code_problem(coded, value):
                return _(
                    "the option '%(value)s' of '%(name)s' is not a value Fortnox accepts in "
                    "%(field)s."
                ) % {"value": value, "name": name, "field": fortnox_field}
            if not coded and limit and len(value) > limit:
                return _(
                    "the option '%(value)s' of '%(name)s' is %(length)s characters long; "
                    "Fortnox allows %(limit)s in %(field)s."
                ) % {
                    "value": value,
                    "name": name,
                    "length": len(value),
                    "limit": limit,
                    "field": fortnox_field,
                }
            if disallowed_characters(value):
                return _(
                    "the option '%(value)s' of '%(name)s' has characters Fortnox does not allow."
                ) % {"value": value, "name": name}
        return ""
    if kind in TYPE_TEXT_LENGTH:
        if coded:
            return _("'%(name)s' is a %(type)s property; %(field)s takes a code.") % {
                "name": name,
                "type": kind,
                "field": fortnox_field,
            }
        if limit and TYPE_TEXT_LENGTH[kind] > limit:
            return _(
                "'%(name)s' is a %(type)s property, up to %(length)s characters as text; "
                "Fortnox allows %(limit)s in %(field)s."
            ) % {
                "name": name,
                "type": kind,
                "length": TYPE_TEXT_LENGTH[kind],
                "limit": limit,
                "field": fortnox_field,
            }
    return ""


def mapping_problems(
    custom: dict[str, dict[str, str]], properties: dict[str, dict[str, dict[str, Any]]]
) -> list[tuple[str, str, str]]:
    """(target, Fortnox field, why) for each mapping an admin asks for that the portal's real
    properties (`properties`: target -> property name -> property) cannot honour."""
    problems = []
    for target, fields in custom.items():
        for fortnox_field, hubspot_property in fields.items():
            if not hubspot_property:
                if (target, fortnox_field) in REQUIRED:
                    problems.append(
                        (
                            target,
                            fortnox_field,
                            _("Fortnox needs a customer name: map %(field)s to a property.")
                            % {"field": fortnox_field},
                        )
                    )
                continue
            prop = properties.get(target, {}).get(hubspot_property)
            if prop is None:
                problems.append(
                    (
                        target,
                        fortnox_field,
                        _("HubSpot has no %(object)s property '%(name)s'. Pick one from the list.")
                        % {"object": TARGET_OBJECTS[target], "name": hubspot_property},
                    )
                )
                continue
            why = property_problem(target, fortnox_field, prop)
            if why:
                problems.append((target, fortnox_field, why))
    return problems


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
