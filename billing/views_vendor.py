"""Staff connect the vendor's own Fortnox company from Django admin (issue 17 ★).

The consent goes through the app's usual Fortnox OAuth and comes back on the same redirect URI
as a portal's (Fortnox apps register one): /fortnox/oauth/callback
(portals/views.py `fortnox_oauth_callback`) tells the flows apart by what the session's pending
state says, checks the state as for a portal, and hands a vendor answer to
`vendor_fortnox_callback`. Only staff may start or finish it.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from billing.vendor_fortnox import vendor_fortnox_connect_complete
from integrations.errors import IntegrationError
from integrations.fortnox import oauth as fortnox_oauth

#: What the pending state in the session carries for the vendor's flow.
VENDOR_FLOW = "vendor"


def vendor_connections_admin_url() -> str:
    return reverse("admin:billing_vendorfortnoxconnection_changelist")


@never_cache
@require_GET
@staff_member_required
def vendor_fortnox_connect(request: HttpRequest) -> HttpResponse:
    """Off to Fortnox's consent page, to approve the vendor's own company."""
    state = secrets.token_urlsafe(32)
    request.session[fortnox_oauth.SESSION_STATE_KEY] = {"state": state, "flow": VENDOR_FLOW}
    return redirect(fortnox_oauth.authorization_url(state))


def vendor_fortnox_callback(request: HttpRequest, *, state_ok: bool) -> HttpResponse:
    """Fortnox's answer to the vendor's consent (state already compared by the caller)."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return HttpResponseForbidden("Only staff may connect the vendor's Fortnox company.")
    back = vendor_connections_admin_url()
    if not state_ok:
        messages.error(
            request,
            "The Fortnox link is no longer valid (it expired or was opened in another "
            "browser). Press \u201cConnect the vendor's Fortnox company\u201d again.",
        )
        return redirect(back)
    if request.GET.get("error"):
        messages.error(
            request,
            "Fortnox was not connected: "
            f"{request.GET.get('error_description') or request.GET['error']}. "
            "Press \u201cConnect the vendor's Fortnox company\u201d again and approve the access.",
        )
        return redirect(back)
    try:
        connection = vendor_fortnox_connect_complete(
            request.GET.get("code", ""), staff_username=user.get_username()
        )
    except IntegrationError as exc:
        messages.error(request, f"Fortnox was not connected: {exc.message} {exc.fix}")
        return redirect(back)
    if connection.last_problem:
        messages.warning(request, f"{connection.last_problem} {connection.last_problem_fix}")
    else:
        messages.success(
            request,
            f"The vendor's Fortnox company {connection.company_name} "
            f"({connection.organisation_number}) is connected.",
        )
    return redirect(back)
