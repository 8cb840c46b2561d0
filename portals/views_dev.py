"""Development only: sign this browser in to a portal's settings page without HubSpot's OAuth.

`make run` prints this link so a newcomer opens the page in one click. It signs the browser in
as the portal's installing user, exactly as a completed OAuth sign-in would. Anywhere but
CLOUDIFY_ENV=development it does not exist (404), so no deployment can be entered through it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integrations.models import HubSpotInstallation
from portals.portal_auth import portal_sign_in


@never_cache
@require_GET
def dev_sign_in(request: HttpRequest, hub_id: int) -> HttpResponse:
    if settings.CLOUDIFY_ENV != "development":
        raise Http404("The development sign-in exists only with CLOUDIFY_ENV=development.")
    installation = get_object_or_404(HubSpotInstallation, hub_id=hub_id)
    portal_sign_in(
        request, hub_id, installation.installed_by_user_id, installation.installed_by_email
    )
    return redirect("portal-settings", hub_id=hub_id)
