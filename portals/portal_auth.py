"""Who may open a portal's settings: only a user HubSpot vouched for in that portal.

There is no password login for customers. Two ways in, both ending in `portal_sign_in`:
1. HubSpot's OAuth: HubSpot only lets super admins and users with Marketplace Access approve it,
   so a completed authorisation for hub X proves the browser belongs to such a user of X.
2. A single-use sign-in link (portals/sign_in_links.py), minted in answer to a signed
   `hubspot.fetch` from the settings component or the app card, for any user of the portal.
The proof is kept in the Django session (cookie: HttpOnly, Secure in production, SameSite=Lax)
for SESSION_HOURS, with the user's role as read from HubSpot at sign-in (portals/roles.py): it is
not read again on every page view.
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest

from portals.roles import portal_role_read

SESSION_KEY = "hubspot_portals"
SESSION_HOURS = 12

VIA_OAUTH = "oauth"
VIA_LINK = "link"


def portal_sign_in(
    request: HttpRequest,
    hub_id: int,
    user_id: int | None,
    email: str,
    *,
    via: str = VIA_OAUTH,
    locale: str = "",
    role: str | None = None,
) -> None:
    """Sign this browser in to portal `hub_id` as HubSpot user `user_id`. The role (super admin
    or not) is read from HubSpot's users API now, unless given."""
    if role is None:
        role = portal_role_read(hub_id, user_id)
    request.session.cycle_key()  # a new session id on privilege change (session fixation)
    portals = dict(request.session.get(SESSION_KEY, {}))
    portals[str(hub_id)] = {
        "user_id": user_id,
        "email": email,
        "at": int(time.time()),
        "via": via,
        "role": role,
        "locale": locale,
    }
    request.session[SESSION_KEY] = portals


def portal_user(request: HttpRequest, hub_id: int) -> dict[str, Any] | None:
    entry = request.session.get(SESSION_KEY, {}).get(str(hub_id))
    if not entry or time.time() - entry.get("at", 0) > SESSION_HOURS * 3600:
        return None
    return entry
