"""HubSpot install and sign-in, and Fortnox connect/disconnect (the Overview tab's buttons).

Each view checks its input, calls one service and answers. OAuth `state` values are random,
kept in the Django session (so bound to this browser) and compared in constant time. Every
answer is per user (a session, a portal's settings), so none may be stored by a browser or a
proxy cache (`never_cache`: Cache-Control: no-store).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from billing.views_vendor import VENDOR_FLOW, vendor_fortnox_callback
from integrations.errors import IntegrationError
from integrations.fortnox import oauth as fortnox_oauth
from integrations.hubspot import oauth as hubspot_oauth
from integrations.models import HubSpotInstallation
from portals.access import edit_required, portal_access_get, settings_page
from portals.portal_auth import portal_sign_in
from portals.services import hubspot_install_complete
from portals.services_connection import fortnox_connect_recorded, fortnox_disconnect_recorded
from portals.tasks import hubspot_properties_create_task

logger = logging.getLogger(__name__)

HUBSPOT_STATE = "hubspot_oauth_state"
FORTNOX_STATE = fortnox_oauth.SESSION_STATE_KEY


def _problem(
    request: HttpRequest,
    title: str,
    message: str,
    fix: str,
    *,
    status: int,
    detail: str = "",
    retry_url: str = "",
) -> HttpResponse:
    return render(
        request,
        "portals/problem.html",
        {"title": title, "message": message, "fix": fix, "detail": detail, "retry_url": retry_url},
        status=status,
    )


def _integration_problem(
    request: HttpRequest, title: str, exc: IntegrationError, *, retry_url: str
) -> HttpResponse:
    """What HubSpot or Fortnox refused, in the adapter's words and fix; 502 when it may pass."""
    return _problem(
        request,
        title,
        exc.message,
        exc.fix,
        status=502 if exc.transient else 400,
        detail=exc.service_message,
        retry_url=retry_url,
    )


def _stale_link(request: HttpRequest, what: str, fix: str, retry_url: str) -> HttpResponse:
    """An OAuth answer whose state we did not issue to this browser (expired, opened in another
    browser, or forged): one fixed page that shows nothing the request carried."""
    return _problem(
        request,
        f"This {what} link is no longer valid",
        "The link expired or was opened in another browser.",
        fix,
        status=400,
        retry_url=retry_url,
    )


def _state_matches(given: str | None, expected: str | None) -> bool:
    return bool(given and expected and secrets.compare_digest(given, expected))


@never_cache
@require_GET
def hubspot_install(request: HttpRequest) -> HttpResponse:
    """Start HubSpot's OAuth: both the install and the sign-in to the settings page."""
    state = secrets.token_urlsafe(32)
    request.session[HUBSPOT_STATE] = state
    return redirect(hubspot_oauth.authorization_url(state))


@never_cache
@require_GET
def hubspot_oauth_callback(request: HttpRequest) -> HttpResponse:
    restart = reverse("hubspot-install")
    # The state is checked before anything else in the answer is used or shown: a forged or
    # replayed callback gets one fixed page, never text that came with the request.
    state = request.GET.get("state")
    expected = request.session.pop(HUBSPOT_STATE, None)
    if state is not None and not _state_matches(state, expected):
        return _stale_link(request, "sign-in", "Start again from the button below.", restart)
    if request.GET.get("error"):
        if state is None:
            # No state: started from HubSpot's marketplace, or sent by anyone. Nothing proves
            # the text came from HubSpot, so the page shows only our own words.
            message, detail = "The installation was cancelled or refused in HubSpot.", ""
        else:
            message = request.GET.get("error_description") or request.GET["error"]
            detail = request.GET["error"]
        return _problem(
            request,
            "HubSpot did not install the app",
            message,
            "Try again, and approve the permissions the app asks for.",
            status=400,
            detail=detail,
            retry_url=restart,
        )
    code = request.GET.get("code")
    if not code:
        return _problem(
            request,
            "Incomplete answer from HubSpot",
            "HubSpot's answer has no authorisation code.",
            "Start the installation again.",
            status=400,
            retry_url=restart,
        )
    try:
        installation, user, needs_properties = hubspot_install_complete(code)
    except IntegrationError as exc:
        return _integration_problem(
            request, "The installation did not complete", exc, retry_url=restart
        )
    if needs_properties:
        transaction.on_commit(lambda: hubspot_properties_create_task.delay(installation.pk))
    if state is None:
        # Started from HubSpot's marketplace, not from us: the install is done, but signing
        # this browser in needs a state we issued (login CSRF), so go round once more.
        return redirect(f"{restart}?{urlencode({'portal': installation.hub_id})}")
    portal_sign_in(request, installation.hub_id, user.user_id, user.email)
    return redirect("portal-settings", hub_id=installation.hub_id)


