"""Who is looking at a portal's settings page, and whether they may change anything.

Every settings page view is wrapped in `settings_page`; every view that changes something is
also wrapped in `edit_required` (and `settings_page` itself refuses any unsafe method from a
read-only user, should a view forget). Views read `request.installation` and `request.access`.

Who may edit (issue 14, "Who gets in"):
- a super admin of the portal (HubSpot's users API, read at sign-in: portals/roles.py);
- a user a super admin allowed on the Users tab (PortalEditor);
- without the optional scope `settings.users.read` the app cannot tell super admins apart, so a
  user who signed in through HubSpot's OAuth (only super admins and users with Marketplace
  Access can) may edit, and the page offers to authorise the app again with that scope.
Everyone else of the portal (signed in through a sign-in link) sees the page read-only, and
support staff (a Django staff login) see any portal read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from integrations.hubspot.users import users_scope_granted
from integrations.models import HubSpotInstallation
from portals import roles
from portals.models import PortalEditor
from portals.portal_auth import VIA_OAUTH, portal_user

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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
    # May allow and remove users on the Users tab (super admins).
    can_manage_users: bool = False
    # "super_admin", "editor" (allowed on the Users tab), "installer" (signed in through OAuth
    # while the app cannot read roles), "viewer" or "staff".
    role: str = ""
    # Where to authorise the app again to grant the users scope ("" when not offered).
    reauthorise_url: str = ""

    @property
    def actor(self) -> str:
        return self.email or (f"HubSpot user {self.user_id}" if self.user_id else "")


def _allowed_editor(hub_id: int, user_id: int | None, email: str) -> bool:
    editors = PortalEditor.objects.filter(installation__hub_id=hub_id)
    by_id = editors.filter(user_id=user_id).exists() if user_id is not None else False
    return by_id or bool(email) and editors.filter(email__iexact=email).exists()


def _read_only_reason(role: str, scope_granted: bool) -> str:
    if role == roles.UNKNOWN and not scope_granted:
        return _(
            "The app has no permission to see who is a super admin in HubSpot, so only users "
            "allowed on the Users tab can change them. A super admin can allow you there, or "
            "authorise the app again through HubSpot to give it that permission."
        )
    if role == roles.UNKNOWN:
        return _(
            "HubSpot did not tell the app whether you are a super admin. Open the page again "
            "from HubSpot in a few minutes."
        )
    return _(
        "Only super admins of this HubSpot account and users a super admin allowed on the "
        "Users tab can change them."
    )


def _staff_access(request: HttpRequest, hub_id: int) -> PortalAccess | None:
    user = getattr(request, "user", None)
    if user is None or not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    return PortalAccess(
        hub_id=hub_id,
        user_id=None,
        email=user.get_username(),
        can_edit=False,
        read_only_reason=_(
            "You are looking as support staff: the settings are shown read-only and nothing "
            "can be changed from here."
        ),
        staff=True,
        role="staff",
    )


def portal_access_get(request: HttpRequest, hub_id: int) -> PortalAccess | None:
    """The signed-in user's access to this portal's page, or None when not signed in for it."""
    user = portal_user(request, hub_id)
    if user is None:
        return _staff_access(request, hub_id)
    user_id, email = user.get("user_id"), user.get("email", "")
    role = user.get("role", roles.UNKNOWN)  # sessions from before roles were read: unknown
    via_oauth = user.get("via", VIA_OAUTH) == VIA_OAUTH
    installation = HubSpotInstallation.objects.filter(hub_id=hub_id).first()
    scope_granted = installation is not None and users_scope_granted(installation)
    reauthorise_url = "" if scope_granted else reverse("hubspot-install")
    common = {"hub_id": hub_id, "user_id": user_id, "email": email}
    if role == roles.SUPER_ADMIN:
        return PortalAccess(**common, can_edit=True, can_manage_users=True, role="super_admin")
    if _allowed_editor(hub_id, user_id, email):
        return PortalAccess(**common, can_edit=True, role="editor")
    if role == roles.UNKNOWN and via_oauth:
        # The consent itself proved a super admin or Marketplace Access: the rule before the
        # users scope. Without the scope nobody else could manage the Users tab.
        return PortalAccess(
            **common,
            can_edit=True,
            can_manage_users=not scope_granted,
            role="installer",
            reauthorise_url=reauthorise_url,
        )
    return PortalAccess(
        **common,
        can_edit=False,
        read_only_reason=_read_only_reason(role, scope_granted),
        role="viewer",
        reauthorise_url=reauthorise_url if via_oauth else "",
    )


def read_only_refusal(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    """403 with the reason, for a change asked by someone who may only look."""
    fix = (
        _("Sign in as the customer's user in HubSpot to change anything.")
        if access.staff
        else _("Ask a super admin of the HubSpot account to allow you on the Users tab.")
    )
    return render(
        request,
        "portals/problem.html",
        {
            "title": _("You can view these settings but not change them"),
            "message": access.read_only_reason,
            "fix": fix,
            "retry_url": reverse("portal-settings", kwargs={"hub_id": access.hub_id}),
        },
        status=403,
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
        if access.staff:
            logger.info(
                "support staff opened settings",
                extra={"portal": hub_id, "staff_user": access.email, "path": request.path},
            )
        if request.method not in SAFE_METHODS and not access.can_edit:
            return read_only_refusal(request, access)
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
            return read_only_refusal(request, access)
        return view(request, hub_id, *args, **kwargs)

    return wrapper


def form_tab(page: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A tab that is one form: GET shows it, POST (editors only) saves it.
    `page(request, data)` renders the tab, validating and saving when `data` is the POST."""

    @edit_required
    def save(request: HttpRequest, hub_id: int) -> HttpResponse:
        return page(request, data=request.POST)

    @never_cache
    @require_http_methods(["GET", "POST"])
    @settings_page
    @wraps(page)
    def view(request: HttpRequest, hub_id: int) -> HttpResponse:
        if request.method == "POST":
            return save(request, hub_id)
        return page(request)

    return view
