"""The Fortnox customer of a deal, in the connected Fortnox company. The rules, in order:

1. our mapping for this record in this Fortnox company (mappings are per company, since a
   customer number means another customer, or none, in another company);
2. the customer number on the HubSpot record, if that customer exists in the connected company
   and, where both carry an organisation or VAT number, they agree (else the run fails naming
   both: never a silent duplicate);
3. a company: by Swedish organisation number, or, for a foreign company, by VAT number; then by
   exact name (case-insensitive), only when exactly one Fortnox COMPANY customer has it and
   carries no conflicting number ("matched by name" on the note), unless the portal switched
   this optional rule off (SyncSettings.match_by_name);
4. a contact: by e-mail, and only to a PRIVATE customer, unless the portal switched this
   optional rule off (SyncSettings.match_contact_by_email);
5. nothing found: create.

Never by invoice e-mail: companies share accounts-payable mailboxes. The mapping is stored both
ways (our table, and the customer number on the HubSpot record), with a fingerprint of the
customer fields last sent: when HubSpot's values change, the run updates the Fortnox customer
with the changed fields before the document, and otherwise costs no Fortnox call.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from integrations.deadline import time_ensure
from integrations.errors import IntegrationError
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.errors import FortnoxNotFound
from integrations.hubspot.crm import CrmRecord, record_update
from sync.context import RunContext, RunFailure
from sync.countries import SWEDEN, country_code, vat_type
from sync.fingerprints import field_hashes, fields_fingerprint, fingerprint_read
from sync.mapping import VAT_TYPES, check_value, normalise
from sync.models import CustomerMapping

ORG_NUMBER = re.compile(r"^(\d{6})-?(\d{4})$")
# How long a run waits for another run of the same record to finish resolving its customer
# (a few Fortnox calls) before it gives up this attempt and is retried.
RECORD_LOCK_WAIT_S = 60.0
RECORD_LOCK_POLL_S = 0.2
# Fortnox's customer list has no VAT number, Type or VAT search (fortnox-api.md §4.1: list
# items carry neither), so candidates found by name or e-mail are read one by one; past this
# many, the match is not attempted (a new customer is created rather than a guess made).
CANDIDATES_MAX = 10


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
    # The Fortnox fields this resolution updated (changed in HubSpot since the last sync).
    updated_fields: tuple[str, ...] = ()
    name: str = ""


def organisation_number(raw: str) -> str:
    """Swedish organisation numbers as NNNNNN-NNNN, the canonical form (fortnox-api.md
    Addendum §8); a 12-digit form with century is shortened. '' if it is not one."""
    digits = re.sub(r"[\s-]", "", raw or "")
    if len(digits) == 12 and digits[:2] in ("16", "19", "20"):
        digits = digits[2:]
    match = ORG_NUMBER.match(digits)
    return f"{match.group(1)}-{match.group(2)}" if match else ""


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _vat_key(value: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", (value or "").upper())


def _name_key(value: str) -> str:
    return " ".join(normalise(value or "").casefold().split())


def _the_record(kind: str) -> str:
    """The company or the contact, as named inside a sentence in the run's language."""
    return (
        pgettext("record", "the company")
        if kind == "company"
        else pgettext("record", "the contact")
    )


