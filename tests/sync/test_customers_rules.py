"""The pure parts of customer resolution: countries, VAT types, the document's language."""

from __future__ import annotations

from datetime import date

import pytest

from integrations.hubspot.crm import CrmRecord
from sync.articles import ResolvedRow
from sync.context import RunFailure
from sync.countries import country_code, vat_type
from sync.customers import ResolvedCustomer
from sync.document import document_build
from sync.mapping import mappings_for
from sync.reader import DealSnapshot, LineItem


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Germany", "DE"),
        ("Tyskland", "DE"),
        ("de", "DE"),
        ("DEU", "DE"),
        ("Sverige", "SE"),
        ("  united   states ", "US"),
        ("UK", "GB"),
        ("Norge", "NO"),
        ("", ""),
        ("Atlantis", None),
    ],
)
def test_country_names_and_codes_become_iso_codes(written, code):
    assert country_code(written) == code


@pytest.mark.parametrize(
    ("country", "vat_number", "expected"),
    [
        ("SE", "SE556677889901", "SEVAT"),
        ("", "", "SEVAT"),
        ("DE", "DE123456789", "EUREVERSEDVAT"),
        ("DE", "", "EUVAT"),
        ("NO", "NO123456789", "EXPORT"),
        ("GB", "", "EXPORT"),
    ],
)
def test_vat_type_follows_country_and_vat_number(country, vat_number, expected):
    assert vat_type(country, vat_number) == expected


def _build(customer: ResolvedCustomer, deal_properties: dict, custom: dict | None = None):
    snapshot = DealSnapshot(
        CrmRecord("901", {"dealname": "D", **deal_properties}),
        [LineItem("1", {"name": "x", "quantity": "1", "price": "10"}, None)],
        "companies",
        CrmRecord("77", {"name": "Kund"}),
    )
    return document_build(
        document_type="invoice",
        run_id=1,
        customer=customer,
        snapshot=snapshot,
        rows=[ResolvedRow(snapshot.line_items[0], "1")],
        mappings=mappings_for(custom),
        today=date(2026, 11, 25),
    )


def test_a_customer_outside_sweden_gets_english_documents_unless_mapped():
    abroad = ResolvedCustomer("7", vat_type="EUREVERSEDVAT", country_code="DE")
    assert _build(abroad, {})["Language"] == "EN"
    assert "Language" not in _build(ResolvedCustomer("7", country_code="SE"), {})
    mapped = {"document": {"Language": "hs_language"}}
    assert _build(abroad, {"hs_language": "sv"}, mapped)["Language"] == "SV"
    with pytest.raises(RunFailure, match="Language 'FI'"):
        _build(abroad, {"hs_language": "fi"}, mapped)


def test_a_reported_value_is_in_step_only_when_the_last_sync_sent_exactly_it():
    from sync.customers import customer_value_in_step
    from sync.fingerprints import fields_fingerprint as _fingerprint

    mappings = mappings_for({})
    synced = _fingerprint(
        {"Name": "Kund AB", "City": "Umeå", "OrganisationNumber": "556677-8899", "Type": "COMPANY"}
    )

    def in_step(prop: str, value: str) -> bool:
        return customer_value_in_step(mappings, "companies", synced, prop, value)

    assert in_step("city", "Umeå") and in_step("city", " Umeå ")  # as a sync would send it
    assert not in_step("city", "Kiruna")
    assert not in_step("address", "Storgatan 1")  # not sent last time: a sync decides
    assert in_step("fortnox_organisation_number", "556677-8899")
    assert not in_step("fortnox_organisation_number", "5566778899")  # a sync canonicalises
    assert not in_step("country", "Sverige")  # derived: a sync decides
    assert not in_step("description", "anything")  # not mapped
