"""Who is looking at a portal's settings page, and whether they may change anything.

Every settings page view is wrapped in `settings_page`; every view that changes something is
also wrapped in `edit_required`. Views read `request.installation` and `request.access`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from integrations.models import HubSpotInstallation
from portals.portal_auth import portal_user


@dataclass(frozen=True)
class PortalAccess:
    hub_id: int
    user_id: int | None
    email: str
    can_edit: bool
    # Why the page is read-only for this user, and what would change it ("" when can_edit).
    read_only_reason: str = ""
    # Support staff looking from Django admin: read-only, never a HubSpot user of the portal.
    staff: bool = False

    @property
    def actor(self) -> str:
        return self.email or (f"HubSpot user {self.user_id}" if self.user_id else "")


def portal_access_get(request: HttpRequest, hub_id: int) -> PortalAccess | None:
    """The signed-in user's access to this portal's page, or None when not signed in for it."""
    user = portal_user(request, hub_id)
    if user is None:
        return None
    # Signed in through HubSpot's OAuth, which only users who may install apps can complete.
    return PortalAccess(
        hub_id=hub_id,
        user_id=user.get("user_id"),
        email=user.get("email", ""),
        can_edit=True,
    )


def settings_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view takes `hub_id`; without a sign-in for it, go through HubSpot's sign-in."""

    @wraps(view)
    def wrapper(request: HttpRequest, hub_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        # Sign-in first: whether a portal exists is not told to a stranger.
        access = portal_access_get(request, hub_id)
        if access is None:
            return redirect(f"{reverse('hubspot-install')}?{urlencode({'portal': hub_id})}")
        installation = get_object_or_404(HubSpotInstallation, hub_id=hub_id)
        request.installation = installation
        request.access = access
        return view(request, hub_id, *args, **kwargs)

    return wrapper


def edit_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Inside `settings_page`: refuse a change from a read-only user, saying why (403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, hub_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        access: PortalAccess = request.access
        if not access.can_edit:
            return render(
                request,
                "portals/problem.html",
                {
                    "title": _("You can view these settings but not change them"),
                    "message": access.read_only_reason,
                    "fix": _("Ask a super admin of the HubSpot account to allow you on the page."),
                    "retry_url": reverse("portal-settings", kwargs={"hub_id": hub_id}),
                },
                status=403,
            )
        return view(request, hub_id, *args, **kwargs)

    return wrapper
