"""Who may open a portal's settings: only a user HubSpot vouched for in that portal.

There is no password login for customers. Signing in is HubSpot's OAuth: HubSpot only lets users
who may install apps in the portal approve it, so a completed authorisation for hub X proves the
browser belongs to an admin of X. The proof is kept in the Django session (cookie: HttpOnly,
Secure in production, SameSite=Lax) for SESSION_HOURS.
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest

SESSION_KEY = "hubspot_portals"
SESSION_HOURS = 12


def portal_sign_in(request: HttpRequest, hub_id: int, user_id: int | None, email: str) -> None:
    request.session.cycle_key()  # a new session id on privilege change (session fixation)
    portals = dict(request.session.get(SESSION_KEY, {}))
    portals[str(hub_id)] = {"user_id": user_id, "email": email, "at": int(time.time())}
    request.session[SESSION_KEY] = portals


def portal_user(request: HttpRequest, hub_id: int) -> dict[str, Any] | None:
    entry = request.session.get(SESSION_KEY, {}).get(str(hub_id))
    if not entry or time.time() - entry.get("at", 0) > SESSION_HOURS * 3600:
        return None
    return entry
