"""Field mappings are checked against Fortnox's rules with messages naming field and fix."""

from __future__ import annotations

from sync.mapping import (
    check_value,
    disallowed_characters,
    mappings_for,
    normalise,
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
