"""A HubSpot user's role in a portal, read from HubSpot's users API when they sign in.

The users API needs the optional scope `settings.users.read`. Without it (an install from
before the scope, or a portal that declined it), or when HubSpot does not answer, the role is
UNKNOWN: portals/access.py then falls back to what the way in proves (an OAuth sign-in proves
a super admin or a user with Marketplace Access).
"""

from __future__ import annotations

import logging

from integrations.errors import IntegrationError
from integrations.hubspot.users import portal_user_get, users_scope_granted
from integrations.models import HubSpotInstallation

logger = logging.getLogger(__name__)

SUPER_ADMIN = "super_admin"
USER = "user"  # a user of the portal who is not a super admin (or not a user of it at all)
UNKNOWN = "unknown"


def portal_role_read(hub_id: int, user_id: int | None) -> str:
    installation = HubSpotInstallation.objects.filter(hub_id=hub_id).first()
    if installation is None or user_id is None or not users_scope_granted(installation):
        return UNKNOWN
    try:
        user = portal_user_get(installation, user_id=user_id)
    except IntegrationError as exc:
        logger.warning(
            "hubspot user role not read",
            extra={"portal": hub_id, "user_id": user_id, "error": exc.message},
        )
        return UNKNOWN
    if user is None:
        return USER
    return SUPER_ADMIN if user.super_admin else USER
