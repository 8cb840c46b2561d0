"""HubSpot errors in the service's one error shape (see integrations/errors.py)."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from integrations.errors import IntegrationError


class HubSpotError(IntegrationError):
    service = "HubSpot"


class HubSpotUninstalled(HubSpotError):
    """HubSpot refused our refresh token: the app was uninstalled from the portal."""


class HubSpotNotFound(HubSpotError):
    pass


class HubSpotValidationError(HubSpotError):
    pass


class HubSpotRateLimited(HubSpotError):
    transient = True


class HubSpotUnavailable(HubSpotError):
    transient = True


def parse_body(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return {"message": body[:500]}
    return body if isinstance(body, dict) else {}


def error_for_status(status: int, body: Any, what: str) -> HubSpotError:
    """Translate a failed HubSpot answer (status, message, category, errors[]: §7)."""
    data = parse_body(body)
    original = str(data.get("message") or "")
    category = str(data.get("category") or data.get("errorType") or "")
    if status == 404:
        return HubSpotNotFound(
            _("HubSpot cannot find the %(what)s.") % {"what": what},
            fix=_("Check that the record still exists in HubSpot."),
            code=category,
            service_message=original,
            status=status,
        )
    if status == 429:
        return HubSpotRateLimited(
            _("HubSpot is limiting how fast the app may call it."),
            fix=_("Nothing to do: the app slows down and tries again."),
            code=category,
            service_message=original,
            status=status,
        )
    if status >= 500:
        return HubSpotUnavailable(
            _("HubSpot is not answering properly (HTTP %(status)s).") % {"status": status},
            fix=_("Wait a few minutes and Replay."),
            code=category,
            service_message=original,
            status=status,
        )
    if status == 401:
        # Only after a refresh a moment ago (the client refreshes once on a 401).
        return HubSpotError(
            _("HubSpot refused the app's fresh authorisation for this portal."),
            fix=_("Install the app again from HubSpot's marketplace; contact support if it stays."),
            code=category,
            service_message=original,
            status=status,
        )
    if status == 403:
        return HubSpotError(
            _("HubSpot did not allow the app to read or change the %(what)s.") % {"what": what},
            fix=_("Reinstall the app and approve every permission it asks for."),
            code=category,
            service_message=original,
            status=status,
        )
    return HubSpotValidationError(
        _("HubSpot refused to save the %(what)s.") % {"what": what},
        fix=_("Check the value HubSpot names below."),
        code=category,
        service_message=original,
        status=status,
    )
