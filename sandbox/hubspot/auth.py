"""Tokens and the checks every API call passes: Bearer token, portal installed, rate limits.

Limits (hubspot-api.md §7): 110 requests per rolling 10 s per installed account for OAuth apps,
search 5 requests/s, with X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds on answers
(no daily headers for OAuth apps, and none on search answers).
"""

from __future__ import annotations

import math
import os
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from sandbox.hubspot.http import ApiError, error_body, unauthorized

if TYPE_CHECKING:
    from sandbox.hubspot.app import Sandbox
    from sandbox.hubspot.routing import Ctx
    from sandbox.hubspot.store import Portal

ACCESS_TOKEN_TTL = 1800  # seconds (hubspot-api.md §1.2)
# HubSpot's limit; SANDBOX_HUBSPOT_RATE_LIMIT overrides it (e.g. for load tests of the sandbox).
RATE_LIMIT = int(os.environ.get("SANDBOX_HUBSPOT_RATE_LIMIT", "110"))
RATE_WINDOW_S = 10.0
SEARCH_LIMIT = 5
SEARCH_WINDOW_S = 1.0


def rate_headers(remaining: int) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Max": str(RATE_LIMIT),
        "X-HubSpot-RateLimit-Remaining": str(max(0, remaining)),
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(RATE_WINDOW_S * 1000)),
    }


def rate_limited_error(group: str | None, policy: str = "TEN_SECONDLY_ROLLING") -> ApiError:
    message = (
        "You have reached your ten_secondly_rolling limit."
        if policy == "TEN_SECONDLY_ROLLING"
        else "You have reached your secondly limit."
    )
    body = {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
    }
    if group:
        body["groupName"] = group
    headers = rate_headers(0) if policy == "TEN_SECONDLY_ROLLING" else {}
    return ApiError(429, body, headers)


def issue_tokens(
    sb: Sandbox,
    portal: Portal,
    user_id: int,
    scopes: list[str],
    *,
    refresh_token: str | None = None,
) -> dict[str, Any]:
    """A new access token (and a refresh token unless refreshing with one); installs the app."""
    store = sb.store
    now = sb.clock.now()
    app = store.app
    if refresh_token is None:
        refresh_token = f"na1-{uuid.uuid4().hex[:4]}-{uuid.uuid4()}"
        store.refresh_tokens[refresh_token] = {
            "token": refresh_token,
            "hub_id": portal.hub_id,
            "user_id": user_id,
            "scopes": list(scopes),
            "client_id": app["client_id"],
            "created_at": now,
            "revoked": False,
        }
    access = "C" + secrets.token_urlsafe(96)[:120]
    store.access_tokens[access] = {
        "token": access,
        "hub_id": portal.hub_id,
        "user_id": user_id,
        "scopes": list(scopes),
        "app_id": app["app_id"],
        "issued_at": now,
        "expires_at": now + ACCESS_TOKEN_TTL,
        "refresh_token": refresh_token,
    }
    portal.installed = True
    return {
        "token_type": "bearer",
        "refresh_token": refresh_token,
        "access_token": access,
        "expires_in": ACCESS_TOKEN_TTL,
    }


def token_state(sb: Sandbox, token: dict[str, Any]) -> tuple[bool, str]:
    """(usable, why not) for an access token."""
    portal = sb.store.portal(token["hub_id"])
    if portal is None or not portal.installed or token.get("revoked"):
        return False, "revoked"
    left = token["expires_at"] - sb.clock.now()
    if left <= 0:
        return False, f"expired {max(1, math.ceil(-left))} second(s) ago"
    return True, ""


def authenticate(ctx: Ctx) -> None:
    """Bearer token → ctx.token / ctx.portal, or 401 the way HubSpot words it."""
    header = ctx.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorized(
            "Authentication credentials not found. This API supports OAuth 2.0 authentication "
            "and you can find more details at https://developers.hubspot.com/docs/methods/auth/"
            "oauth-overview"
        )
    sb = ctx.sb
    with sb.store.lock:
        token = sb.store.access_tokens.get(value.strip())
        if token is None:
            raise unauthorized(
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at https://developers.hubspot.com/"
                "docs/methods/auth/oauth-overview"
            )
        usable, why = token_state(sb, token)
        if not usable:
            if why == "revoked":
                raise unauthorized(
                    f"The OAuth token used to make this call is no longer valid: the app is not "
                    f"installed in portal {token['hub_id']}.",
                )
            raise unauthorized(
                f"The OAuth token used to make this call {why}.", "EXPIRED_AUTHENTICATION"
            )
        ctx.token = token
        ctx.portal = sb.store.portal(token["hub_id"])


def group_name(ctx: Ctx) -> str:
    return f"publicapi:oauth:{ctx.sb.store.app['app_id']}:{ctx.portal.hub_id}"


def check_rate(ctx: Ctx, search: bool) -> dict[str, str]:
    """Count the call; the headers to send, or 429 with HubSpot's body."""
    sb = ctx.sb
    key = (ctx.portal.hub_id, sb.store.app["app_id"])
    if sb.faults.storming():
        raise rate_limited_error(group_name(ctx))
    if search:
        allowed, _remaining, _retry = sb.search_limiter.hit(key)
        if not allowed:
            raise rate_limited_error(None, "SECONDLY")
        return {}
    allowed, remaining, _retry = sb.limiter.hit(key)
    if not allowed:
        raise rate_limited_error(group_name(ctx))
    return rate_headers(remaining)


def hapikey_or_bearer(ctx: Ctx) -> None:
    """Workflow-action definitions: the developer API key (?hapikey=, legacy v4 docs) or a
    Bearer token with the automation scope (date-versioned docs)."""
    key = ctx.request.args.get("hapikey")
    if key is not None:
        if key != ctx.sb.store.app["developer_api_key"]:
            raise ApiError(
                401,
                error_body(
                    "The API key provided is invalid. View or manage your API key here: "
                    "https://app.hubspot.com/l/api-key/",
                    "INVALID_AUTHENTICATION",
                ),
            )
        return
    authenticate(ctx)
    ctx.require_scopes("automation")