def customer_fields(ctx: RunContext, record: CrmRecord, object_type: str) -> dict[str, str]:
    """The Fortnox customer fields of a company or contact, by the portal's mappings, checked
    against Fortnox's rules: a RunFailure names the value and the fix."""
    target = "company" if object_type == "companies" else "contact"
    kind = "company" if target == "company" else "contact"
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
    if "CountryCode" in fields:
        code = country_code(fields["CountryCode"])
        if code is None:
            source = ctx.mappings[target]["CountryCode"]
            raise RunFailure(
                _(
                    "The country '%(country)s' of %(record)s '%(name)s' (HubSpot property "
                    "'%(property)s') is not a country the app knows."
                )
                % {
                    "country": fields["CountryCode"],
                    "record": _the_record(kind),
                    "name": fields.get("Name", record.id),
                    "property": source,
                },
                _(
                    "Write the country's English or Swedish name, or its two-letter ISO code "
                    "(e.g. DE), on the record in HubSpot, then Replay."
                ),
            )
        if code:
            fields["CountryCode"] = code
        else:
            fields.pop("CountryCode")
    foreign = fields.get("CountryCode", SWEDEN) != SWEDEN
    if target == "company" and "OrganisationNumber" in fields and not foreign:
        # Only a Swedish company's number is a Swedish organisation number; a foreign
        # company's registration number is sent as written (Fortnox's check is lax: §8).
        canonical = organisation_number(fields["OrganisationNumber"])
        if not canonical:
            raise RunFailure(
                _(
                    "The organisation number '%(number)s' of the company '%(name)s' is not a "
                    "Swedish organisation number."
                )
                % {"number": fields["OrganisationNumber"], "name": fields.get("Name", record.id)},
                _(
                    "Write it as NNNNNN-NNNN on the company in HubSpot (or clear it; for a "
                    "company outside Sweden, set its country), then Replay."
                ),
            )
        fields["OrganisationNumber"] = canonical
    if "VATNumber" in fields:
        fields["VATNumber"] = _vat_key(fields["VATNumber"])
    if "VATType" in fields:
        fields["VATType"] = fields["VATType"].upper()
        if fields["VATType"] not in VAT_TYPES:
            raise RunFailure(
                _("The VAT type '%(vat_type)s' of %(record)s '%(name)s' is not one of Fortnox's.")
                % {
                    "vat_type": fields["VATType"],
                    "record": _the_record(kind),
                    "name": fields.get("Name", record.id),
                },
                _(
                    "Use one of %(vat_types)s in HubSpot (or remove the VATType mapping so the "
                    "app derives it from the country), then Replay."
                )
                % {"vat_types": ", ".join(VAT_TYPES)},
            )
    else:
        fields["VATType"] = vat_type(fields.get("CountryCode", ""), fields.get("VATNumber", ""))
    if not fields.get("Name"):
        raise RunFailure(
            (
                _("The company %(id)s has no name, and Fortnox needs a customer name.")
                if kind == "company"
                else _("The contact %(id)s has no name, and Fortnox needs a customer name.")
            )
            % {"id": record.id},
            _("Give %(record)s a name in HubSpot, then Replay.") % {"record": _the_record(kind)},
        )
    for fortnox_field, value in fields.items():
        problem = check_value(
            target, fortnox_field, value, source=ctx.mappings[target].get(fortnox_field, "")
        )
        if problem:
            raise RunFailure(
                _("The customer's %(field)s %(problem)s")
                % {"field": fortnox_field, "problem": problem.message},
                problem.fix,
            )
    return fields


# Fields whose Fortnox value is derived from other values too (a country name → its code, the
# VAT type from the country): a reported value is not compared with the fingerprint, a sync
# reads and decides. An organisation or VAT number is compared as written: the same value is
# in step, one written otherwise starts a sync, which canonicalises it.
DERIVED_FIELDS = frozenset({"CountryCode", "VATType", "Type"})


def customer_value_in_step(
    mappings: dict[str, dict[str, str]],
    object_type: str,
    fingerprint: str,
    property_name: str,
    value: str,
) -> bool:
    """Whether a property value HubSpot reports is what the customer's fields were last synced
    with (the fingerprint), so a sync would send nothing: HubSpot also reports the values a
    record was created with, which would otherwise start a sync per property of every new
    customer. False whenever it cannot tell (an unmapped or derived field)."""
    target = "company" if object_type == "companies" else "contact"
    fields = [f for f, source in mappings.get(target, {}).items() if source == property_name]
    if not fields or DERIVED_FIELDS.intersection(fields):
        return False
    synced = fingerprint_read(fingerprint)
    now = field_hashes({field: normalise(value or "") for field in fields})
    return all(synced.get(field) == now[field] for field in fields)


def _changed_fields(fields: dict[str, str], fingerprint: str) -> dict[str, str]:
    """The fields whose values differ from the fingerprinted ones; a field no longer mapped
    or emptied in HubSpot is cleared in Fortnox ('')."""
    before = fingerprint_read(fingerprint)
    now = field_hashes(fields)
    changed = {name: fields[name] for name, digest in now.items() if before.get(name) != digest}
    for name in before:
        if name not in fields and name not in ("Type", "VATType", "CountryCode"):
            changed[name] = ""
    return changed