def _portal_named_in_request(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The Fortnox buttons name the portal in the query (?portal=) or the form, not the path;
    pass it on as `hub_id`, so `settings_page` and `edit_required` decide who may press them."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        data = request.POST if request.method == "POST" else request.GET
        try:
            hub_id = int(data.get("portal") or "")
        except ValueError:
            return _problem(
                request,
                _("Which HubSpot portal?"),
                _("The request does not name a HubSpot portal (portal=)."),
                _("Open the app's settings from HubSpot and use its buttons."),
                status=400,
            )
        return view(request, hub_id)

    return wrapper


@never_cache
@require_GET
@_portal_named_in_request
@settings_page
@edit_required
def fortnox_connect(request: HttpRequest, hub_id: int) -> HttpResponse:
    """Connect or reconnect: off to Fortnox's consent page."""
    state = secrets.token_urlsafe(32)
    request.session[FORTNOX_STATE] = {"state": state, "hub_id": hub_id}
    return redirect(fortnox_oauth.authorization_url(state))


@never_cache
@require_GET
def fortnox_oauth_callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(FORTNOX_STATE, None) or {}
    state_ok = _state_matches(request.GET.get("state"), pending.get("state"))
    if pending.get("flow") == VENDOR_FLOW:
        # Staff connecting the vendor's own company from Django admin: Fortnox sends every
        # consent of the app to this one redirect URI.
        return vendor_fortnox_callback(request, state_ok=state_ok)
    hub_id = pending.get("hub_id")
    back = reverse("portal-settings", kwargs={"hub_id": hub_id}) if hub_id else ""
    if not state_ok:
        return _stale_link(
            request, "Fortnox", "Go back to the app's settings and press Connect again.", back
        )
    if request.GET.get("error"):
        return _problem(
            request,
            "Fortnox was not connected",
            request.GET.get("error_description") or request.GET["error"],
            "Press Connect again and approve the access in Fortnox.",
            status=400,
            detail=request.GET["error"],
            retry_url=back,
        )
    access = portal_access_get(request, hub_id)
    if access is None:
        return redirect(f"{reverse('hubspot-install')}?{urlencode({'portal': hub_id})}")
    if not access.can_edit:  # the right to edit was taken away while at Fortnox
        return _problem(
            request,
            _("You can view these settings but not change them"),
            access.read_only_reason,
            _("Ask a super admin of the HubSpot account to allow you on the page."),
            status=403,
            retry_url=back,
        )
    installation = get_object_or_404(HubSpotInstallation, hub_id=hub_id)
    try:
        fortnox_connect_recorded(installation, request.GET.get("code", ""), access)
    except IntegrationError as exc:
        return _integration_problem(request, "Fortnox was not connected", exc, retry_url=back)
    return redirect("portal-settings", hub_id=hub_id)


@never_cache
@require_POST
@_portal_named_in_request
@settings_page
@edit_required
def fortnox_disconnect_view(request: HttpRequest, hub_id: int) -> HttpResponse:
    if fortnox_disconnect_recorded(request.installation, request.access):
        messages.success(
            request,
            _("Fortnox is disconnected. Runs, notes and documents already in Fortnox stay."),
        )
    return redirect("portal-settings", hub_id=hub_id)
