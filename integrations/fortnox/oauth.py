"""Fortnox's OAuth 2 server (apps.fortnox.se), through authlib (integrations/oauth.py).

Client authentication is HTTP Basic (fortnox-api.md §1.2). Refresh tokens are single-use (§1.4):
callers must go through `integrations.fortnox.tokens`, which serialises refreshes per connection.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.requests_client import OAuthError
from django.conf import settings
from django.utils.translation import gettext as _

from integrations import deadline
from integrations.fortnox.errors import FortnoxNeedsReconnect, FortnoxUnavailable
from integrations.oauth import TOKEN_TIMEOUT_S, OAuthProvider, token_call

# What the features need (issue: companyinformation, customer, article, invoice, order, price,
# settings for units and terms of payment, currency).
FORTNOX_SCOPES = (
    "companyinformation",
    "customer",
    "article",
    "invoice",
    "order",
    "price",
    "settings",
    "currency",
)


#: Where the web layer keeps a pending consent's state in the session: one key, since a Fortnox
#: app registers one redirect URI, shared by a portal's connection and the vendor's own company.
SESSION_STATE_KEY = "fortnox_oauth_state"


def redirect_uri() -> str:
    return f"{settings.PUBLIC_BASE_URL}/fortnox/oauth/callback"


def _refused(exc: OAuthError) -> FortnoxNeedsReconnect:
    # invalid_grant: used, expired or revoked refresh token / code; invalid_client: our
    # credentials. Either way only a new consent helps (recorded: authentication/*.yml).
    return FortnoxNeedsReconnect(
        _("Fortnox no longer accepts the app's authorisation."),
        fix=_("Reconnect Fortnox in the app's settings."),
        code=exc.error,
        service_message=exc.description or "",
    )


def provider() -> OAuthProvider:
    return OAuthProvider(
        service="Fortnox",
        client_id=settings.FORTNOX_CLIENT_ID,
        client_secret=settings.FORTNOX_CLIENT_SECRET,
        token_url=f"{settings.FORTNOX_AUTH_BASE}/oauth-v1/token",
        redirect_uri=redirect_uri(),
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        refused=_refused,
        unavailable_error=FortnoxUnavailable,
    )


def authorization_url(state: str) -> str:
    url, _state = (
        provider()
        .session(" ".join(FORTNOX_SCOPES))
        .create_authorization_url(
            f"{settings.FORTNOX_AUTH_BASE}/oauth-v1/auth", state=state, access_type="offline"
        )
    )
    return url


def exchange_code(code: str) -> dict[str, Any]:
    return token_call(provider(), "authorization_code", code=code)


def refresh(refresh_token: str) -> dict[str, Any]:
    return token_call(provider(), "refresh_token", refresh_token=refresh_token)


def revoke(refresh_token: str) -> bool:
    """Revoke a refresh token; False when Fortnox did not confirm (the caller forgets it anyway)."""
    try:
        response = (
            provider()
            .session()
            .revoke_token(
                f"{settings.FORTNOX_AUTH_BASE}/oauth-v1/revoke",
                refresh_token,
                token_type_hint="refresh_token",
                timeout=deadline.timeout_bounded(TOKEN_TIMEOUT_S),
            )
        )
    except requests.RequestException:
        return False
    return response.status_code == 200
