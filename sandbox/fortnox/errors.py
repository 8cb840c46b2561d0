"""Fortnox's error answers.

The real service uses two casings inside ErrorInformation (recorded): "not found" answers (404)
say {"Error", "Message", "Code"}, validation answers (400) say {"error", "message", "code"}.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised by handlers; the app turns it into a JSON answer."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def lower(status: int, code: int, message: str) -> ApiError:
    return ApiError(status, {"ErrorInformation": {"error": 1, "message": message, "code": code}})


def upper(status: int, code: int, message: str) -> ApiError:
    return ApiError(status, {"ErrorInformation": {"Error": 1, "Message": message, "Code": code}})


def bad_request(code: int, message: str) -> ApiError:
    return lower(400, code, message)


# Recorded 404 answers for a missing record, per resource.
NOT_FOUND = {
    "customers": (2000433, "Kan inte hitta kunden."),
    "articles": (2000428, "Kan inte hitta artikeln."),
    "invoices": (2000434, "Kan inte hitta fakturan."),
    "orders": (2000439, "Kan inte hitta ordern."),
    "units": (2000432, "Kan inte hitta enheten."),
    "termsofpayments": (2000429, "Kan inte hitta betalningsvillkoret."),
    # Not recorded; same style.
    "currencies": (2000436, "Kan inte hitta valutan."),
    "pricelists": (2000430, "Kan inte hitta prislistan."),
    "prices": (2000431, "Kan inte hitta priset."),
}


def not_found(resource: str) -> ApiError:
    code, message = NOT_FOUND.get(resource, (2000400, "Kan inte hitta resursen."))
    return upper(404, code, message)


UNAUTHORIZED_BODY = {"message": "unauthorized"}


def unauthorized() -> ApiError:
    return ApiError(401, UNAUTHORIZED_BODY)


# Codes from Fortnox's error list (fortnox-api.md section 3.2).
INVALID_CHARS = 2000359
INVALID_FILTER = 2000587
INVALID_PARAMETER = 2000588
NO_SCOPE = 2000663
NO_LICENCE = 2001101
BAD_DATA = 2001392
BAD_FIELD = 2001399
JSON_SYNTAX = 2002115
NOT_NUMERIC = 2000108
NOT_BOOLEAN = 2000134
CUSTOMER_MISSING = 2000204
ARTICLE_MISSING = 2001302
# The code of a direct article lookup's 404 (recorded); may also answer a document's unknown
# article (fortnox-api.md Addendum §4): the switch `faults/article-missing-answer` sends it.
ARTICLE_MISSING_LOOKUP = 2000428
CURRENCY_MISSING = 2004344
# Sandbox choices (no real code found; see README "Unconfirmed points").
TOO_LONG = 2000580
DOCUMENT_LOCKED = 2000450
ALREADY_EXISTS = 2000013
INVALID_VALUE = 2000581
