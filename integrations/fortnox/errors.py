"""Fortnox errors, translated by code into plain words with the fix, in the active language
(a run's is its portal's: sync/execute.py).

Fortnox's ErrorInformation comes in two key casings (Error/Message/Code on 404s, error/message/
code on 400s: fortnox-api.md Addendum §2), messages are Swedish, and the HTTP status of scope and
licence errors varies (400 or 403), so we classify by code, never by status.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from integrations.errors import IntegrationError

SCOPE_MISSING = "2000663"
LICENCE_MISSING = "2001101"
API_LICENCE_MISSING = "2001103"
# An article number Fortnox does not know, on a document's row: 2001302 ("Kunde inte hitta
# artikel") by Fortnox's error table, 2000428 ("Kan inte hitta artikeln") as a direct lookup
# answers and may also come (fortnox-api.md Addendum §4). The HTTP status on a POST is
# unconfirmed (400 likely, 404 seen on lookups), so the codes decide, whatever the status.
ARTICLE_MISSING_CODES = frozenset({"2001302", "2000428"})

# The licences a module needs, as the product FAQ tells users (Fa: invoicing, Oo: order & quote,
# Ar: asset register).
LICENCES_BY_RESOURCE = {
    "invoices": (gettext_noop("an invoice"), gettext_noop("Fa (Invoicing) and Ar")),
    "orders": (gettext_noop("an order"), gettext_noop("Oo (Order & Quote) and Ar")),
    "customers": (gettext_noop("customers"), gettext_noop("Fa (Invoicing) or Oo (Order & Quote)")),
    "articles": (gettext_noop("articles"), gettext_noop("Fa (Invoicing) or Oo (Order & Quote)")),
}


def _licences_text(resource: str) -> tuple[str, str]:
    """(what needs the licence, the licences) in the active language."""
    what, licences = LICENCES_BY_RESOURCE.get(
        resource, (gettext_noop("this"), gettext_noop("the module's licence"))
    )
    return _(what), _(licences)


def _resource_name(resource: str) -> str:
    """Fortnox's resource (its API path) in words of the active language; as named otherwise."""
    names = {
        "invoices": pgettext("fortnox resource", "invoices"),
        "orders": pgettext("fortnox resource", "orders"),
        "customers": pgettext("fortnox resource", "customers"),
        "articles": pgettext("fortnox resource", "articles"),
        "currencies": pgettext("fortnox resource", "currencies"),
        "units": pgettext("fortnox resource", "units"),
        "accounts": pgettext("fortnox resource", "accounts"),
        "companyinformation": pgettext("fortnox resource", "companyinformation"),
    }
    return names.get(resource, resource)


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


def article_missing(error: Exception) -> bool:
    """Fortnox refused a request because an article number on it is unknown."""
    return isinstance(error, FortnoxError) and str(error.code or "") in ARTICLE_MISSING_CODES


class FortnoxOutcomeUnknown(FortnoxError):
    """A create was sent but no answer came back: it may or may not exist in Fortnox now."""

    transient = True


