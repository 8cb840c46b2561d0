"""HubSpot's OAuth (authorize on app.hubspot.com, tokens on api.hubapi.com), through authlib
(integrations/oauth.py).

Client authentication is in the form body (hubspot-api.md §1.2). HubSpot answers a refused
refresh with HTTP 400 and `status: BAD_REFRESH_TOKEN`, sometimes without an OAuth `error` field
(hubspot-api.md Addendum §6): a compliance hook turns that into a proper OAuth error.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from authlib.integrations.requests_client import OAuthError
from django.conf import settings

from integrations.hubspot.errors import HubSpotUnavailable, HubSpotUninstalled
from integrations.hubspot.scopes import optional_scopes, required_scopes
from integrations.oauth import OAuthProvider, token_call


def redirect_uri() -> str:
    return f"{settings.PUBLIC_BASE_URL}/hubspot/oauth/callback"


def _bad_refresh_token_as_error(response: requests.Response) -> requests.Response:
    if response.status_code == 400:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if isinstance(body, dict) and "error" not in body:
            body = {
                "error": "invalid_grant",
                "error_description": body.get("message") or body.get("status") or "refused",
            }
            response._content = json.dumps(body).encode()
    return response


def _refused(exc: OAuthError) -> HubSpotUninstalled:
    return HubSpotUninstalled(
        "HubSpot no longer accepts the app's authorisation for this portal: the app was "
        "uninstalled (or its access was removed).",
        fix="Install the app again from HubSpot's marketplace.",
        code=exc.error,
        service_message=exc.description or "",
    )


def provider() -> OAuthProvider:
    return OAuthProvider(
        service="HubSpot",
        client_id=settings.HUBSPOT_CLIENT_ID,
        client_secret=settings.HUBSPOT_CLIENT_SECRET,
        token_url=f"{settings.HUBSPOT_API_BASE}/oauth/v1/token",
        redirect_uri=redirect_uri(),
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name)
        refused=_refused,
        unavailable_error=HubSpotUnavailable,
        compliance_hooks={
            "refresh_token_response": _bad_refresh_token_as_error,
            "access_token_response": _bad_refresh_token_as_error,
        },
    )


def authorization_url(state: str) -> str:
    url, _state = (
        provider()
        .session()
        .create_authorization_url(
            f"{settings.HUBSPOT_APP_BASE}/oauth/authorize",
            state=state,
            scope=" ".join(required_scopes()),
            optional_scope=" ".join(optional_scopes()),
        )
    )
    return url


def exchange_code(code: str) -> dict[str, Any]:
    return token_call(provider(), "authorization_code", code=code)


def refresh(refresh_token: str) -> dict[str, Any]:
    return token_call(provider(), "refresh_token", refresh_token=refresh_token)
