"""Way 2 into the settings page, and what the settings component shows.

- `POST /hubspot/sign-in-link`: a signed `hubspot.fetch` from the settings component or the app
  card asks for a sign-in link; answers `{"url": …, "expires_in": …}`.
- `GET /hubspot/settings-status`: a signed `hubspot.fetch` asks for the connection state.
- `GET /sign-in/<token>`: the link itself; signs the browser in for that portal and user.

Portal and user come only from the query string HubSpot signed (`portalId`, `userId`,
`userEmail`: hubspot-api.md Addendum §1 and third addendum §6); the locale from the signed JSON
body, which the component fills from its `context.user.locale`.
"""

from __future__ import annotations

import json
import logging
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.hubspot.signature import (
    BodyTooLarge,
    SignatureInvalid,
    hubspot_request_verify,
    request_body_read,
)
from integrations.models import HubSpotInstallation
from portals.portal_auth import VIA_LINK, portal_sign_in
from portals.selectors import connection_status_get
from portals.sign_in_links import (
    LINK_TTL,
    SignInLinkRefused,
    sign_in_link_mint,
    sign_in_link_redeem,
)

logger = logging.getLogger(__name__)

# The component sends at most a locale; anything near this size is not ours.
COMPONENT_BODY_MAX_BYTES = 4 * 1024
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")


class _Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def _signed_caller(request: HttpRequest) -> tuple[HubSpotInstallation, int, str, dict]:
    """The installation, user id, e-mail and JSON body of a signed component request."""
    try:
        body = request_body_read(request, max_bytes=COMPONENT_BODY_MAX_BYTES)
    except BodyTooLarge as exc:
        raise _Refused(413, str(exc)) from None
    try:
        hubspot_request_verify(request, body=body)
    except SignatureInvalid as exc:
        logger.warning("component request refused: %s", exc, extra={"path": request.path})
        raise _Refused(401, "invalid signature") from None
    try:
        hub_id = int(request.GET.get("portalId", ""))
        user_id = int(request.GET.get("userId", ""))
    except ValueError:
        raise _Refused(400, "portalId and userId are required") from None
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError:
        raise _Refused(400, "the body is not JSON") from None
    installation = HubSpotInstallation.objects.filter(hub_id=hub_id).first()
    if installation is None or not installation.is_active:
        raise _Refused(404, "the app is not installed in this HubSpot account")
    email = request.GET.get("userEmail", "")[:254]
    return installation, user_id, email, data if isinstance(data, dict) else {}


@csrf_exempt  # authenticated by HubSpot's signature instead
@never_cache
@require_POST
def sign_in_link_create(request: HttpRequest) -> HttpResponse:
    try:
        installation, user_id, email, data = _signed_caller(request)
    except _Refused as refused:
        return JsonResponse({"error": refused.error}, status=refused.status)
    locale = str(data.get("locale") or "")
    locale = locale if _LOCALE.fullmatch(locale) else ""
    token = sign_in_link_mint(installation, user_id=user_id, email=email, locale=locale)
    logger.info("sign-in link minted", extra={"portal": installation.hub_id, "user_id": user_id})
    url = settings.PUBLIC_BASE_URL + reverse("sign-in", kwargs={"token": token})
    return JsonResponse({"url": url, "expires_in": int(LINK_TTL.total_seconds())})


@csrf_exempt  # authenticated by HubSpot's signature instead
@never_cache
@require_GET
def settings_status(request: HttpRequest) -> HttpResponse:
    """What the settings component shows: the installation and the Fortnox connection."""
    try:
        installation, _user_id, _email, _data = _signed_caller(request)
    except _Refused as refused:
        return JsonResponse({"error": refused.error}, status=refused.status)
    status = connection_status_get(installation)
    fortnox = status["fortnox"] or {}
    return JsonResponse(
        {
            "hub_id": installation.hub_id,
            "installation": status["installation"],
            "fortnox": {
                "status": fortnox.get("status", "not_connected"),
                "company_name": fortnox.get("company_name", ""),
                "organisation_number": fortnox.get("organisation_number", ""),
            },
            "problem": str(status["problem"] or ""),
            "fix": str(status["fix"] or ""),
        }
    )


def _language_of(locale: str) -> str:
    """A language the page is offered in for HubSpot's locale ("sv-se" → "sv"), or ""."""
    code = locale.lower().replace("_", "-").split("-")[0]
    return code if code in dict(settings.LANGUAGES) else ""


_REFUSALS = {
    "expired": (410, gettext_lazy("This sign-in link has expired")),
    "used": (410, gettext_lazy("This sign-in link has already been used")),
    "unknown": (404, gettext_lazy("This sign-in link is not valid")),
    "uninstalled": (410, gettext_lazy("The app is no longer installed in this HubSpot account")),
}


@never_cache
@require_GET
def sign_in(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = sign_in_link_redeem(token)
    except SignInLinkRefused as refused:
        status, title = _REFUSALS[refused.reason]
        return render(
            request,
            "portals/problem.html",
            {
                "title": title,
                "message": _(
                    "A sign-in link works once, within %(minutes)d minutes of being made, and "
                    "only for the HubSpot user it was made for."
                )
                % {"minutes": int(LINK_TTL.total_seconds() // 60)},
                "fix": _(
                    "Open the app's settings from HubSpot again (Marketplace → Connected apps → "
                    "Fortnox for HubSpot → Settings, or the app card on a deal) and press "
                    "“Open settings” for a new link."
                ),
            },
            status=status,
        )
    hub_id = link.installation.hub_id
    portal_sign_in(request, hub_id, link.user_id, link.email, via=VIA_LINK, locale=link.locale)
    logger.info("signed in through a link", extra={"portal": hub_id, "user_id": link.user_id})
    response = redirect("portal-settings", hub_id=hub_id)
    language = _language_of(link.locale)
    if language:
        # The page follows the user's HubSpot language; the switch on the page changes it.
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response