# code -> (plain words, fix), translated where used (gettext_noop marks them for the catalogue)
_MESSAGES: dict[str, tuple[str, str]] = {
    "2000433": (
        gettext_noop("Fortnox cannot find the customer."),
        gettext_noop(
            "Check the customer number stored on the HubSpot record, or clear it so the app "
            "finds or creates the customer again."
        ),
    ),
    "2000204": (
        gettext_noop("Fortnox cannot find the customer used on the document."),
        gettext_noop(
            "Check the customer number stored on the HubSpot record, or clear it so the app "
            "finds or creates the customer again."
        ),
    ),
    "2000428": (
        gettext_noop("Fortnox cannot find the article."),
        gettext_noop(
            "Create the article in Fortnox, fix the product's SKU in HubSpot, or change the "
            "'product not found' setting."
        ),
    ),
    "2001302": (
        gettext_noop("Fortnox cannot find an article used on the document."),
        gettext_noop(
            "Create the article in Fortnox, fix the product's SKU in HubSpot, or change the "
            "'product not found' setting."
        ),
    ),
    "2000434": (
        gettext_noop("Fortnox cannot find the invoice."),
        gettext_noop("Check the invoice number in Fortnox."),
    ),
    "2000439": (
        gettext_noop("Fortnox cannot find the order."),
        gettext_noop("Check the order number in Fortnox."),
    ),
    "2000432": (
        gettext_noop("Fortnox does not know the unit."),
        gettext_noop(
            "Create the unit under Register > Units in Fortnox, or change the unit in HubSpot."
        ),
    ),
    "2000429": (
        gettext_noop("Fortnox does not know the terms of payment."),
        gettext_noop(
            "Create the terms of payment in Fortnox, or change the mapping in the settings."
        ),
    ),
    "2000359": (
        gettext_noop("A value contains characters Fortnox does not allow."),
        gettext_noop("Remove the special characters from the value Fortnox names, then Replay."),
    ),
    "2000106": (
        gettext_noop("A value must be alphanumeric."),
        gettext_noop("Correct the value Fortnox names, then Replay."),
    ),
    "2000108": (
        gettext_noop("A value must be a number."),
        gettext_noop("Correct the value Fortnox names, then Replay."),
    ),
    "2000134": (
        gettext_noop("A value must be true or false."),
        gettext_noop("Correct the value Fortnox names, then Replay."),
    ),
    "2000587": (
        gettext_noop("Fortnox refused a list filter."),
        gettext_noop("Contact support: this is a fault in the app."),
    ),
    "2000588": (
        gettext_noop("Fortnox refused a parameter of the request."),
        gettext_noop("Contact support: this is a fault in the app."),
    ),
    "2000637": (
        gettext_noop(
            "That customer number is already used in Fortnox (possibly by a deleted customer)."
        ),
        gettext_noop("Clear the customer number on the HubSpot record, then Replay."),
    ),
    "2000013": (
        gettext_noop("That article number is already used in Fortnox."),
        gettext_noop(
            "Change the product's SKU in HubSpot or use the existing article, then Replay."
        ),
    ),
    "2001304": (
        gettext_noop("Fortnox has no account to book the document on."),
        gettext_noop(
            "Set the default sales accounts in Fortnox (Settings > Bookkeeping), then Replay."
        ),
    ),
    "2004167": (
        gettext_noop("A row has a custom VAT rate and EasyVat needs an account for it."),
        gettext_noop("Use a standard VAT rate (25, 12, 6 or 0) or set an account, then Replay."),
    ),
    "2004344": (
        gettext_noop("Fortnox does not know the deal's currency."),
        gettext_noop("Add the currency under Register > Currencies in Fortnox, then Replay."),
    ),
    "2004194": (
        gettext_noop("Fortnox refused the VAT number."),
        gettext_noop("Correct the VAT number on the HubSpot company, then Replay."),
    ),
    "2001392": (
        gettext_noop("Fortnox received no usable data."),
        gettext_noop("Contact support: this is a fault in the app."),
    ),
    "2002115": (
        gettext_noop("Fortnox could not read the request."),
        gettext_noop("Contact support: this is a fault in the app."),
    ),
    "2001103": (
        gettext_noop("The Fortnox company has no API licence."),
        gettext_noop("Activate the integration (API) licence in Fortnox, then reconnect."),
    ),
    "1000003": (
        gettext_noop("Fortnox had an internal error."),
        gettext_noop("Wait a few minutes and Replay."),
    ),
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
        what, licences = _licences_text(resource)
        return FortnoxLicenceMissing(
            _("There is no active Fortnox licence for %(what)s: it needs %(licences)s.")
            % {"what": what, "licences": licences},
            fix=_(
                "Ask your Fortnox administrator to activate %(licences)s for the company, "
                "then Replay."
            )
            % {"licences": licences},
            code=code,
            service_message=original,
            status=status,
        )
    if code == SCOPE_MISSING:
        return FortnoxScopeMissing(
            _("The Fortnox connection was not granted access to %(resource)s.")
            % {"resource": _resource_name(resource)},
            fix=_(
                "Reconnect Fortnox in the app's settings and approve every permission asked for."
            ),
            code=code,
            service_message=original,
            status=status,
        )
    message, fix = (_(text) if text else "" for text in _MESSAGES.get(code, ("", "")))
    if status == 404:
        return FortnoxNotFound(
            message
            or _("Fortnox cannot find the %(resource)s record.")
            % {"resource": _resource_name(resource)},
            fix=fix,
            code=code,
            service_message=original,
            status=status,
        )
    if status == 429:
        return FortnoxRateLimited(
            _("Fortnox is limiting how fast the app may call it."),
            fix=_("Nothing to do: the app slows down and tries again."),
            code=code,
            service_message=original,
            status=status,
        )
    if status >= 500:
        return FortnoxUnavailable(
            message
            or _("Fortnox is not answering properly (HTTP %(status)s).") % {"status": status},
            fix=fix or _("Wait a few minutes and Replay."),
            code=code,
            service_message=original,
            status=status,
        )
    return FortnoxValidationError(
        message or _("Fortnox refused the request."),
        fix=fix or _("Check the value Fortnox names below, correct it in HubSpot, then Replay."),
        code=code,
        service_message=original,
        status=status,
    )
