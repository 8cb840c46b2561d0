"""Fortnox's answers become messages a user can act on; the original code and text are kept."""

from __future__ import annotations

import pytest

from integrations.fortnox.errors import (
    FortnoxLicenceMissing,
    FortnoxNotFound,
    FortnoxScopeMissing,
    FortnoxValidationError,
    error_for_response,
)

LICENCE = {
    "ErrorInformation": {
        "error": 1,
        "message": "Det finns ingen aktiv licens för önskat scope",
        "code": 2001101,
    }
}


@pytest.mark.parametrize(
    "resource, licences",
    [
        ("invoices", "Fa (Invoicing) and Ar"),
        ("orders", "Oo (Order & Quote) and Ar"),
    ],
)
@pytest.mark.parametrize("status", [400, 403])
def test_missing_licence_names_the_licences_the_document_needs(resource, licences, status):
    error = error_for_response(status, LICENCE, resource)
    assert isinstance(error, FortnoxLicenceMissing)
    assert licences in error.message
    assert licences in error.fix
    assert error.code == "2001101"
    assert error.service_message == "Det finns ingen aktiv licens för önskat scope"


def test_missing_scope_asks_for_a_reconnect():
    body = {
        "ErrorInformation": {
            "Error": 1,
            "Message": "Har inte behörighet för scope",
            "Code": 2000663,
        }
    }
    error = error_for_response(403, body, "orders")
    assert isinstance(error, FortnoxScopeMissing)
    assert "Reconnect Fortnox" in error.fix


def test_both_key_casings_are_read():
    capital = {
        "ErrorInformation": {"Error": 1, "Message": "Kan inte hitta kunden.", "Code": 2000433}
    }
    error = error_for_response(404, capital, "customers")
    assert isinstance(error, FortnoxNotFound)
    assert error.message == "Fortnox cannot find the customer."
    assert (error.code, error.service_message) == ("2000433", "Kan inte hitta kunden.")

    lower = {
        "ErrorInformation": {
            "error": 1,
            "message": "Värdet innehåller ej tillåtna tecken.",
            "code": 2000359,
        }
    }
    error = error_for_response(400, lower, "invoices")
    assert isinstance(error, FortnoxValidationError)
    assert "characters Fortnox does not allow" in error.message
    assert "Remove the special characters" in error.fix


def test_unknown_codes_keep_fortnox_text_and_a_generic_fix():
    body = {"ErrorInformation": {"error": 1, "message": "Något nytt gick fel", "code": 2999999}}
    error = error_for_response(400, body, "invoices")
    assert error.message == "Fortnox refused the request."
    assert "Något nytt gick fel" in str(error)
    assert error.as_dict()["code"] == "2999999"
