"""Fortnox's OAuth 2 server (apps.fortnox.se), through authlib.

Client authentication is HTTP Basic (fortnox-api.md §1.2). Refresh tokens are single-use (§1.4):
callers must go through `integrations.fortnox.tokens`, which serialises refreshes per connection.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from django.conf import settings

from integrations.fortnox.errors import FortnoxNeedsReconnect, FortnoxUnavailable

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
TOKEN_TIMEOUT_S = (5, 20)


def redirect_uri() -> str:
    return f"{settings.PUBLIC_BASE_URL}/fortnox/oauth/callback"


def _session(scope: str | None = None) -> OAuth2Session:
    # The scope goes only on the consent URL: authlib would add it to refresh requests too.
    return OAuth2Session(
        client_id=settings.FORTNOX_CLIENT_ID,
        client_secret=settings.FORTNOX_CLIENT_SECRET,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        redirect_uri=redirect_uri(),
        scope=scope,
    )


def authorization_url(state: str) -> str:
    url, _state = _session(" ".join(FORTNOX_SCOPES)).create_authorization_url(
        f"{settings.FORTNOX_AUTH_BASE}/oauth-v1/auth", state=state, access_type="offline"
    )
    return url


def _token_call(grant_type: str, **kwargs: Any) -> dict[str, Any]:
    session = _session()
    url = f"{settings.FORTNOX_AUTH_BASE}/oauth-v1/token"
    try:
        if grant_type == "refresh_token":
            token = session.refresh_token(url, timeout=TOKEN_TIMEOUT_S, **kwargs)
        else:
            token = session.fetch_token(
                url, grant_type=grant_type, timeout=TOKEN_TIMEOUT_S, **kwargs
            )
        return dict(token)
    except OAuthError as exc:
        # invalid_grant: used, expired or revoked refresh token / code; invalid_client: our
        # credentials. Either way only a new consent helps (recorded: authentication/*.yml).
        raise FortnoxNeedsReconnect(
            "Fortnox no longer accepts the app's authorisation.",
            fix="Reconnect Fortnox in the app's settings.",
            code=exc.error,
            service_message=exc.description or "",
        ) from None
    except (requests.RequestException, ValueError) as exc:
        raise FortnoxUnavailable(
            "Fortnox's sign-in service did not answer.",
            fix="Wait a few minutes and try again.",
            service_message=type(exc).__name__,
        ) from None


def exchange_code(code: str) -> dict[str, Any]:
    return _token_call(grant_type="authorization_code", code=code)


def refresh(refresh_token: str) -> dict[str, Any]:
    return _token_call(grant_type="refresh_token", refresh_token=refresh_token)


def revoke(refresh_token: str) -> bool:
    """Revoke a refresh token; False when Fortnox did not confirm (the caller forgets it anyway)."""
    try:
        response = _session().revoke_token(
            f"{settings.FORTNOX_AUTH_BASE}/oauth-v1/revoke",
            refresh_token,
            token_type_hint="refresh_token",
            timeout=TOKEN_TIMEOUT_S,  # noqa: S106
        )
    except requests.RequestException:
        return False
    return response.status_code == 200
