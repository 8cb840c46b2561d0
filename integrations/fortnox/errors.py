"""Fortnox errors, translated by code into plain English with the fix.

Fortnox's ErrorInformation comes in two key casings (Error/Message/Code on 404s, error/message/
code on 400s: fortnox-api.md Addendum §2), messages are Swedish, and the HTTP status of scope and
licence errors varies (400 or 403), so we classify by code, never by status.
"""

from __future__ import annotations

from typing import Any

from integrations.errors import IntegrationError

SCOPE_MISSING = "2000663"
LICENCE_MISSING = "2001101"
API_LICENCE_MISSING = "2001103"

# The licences a module needs, as the product FAQ tells users (Fa: invoicing, Oo: order & quote,
# Ar: asset register).
LICENCES_BY_RESOURCE = {
    "invoices": ("an invoice", "Fa (Invoicing) and Ar"),
    "orders": ("an order", "Oo (Order & Quote) and Ar"),
    "customers": ("customers", "Fa (Invoicing) or Oo (Order & Quote)"),
    "articles": ("articles", "Fa (Invoicing) or Oo (Order & Quote)"),
}


class FortnoxError(IntegrationError):
    service = "Fortnox"


class FortnoxNeedsReconnect(FortnoxError):
    """Fortnox refused our tokens: only the user can fix it, by connecting again."""


class FortnoxScopeMissing(FortnoxError):
    pass


class FortnoxLicenceMissing(FortnoxError):
    pass


class FortnoxNotFound(FortnoxError):
    pass


class FortnoxValidationError(FortnoxError):
    pass


class FortnoxRateLimited(FortnoxError):
    transient = True


class FortnoxUnavailable(FortnoxError):
    transient = True


class FortnoxOutcomeUnknown(FortnoxError):
    """A create was sent but no answer came back: it may or may not exist in Fortnox now."""

    transient = True


# code -> (plain English, fix)
_MESSAGES: dict[str, tuple[str, str]] = {
    "2000433": (
        "Fortnox cannot find the customer.",
        "Check the customer number stored on the HubSpot record, or clear it so the app "
        "finds or creates the customer again.",
    ),
    "2000204": (
        "Fortnox cannot find the customer used on the document.",
        "Check the customer number stored on the HubSpot record, or clear it so the app "
        "finds or creates the customer again.",
    ),
    "2000428": (
        "Fortnox cannot find the article.",
        "Create the article in Fortnox, fix the product's SKU in HubSpot, or change the "
        "'product not found' setting.",
    ),
    "2001302": (
        "Fortnox cannot find an article used on the document.",
        "Create the article in Fortnox, fix the product's SKU in HubSpot, or change the "
        "'product not found' setting.",
    ),
    "2000434": ("Fortnox cannot find the invoice.", "Check the invoice number in Fortnox."),
    "2000439": ("Fortnox cannot find the order.", "Check the order number in Fortnox."),
    "2000432": (
        "Fortnox does not know the unit.",
        "Create the unit under Register > Units in Fortnox, or change the unit in HubSpot.",
    ),
    "2000429": (
        "Fortnox does not know the terms of payment.",
        "Create the terms of payment in Fortnox, or change the mapping in the settings.",
    ),
    "2000359": (
        "A value contains characters Fortnox does not allow.",
        "Remove the special characters from the value Fortnox names, then Replay.",
    ),
    "2000106": ("A value must be alphanumeric.", "Correct the value Fortnox names, then Replay."),
    "2000108": ("A value must be a number.", "Correct the value Fortnox names, then Replay."),
    "2000134": ("A value must be true or false.", "Correct the value Fortnox names, then Replay."),
    "2000587": ("Fortnox refused a list filter.", "Contact support: this is a fault in the app."),
    "2000588": (
        "Fortnox refused a parameter of the request.",
        "Contact support: this is a fault in the app.",
    ),
    "2000637": (
        "That customer number is already used in Fortnox (possibly by a deleted customer).",
        "Clear the customer number on the HubSpot record, then Replay.",
    ),
    "2000013": (
        "That article number is already used in Fortnox.",
        "Change the product's SKU in HubSpot or use the existing article, then Replay.",
    ),
    "2001304": (
        "Fortnox has no account to book the document on.",
        "Set the default sales accounts in Fortnox (Settings > Bookkeeping), then Replay.",
    ),
    "2004167": (
        "A row has a custom VAT rate and EasyVat needs an account for it.",
        "Use a standard VAT rate (25, 12, 6 or 0) or set an account, then Replay.",
    ),
    "2004344": (
        "Fortnox does not know the deal's currency.",
        "Add the currency under Register > Currencies in Fortnox, then Replay.",
    ),
    "2004194": (
        "Fortnox refused the VAT number.",
        "Correct the VAT number on the HubSpot company, then Replay.",
    ),
    "2001392": ("Fortnox received no usable data.", "Contact support: this is a fault in the app."),
    "2002115": (
        "Fortnox could not read the request.",
        "Contact support: this is a fault in the app.",
    ),
    "2001103": (
        "The Fortnox company has no API licence.",
        "Activate the integration (API) licence in Fortnox, then reconnect.",
    ),
    "1000003": ("Fortnox had an internal error.", "Wait a few minutes and Replay."),
}


def parse_error_information(body: Any) -> tuple[str, str]:
    """(code, message) from an ErrorInformation body in either key casing; ('', '') if none."""
    if not isinstance(body, dict):
        return "", ""
    info = body.get("ErrorInformation")
    if not isinstance(info, dict):
        # 401: {"message":"unauthorized"}; OAuth: {"error":..., "error_description":...}
        return "", str(body.get("message") or body.get("error_description") or "")
    lowered = {str(key).lower(): value for key, value in info.items()}
    code = lowered.get("code")
    return ("" if code is None else str(code)), str(lowered.get("message") or "")


def error_for_response(status: int, body: Any, resource: str) -> FortnoxError:
    """Translate one failed Fortnox answer into the error users will read."""
    code, original = parse_error_information(body)
    if code == LICENCE_MISSING:
        what, licences = LICENCES_BY_RESOURCE.get(resource, ("this", "the module's licence"))
        return FortnoxLicenceMissing(
            f"There is no active Fortnox licence for {what}: it needs {licences}.",
            fix=f"Ask your Fortnox administrator to activate {licences} for the company, "
            "then Replay.",
            code=code,
            service_message=original,
            status=status,
        )
    if code == SCOPE_MISSING:
        return FortnoxScopeMissing(
            f"The Fortnox connection was not granted access to {resource}.",
            fix="Reconnect Fortnox in the app's settings and approve every permission asked for.",
            code=code,
            service_message=original,
            status=status,
        )
    message, fix = _MESSAGES.get(code, ("", ""))
    if status == 404:
        return FortnoxNotFound(
            message or f"Fortnox cannot find the {resource} record.",
            fix=fix,
            code=code,
            service_message=original,
            status=status,
        )
    if status == 429:
        return FortnoxRateLimited(
            "Fortnox is limiting how fast the app may call it.",
            fix="Nothing to do: the app slows down and tries again.",
            code=code,
            service_message=original,
            status=status,
        )
    if status >= 500:
        return FortnoxUnavailable(
            message or f"Fortnox is not answering properly (HTTP {status}).",
            fix=fix or "Wait a few minutes and Replay.",
            code=code,
            service_message=original,
            status=status,
        )
    return FortnoxValidationError(
        message or "Fortnox refused the request.",
        fix=fix or "Check the value Fortnox names below, correct it in HubSpot, then Replay.",
        code=code,
        service_message=original,
        status=status,
    )