def _resolved(
    number: str, fields: dict[str, str], matched_by: str, updated: tuple[str, ...] = ()
) -> ResolvedCustomer:
    return ResolvedCustomer(
        number,
        vat_type=fields["VATType"],
        country_code=fields.get("CountryCode", ""),
        matched_by=matched_by,
        updated_fields=updated,
        name=fields.get("Name", ""),
    )


class CustomerBusy(IntegrationError):
    """Another run kept the record's customer locked too long: this attempt is retried."""

    service = "app"
    transient = True


def _lock_key(installation_id: int, object_type: str, object_id: str) -> int:
    digest = hashlib.blake2b(
        f"customer:{installation_id}:{object_type}:{object_id}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _record_locked(installation_id: int, object_type: str, object_id: str) -> Iterator[None]:
    """One customer resolution at a time per HubSpot record. Two runs of one new company (a
    deal closing while a bulk or workflow sync runs) would otherwise both find no customer and
    both create one; a Fortnox customer number, once used, stays reserved (code 2000637). A
    PostgreSQL session advisory lock, not a row lock: no transaction is held open over the
    Fortnox calls (their step rows must commit as they happen), and a dead worker's connection
    releases it. SQLite (the embedded default) runs one writer at a time anyway."""
    if connection.vendor != "postgresql":
        yield
        return
    key = _lock_key(installation_id, object_type, object_id)
    waited = 0.0
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if cursor.fetchone()[0]:
                break
        time_ensure("fortnox", RECORD_LOCK_POLL_S, waiting=True)
        if waited >= RECORD_LOCK_WAIT_S:
            raise CustomerBusy(
                _("Another run was creating or updating this customer in Fortnox."),
                fix=_("Nothing to do: the app tries again by itself."),
            )
        time.sleep(RECORD_LOCK_POLL_S)
        waited += RECORD_LOCK_POLL_S
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def fortnox_customer_resolve(
    ctx: RunContext, record: CrmRecord, object_type: str
) -> ResolvedCustomer:
    """The Fortnox customer of a company or contact (see `_resolve`), one run at a time per
    record."""
    with _record_locked(ctx.installation.pk, object_type, record.id):
        return _resolve(ctx, record, object_type)


def _resolve(ctx: RunContext, record: CrmRecord, object_type: str) -> ResolvedCustomer:
    """The Fortnox customer of a company or contact (`object_type` "companies" or "contacts"),
    by the rules above: found, updated with what changed, or created; the number is written
    back on the HubSpot record. The one customer service: deal runs and customer syncs alike.
    `record` must carry the mapped properties and fortnox_customer_number
    (sync.reader.CUSTOMER_PROPERTIES plus the mappings' sources)."""
    fields = customer_fields(ctx, record, object_type)
    fingerprint = fields_fingerprint(fields)
    mappings = CustomerMapping.objects.filter(
        installation=ctx.installation, hubspot_object_type=object_type, hubspot_object_id=record.id
    )
    mapping = mappings.filter(fortnox_database_number=ctx.fortnox_tenant).first()
    if mapping:
        number = mapping.fortnox_customer_number
        if mapping.fields_fingerprint == fingerprint:
            return _resolved(number, fields, "mapping")
        changed = _changed_fields(fields, mapping.fields_fingerprint)
        try:
            _customer_update(ctx, number, changed)
        except FortnoxNotFound:
            mapping.delete()  # deleted in Fortnox since: find or create it again below
        else:
            mapping.fields_fingerprint = fingerprint
            mapping.save(update_fields=["fields_fingerprint", "updated_at"])
            return _resolved(number, fields, "mapping", tuple(sorted(changed)))
    number, matched_by = _from_hubspot_number(ctx, record, object_type, fields, mappings)
    if not number:
        number, matched_by = fortnox_customer_find(
            ctx.fortnox,
            fields,
            match_by_name=ctx.settings.match_by_name,
            match_contact_by_email=ctx.settings.match_contact_by_email,
        )
        if number:
            ctx.info(_found_text(number, matched_by))
    if not number:
        number, matched_by = str(ctx.fortnox.customer_create(fields)["CustomerNumber"]), "created"
        ctx.info(
            _("Created Fortnox customer %(number)s (%(name)s).")
            % {"number": number, "name": fields["Name"]}
        )
    CustomerMapping.objects.update_or_create(
        installation=ctx.installation,
        fortnox_database_number=ctx.fortnox_tenant,
        hubspot_object_type=object_type,
        hubspot_object_id=record.id,
        defaults={"fortnox_customer_number": number, "fields_fingerprint": fingerprint},
    )
    if record.properties.get("fortnox_customer_number") != number:
        record_update(ctx.hubspot, object_type, record.id, {"fortnox_customer_number": number})
    return _resolved(number, fields, matched_by)


def _customer_update(ctx: RunContext, number: str, changed: dict[str, str]) -> None:
    if not changed:
        return
    ctx.fortnox.customer_update(number, changed)
    ctx.info(
        _("Updated Fortnox customer %(number)s: %(fields)s changed in HubSpot.")
        % {"number": number, "fields": ", ".join(sorted(changed))}
    )


def _found_text(number: str, matched_by: str) -> str:
    """The info line of a customer found in Fortnox, saying by what it was matched."""
    texts = {
        "name": _("Found Fortnox customer %(number)s, matched by name."),
        "organisation_number": _(
            "Found Fortnox customer %(number)s, matched by organisation number."
        ),
        "vat_number": _("Found Fortnox customer %(number)s, matched by vat number."),
        "email": _("Found Fortnox customer %(number)s, matched by email."),
    }
    if matched_by not in texts:
        return _("Found Fortnox customer %(number)s.") % {"number": number}
    return texts[matched_by] % {"number": number}


def _numbers_conflict(fields: dict[str, str], customer: dict[str, Any]) -> str:
    """What disagrees between our fields and a Fortnox customer's, '' if nothing: an
    organisation or VAT number that both carry and that differs."""
    ours, theirs = fields.get("OrganisationNumber", ""), customer.get("OrganisationNumber") or ""
    if ours and theirs:
        foreign = fields.get("CountryCode", SWEDEN) != SWEDEN
        same = _vat_key(ours) == _vat_key(theirs) if foreign else _digits(ours) == _digits(theirs)
        if not same:
            return _("organisation number %(fortnox)s (HubSpot: %(hubspot)s)") % {
                "fortnox": theirs,
                "hubspot": ours,
            }
    ours, theirs = fields.get("VATNumber", ""), customer.get("VATNumber") or ""
    if ours and theirs and _vat_key(ours) != _vat_key(theirs):
        return _("VAT number %(fortnox)s (HubSpot: %(hubspot)s)") % {
            "fortnox": theirs,
            "hubspot": ours,
        }
    return ""


def _from_hubspot_number(
    ctx: RunContext, record: CrmRecord, object_type: str, fields: dict[str, str], mappings
) -> tuple[str, str]:
    """The customer number on the HubSpot record, checked against the connected company."""
    number = str(record.properties.get("fortnox_customer_number") or "").strip()
    if not number:
        return "", ""
    if (
        mappings.filter(fortnox_customer_number=number)
        .exclude(fortnox_database_number=ctx.fortnox_tenant)
        .exists()
    ):
        # We wrote it for another Fortnox company (connected before): not this company's.
        return "", ""
    kind = "company" if object_type == "companies" else "contact"
    try:
        customer = ctx.fortnox.customer_get(number)
    except FortnoxNotFound:
        message = (
            _(
                "The company '%(name)s' carries Fortnox customer number %(number)s (property "
                "fortnox_customer_number), but the connected Fortnox company has no customer "
                "%(number)s."
            )
            if kind == "company"
            else _(
                "The contact '%(name)s' carries Fortnox customer number %(number)s (property "
                "fortnox_customer_number), but the connected Fortnox company has no customer "
                "%(number)s."
            )
        )
        raise RunFailure(
            message % {"name": fields["Name"], "number": number},
            _(
                "Correct the number on %(record)s in HubSpot, or clear it so that the app finds "
                "or creates the customer; then Replay."
            )
            % {"record": _the_record(kind)},
        ) from None
    conflict = _numbers_conflict(fields, customer)
    if conflict:
        message = (
            _(
                "The company '%(name)s' in HubSpot carries Fortnox customer number %(number)s, "
                "but Fortnox customer %(number)s '%(fortnox_name)s' has %(conflict)s: they look "
                "like two different customers."
            )
            if kind == "company"
            else _(
                "The contact '%(name)s' in HubSpot carries Fortnox customer number %(number)s, "
                "but Fortnox customer %(number)s '%(fortnox_name)s' has %(conflict)s: they look "
                "like two different customers."
            )
        )
        raise RunFailure(
            message
            % {
                "name": fields["Name"],
                "number": number,
                "fortnox_name": customer.get("Name") or "",
                "conflict": conflict,
            },
            _(
                "Correct the customer number or the organisation/VAT number on %(record)s in "
                "HubSpot (or on the customer in Fortnox), then Replay."
            )
            % {"record": _the_record(kind)},
        )
    return number, "customer_number"


def fortnox_customer_find(
    fortnox: FortnoxClient,
    fields: dict[str, str],
    *,
    match_by_name: bool,
    match_contact_by_email: bool = False,
) -> tuple[str, str]:
    """An existing Fortnox customer for these customer fields (as `customer_fields` makes
    them) by rules 3 and 4 above, and by what it was matched; ("", "") when none: create.
    The one matching of the money path: deal runs, customer syncs and the vendor's own period
    invoices (billing/vendor_invoices.py) alike. Search is a substring match (fortnox-api.md
    Addendum §3): compare exactly ourselves."""
    if fields.get("Type") == "PRIVATE":
        if not match_contact_by_email:
            return "", ""  # the optional rule is off: create
        return _by_email(fortnox, fields), "email"
    foreign = fields.get("CountryCode", SWEDEN) != SWEDEN
    if not foreign and fields.get("OrganisationNumber"):
        wanted = _digits(fields["OrganisationNumber"])
        # Stored with or without the hyphen: search on the first six digits, which both
        # forms contain, and compare the digits.
        for customer in fortnox.customers_search(organisationnumber=wanted[:6]):
            if _digits(customer.get("OrganisationNumber") or "") == wanted:
                return str(customer["CustomerNumber"]), "organisation_number"
    candidates = _by_name(fortnox, fields)
    if foreign and fields.get("VATNumber"):
        # No VAT number search in Fortnox's customer list (§4.1): the customers of the same
        # name are the candidates, compared on their full records.
        for customer in candidates:
            if _vat_key(customer.get("VATNumber") or "") == fields["VATNumber"]:
                return str(customer["CustomerNumber"]), "vat_number"
    if not match_by_name:
        return "", ""  # the optional rule is off: create
    companies = [
        c for c in candidates if c.get("Type") == "COMPANY" and not _numbers_conflict(fields, c)
    ]
    if len(companies) == 1 and len([c for c in candidates if c.get("Type") == "COMPANY"]) == 1:
        return str(companies[0]["CustomerNumber"]), "name"
    return "", ""


def _by_name(fortnox: FortnoxClient, fields: dict[str, str]) -> list[dict[str, Any]]:
    """Full records of the customers whose name is exactly ours (normalised, any case)."""
    wanted = _name_key(fields["Name"])
    found = [
        c
        for c in fortnox.customers_search(name=fields["Name"])
        if _name_key(c.get("Name") or "") == wanted
    ]
    if len(found) > CANDIDATES_MAX:
        return []
    return [fortnox.customer_get(str(c["CustomerNumber"])) for c in found]


def _by_email(fortnox: FortnoxClient, fields: dict[str, str]) -> str:
    email = fields.get("Email", "")
    if not email:
        return ""
    found = [
        c
        for c in fortnox.customers_search(email=email)
        if (c.get("Email") or "").casefold() == email.casefold()
    ]
    for customer in found[:CANDIDATES_MAX]:
        full = fortnox.customer_get(str(customer["CustomerNumber"]))
        if full.get("Type") == "PRIVATE":
            return str(full["CustomerNumber"])
    return ""
