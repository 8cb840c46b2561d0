"""The Fortnox customer of a deal: stored mapping → organisation number (company) or e-mail
(contact) → create. The mapping is stored both ways: in our table and as the customer number
on the HubSpot record."""

from __future__ import annotations

import re
from dataclasses import dataclass

from integrations.fortnox.errors import FortnoxNotFound
from integrations.hubspot.crm import record_update
from sync.context import RunContext, RunFailure
from sync.mapping import check_value, normalise
from sync.models import CustomerMapping
from sync.reader import DealSnapshot

ORG_NUMBER = re.compile(r"^(\d{6})-?(\d{4})$")


@dataclass(frozen=True)
class ResolvedCustomer:
    """The Fortnox customer a document goes to, and what the document needs to know of it."""

    number: str
    # Fortnox's VATType of the customer: "SEVAT" (Sweden), "EUREVERSEDVAT" (EU, VAT number),
    # "EUVAT" (EU, none), "EXPORT" (outside the EU). Decides the rows' VAT (sync/document.py).
    vat_type: str = "SEVAT"
    country_code: str = ""  # ISO 3166-1 alpha-2; "" for Sweden or unknown
    # How it was found, for the note: "mapping", "customer_number", "organisation_number",
    # "vat_number", "name", "email" or "created".
    matched_by: str = ""


def organisation_number(raw: str) -> str:
    """Swedish organisation numbers as NNNNNN-NNNN, the canonical form (fortnox-api.md
    Addendum §8); a 12-digit form with century is shortened. '' if it is not one."""
    digits = re.sub(r"[\s-]", "", raw or "")
    if len(digits) == 12 and digits[:2] in ("16", "19", "20"):
        digits = digits[2:]
    match = ORG_NUMBER.match(digits)
    return f"{match.group(1)}-{match.group(2)}" if match else ""


def _customer_fields(ctx: RunContext, snapshot: DealSnapshot) -> dict[str, str]:
    record = snapshot.customer
    assert record is not None
    target = "company" if snapshot.customer_type == "companies" else "contact"
    fields: dict[str, str] = {}
    for fortnox_field, hubspot_property in ctx.mappings[target].items():
        value = normalise(str(record.properties.get(hubspot_property) or ""))
        if value:
            fields[fortnox_field] = value
    if target == "contact":
        name = " ".join(
            part
            for part in (record.properties.get("firstname"), record.properties.get("lastname"))
            if part
        ).strip()
        fields.setdefault("Name", normalise(name or record.properties.get("email") or ""))
        fields["Type"] = "PRIVATE"
    else:
        fields["Type"] = "COMPANY"
        if "OrganisationNumber" in fields:
            canonical = organisation_number(fields["OrganisationNumber"])
            if not canonical:
                raise RunFailure(
                    f"The organisation number '{fields['OrganisationNumber']}' of the company "
                    f"'{fields.get('Name', record.id)}' is not a Swedish organisation number.",
                    "Write it as NNNNNN-NNNN on the company in HubSpot (or clear it), then Replay.",
                )
            fields["OrganisationNumber"] = canonical
    if not fields.get("Name"):
        kind = "company" if target == "company" else "contact"
        raise RunFailure(
            f"The {kind} {record.id} on the deal has no name, and Fortnox needs a customer name.",
            f"Give the {kind} a name in HubSpot, then Replay.",
        )
    for fortnox_field, value in fields.items():
        problem = check_value(
            target, fortnox_field, value, source=ctx.mappings[target].get(fortnox_field, "")
        )
        if problem:
            raise RunFailure(f"The customer's {fortnox_field} {problem.message}", problem.fix)
    return fields


def fortnox_customer_resolve(ctx: RunContext, snapshot: DealSnapshot) -> ResolvedCustomer:
    if snapshot.customer is None:
        raise RunFailure(
            "The deal has no associated company or contact, so there is no "
            "customer for the document.",
            "Associate a company (or a contact) with the deal, then Replay.",
        )
    record, object_type = snapshot.customer, snapshot.customer_type
    mapping = CustomerMapping.objects.filter(
        installation=ctx.installation, hubspot_object_type=object_type, hubspot_object_id=record.id
    ).first()
    if mapping:
        return ResolvedCustomer(mapping.fortnox_customer_number, matched_by="mapping")
    number = (record.properties.get("fortnox_customer_number") or "").strip()
    matched_by = "customer_number"
    if number:
        try:  # written by us earlier (a mapping lost, or another install): check it still exists
            ctx.fortnox.customer_get(number)
        except FortnoxNotFound:
            number = ""
    fields = _customer_fields(ctx, snapshot)
    if not number:
        number, matched_by = _find_existing(ctx, object_type, fields)
        if number:
            ctx.info(f"Found Fortnox customer {number}.")
    if not number:
        number, matched_by = str(ctx.fortnox.customer_create(fields)["CustomerNumber"]), "created"
        ctx.info(f"Created Fortnox customer {number} ({fields['Name']}).")
    CustomerMapping.objects.update_or_create(
        installation=ctx.installation,
        hubspot_object_type=object_type,
        hubspot_object_id=record.id,
        defaults={"fortnox_customer_number": number},
    )
    if record.properties.get("fortnox_customer_number") != number:
        record_update(ctx.hubspot, object_type, record.id, {"fortnox_customer_number": number})
    return ResolvedCustomer(number, matched_by=matched_by)


def _find_existing(ctx: RunContext, object_type: str, fields: dict[str, str]) -> tuple[str, str]:
    """Search is a substring match (fortnox-api.md Addendum §3): compare exactly ourselves."""
    if object_type == "companies" and fields.get("OrganisationNumber"):
        wanted = re.sub(r"\D", "", fields["OrganisationNumber"])
        # Stored with or without the hyphen: search on the first six digits, which both
        # forms contain, and compare the digits.
        for customer in ctx.fortnox.customers_search(organisationnumber=wanted[:6]):
            if re.sub(r"\D", "", customer.get("OrganisationNumber") or "") == wanted:
                return str(customer["CustomerNumber"]), "organisation_number"
    if fields.get("Email"):
        wanted = fields["Email"].lower()
        for customer in ctx.fortnox.customers_search(email=fields["Email"]):
            if (customer.get("Email") or "").lower() == wanted:
                return str(customer["CustomerNumber"]), "email"
    return "", ""
