"""Field mappings are checked against Fortnox's rules with messages naming field and fix."""

from __future__ import annotations

from sync.mapping import (
    check_value,
    disallowed_characters,
    mappings_for,
    normalise,
    property_problem,
    validate_mappings,
)


def test_swedish_letters_and_common_punctuation_are_allowed():
    assert disallowed_characters("Åsa Öberg & Söner AB, Götgatan 12 (3 tr) – 50% @ 25°") == []


def test_characters_fortnox_refuses_are_named():
    assert disallowed_characters('Acme <b>"Best"</b> {x} | ~') == [
        "<",
        ">",
        '"',
        "{",
        "}",
        "|",
        "~",
    ]


def test_plain_apostrophes_become_typographic_ones_fortnox_accepts():
    assert normalise("  O'Brien AB ") == "O’Brien AB"
    assert disallowed_characters(normalise("O'Brien AB")) == []


def test_value_problems_name_the_field_the_property_and_the_fix():
    problem = check_value("company", "ZipCode", "123 456 789 0", source="zip")
    assert problem is not None
    assert "Fortnox allows 10" in problem.message
    assert "'zip'" in problem.message
    assert "Shorten it to 10 characters" in problem.fix
    problem = check_value("document", "YourOrderNumber", "PO <42>", source="dealname")
    assert "'<' '>'" in problem.message


def test_custom_mappings_override_and_remove_defaults():
    merged = mappings_for(
        {"company": {"Name": "legal_name", "WWW": ""}, "document": {"YourReference": "buyer"}}
    )
    assert merged["company"]["Name"] == "legal_name"
    assert "WWW" not in merged["company"]
    assert merged["document"]["YourReference"] == "buyer"
    assert merged["row"]["Description"] == "name"


def test_saving_a_bad_mapping_explains_each_problem():
    problems = validate_mappings({"company": {"Nmae": "name", "City": "city name"}, "invoice": {}})
    assert any("Fortnox has no field 'Nmae'" in p for p in problems)
    assert any("'city name' is not a HubSpot property name" in p for p in problems)
    assert any("'invoice' is not something the app maps" in p for p in problems)
    assert validate_mappings({"row": {"Description": "hs_sku"}}) == []


def _prop(name: str, kind: str, options: tuple[str, ...] = ()) -> dict:
    return {"name": name, "label": name, "type": kind, "options": [{"value": v} for v in options]}


def test_a_country_choice_of_names_fits_the_country_code():
    # Fortnox's CountryCode is 2 characters, but the run turns names into ISO codes.
    assert (
        property_problem(
            "company", "CountryCode", _prop("land", "enumeration", ("Sverige", "Germany", "NO"))
        )
        == ""
    )
    assert "'Atlantis'" in property_problem(
        "company", "CountryCode", _prop("land", "enumeration", ("Sweden", "Atlantis"))
    )


def test_a_vat_type_choice_must_hold_fortnox_codes_and_yes_no_fits_nowhere():
    assert (
        property_problem("company", "VATType", _prop("vt", "enumeration", ("SEVAT", "EXPORT")))
        == ""
    )
    assert "'SE25'" in property_problem("company", "VATType", _prop("vt", "enumeration", ("SE25",)))
    assert "yes/no" in property_problem("document", "Comments", _prop("flag", "bool"))


def test_text_and_numbers_fit_long_fields():
    assert property_problem("company", "ZipCode", _prop("postnummer", "string")) == ""
    assert property_problem("document", "Remarks", _prop("amount", "number")) == ""
    assert "Fortnox allows 10 in ZipCode" in property_problem(
        "company", "ZipCode", _prop("n", "number")
    )
