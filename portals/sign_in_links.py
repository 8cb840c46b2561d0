"""Way 2 into the settings page: a short-lived, single-use sign-in link.

The service mints one in answer to a signed `hubspot.fetch` from the settings component or the
app card (portals/views_sign_in.py), for the HubSpot user and portal named in that signed
request. Only a SHA-256 hash of the token is stored; redeeming it marks it used under a row
lock, so two clicks on one link sign in once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from integrations.models import HubSpotInstallation
from portals.models import SignInLink

LINK_TTL = timedelta(minutes=5)
# Spent links are kept a day (support can see one was used), then dropped when the next is made.
SPENT_LINKS_KEPT = timedelta(days=1)
TOKEN_BYTES = 32


class SignInLinkRefused(Exception):
    """Why a link does not sign in: "unknown", "used", "expired" or "uninstalled"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in_link_mint(
    installation: HubSpotInstallation, *, user_id: int, email: str = "", locale: str = ""
) -> str:
    """A new link's token (shown once, never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    SignInLink.objects.filter(expires_at__lt=now - SPENT_LINKS_KEPT).delete()
    SignInLink.objects.create(
        token_hash=_hash(token),
        installation=installation,
        user_id=user_id,
        email=email,
        locale=locale,
        created_at=now,
        expires_at=now + LINK_TTL,
    )
    return token


def sign_in_link_redeem(token: str) -> SignInLink:
    """Mark the link used and return it; raises SignInLinkRefused when it cannot sign in."""
    with transaction.atomic():
        link = (
            SignInLink.objects.select_for_update()
            .select_related("installation")
            .filter(token_hash=_hash(token))
            .first()
        )
        if link is None:
            raise SignInLinkRefused("unknown")
        if link.used_at is not None:
            raise SignInLinkRefused("used")
        if link.expires_at <= timezone.now():
            raise SignInLinkRefused("expired")
        if not link.installation.is_active:
            raise SignInLinkRefused("uninstalled")
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
    return link
