"""Users a super admin allowed to change the settings page (the Users tab)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.errors import IntegrationError
from integrations.hubspot.users import portal_user_get, portal_users_list, users_scope_granted
from integrations.models import HubSpotInstallation
from portals.access import PortalAccess
from portals.history import settings_changes_record
from portals.models import PortalEditor

SECTION = "users"
ALLOWED_LABEL = gettext_lazy("Allowed to change the settings")


class EditorRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def portal_editor_add(
    installation: HubSpotInstallation, access: PortalAccess, email: str
) -> PortalEditor:
    """Allow the portal's user `email`; checked against HubSpot's users when the app may read
    them. Recorded in the history in the same transaction."""
    email = email.strip().lower()
    user_id = None
    if users_scope_granted(installation):
        try:
            user = portal_user_get(installation, email=email)
        except IntegrationError as exc:
            raise EditorRefused(
                _("HubSpot did not answer when the app looked the user up (%(why)s). Try again.")
                % {"why": exc.message}
            ) from None
        if user is None:
            raise EditorRefused(
                _(
                    "%(email)s is not a user of HubSpot account %(hub_id)s. Check the address, "
                    "or add the user in HubSpot first."
                )
                % {"email": email, "hub_id": installation.hub_id}
            )
        if user.super_admin:
            raise EditorRefused(
                _("%(email)s is a super admin and may already change the settings.")
                % {"email": email}
            )
        user_id = user.user_id
    with transaction.atomic():
        if PortalEditor.objects.filter(installation=installation, email__iexact=email).exists():
            raise EditorRefused(_("%(email)s is already allowed.") % {"email": email})
        editor = PortalEditor.objects.create(
            installation=installation, user_id=user_id, email=email, added_by_email=access.actor
        )
        settings_changes_record(installation, access, SECTION, [(ALLOWED_LABEL, "", email)])
    return editor


def portal_editor_remove(
    installation: HubSpotInstallation, access: PortalAccess, editor_id: int
) -> str | None:
    """Remove an allowed user; returns their e-mail, or None when there was no such user."""
    with transaction.atomic():
        editor = (
            PortalEditor.objects.select_for_update()
            .filter(installation=installation, pk=editor_id)
            .first()
        )
        if editor is None:
            return None
        editor.delete()
        settings_changes_record(installation, access, SECTION, [(ALLOWED_LABEL, editor.email, "")])
    return editor.email


def portal_users_overview(installation: HubSpotInstallation) -> dict[str, Any]:
    """Who may edit: the super admins (when the app may read HubSpot's users) and the users a
    super admin allowed."""
    overview: dict[str, Any] = {
        "scope_granted": users_scope_granted(installation),
        "super_admins": [],
        "super_admins_error": "",
        "editors": list(installation.editors.order_by("email")),
    }
    if overview["scope_granted"]:
        try:
            users = portal_users_list(installation)
        except IntegrationError as exc:
            overview["super_admins_error"] = exc.message
        else:
            overview["super_admins"] = sorted(u.email for u in users if u.super_admin)
    return overview
