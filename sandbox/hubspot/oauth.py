"""HubSpot's OAuth as the app sees it (hubspot-api.md §1, §6).

- GET /oauth/authorize (app.hubspot.com): checks client_id, redirect_uri and scopes, shows a
  consent page (choose a portal); `&sandbox_portal=<hub id>` consents at once and redirects to
  `redirect_uri?code=…&state=…` (`&sandbox_user=<id>` consents as that user: refused unless
  a super admin or with Marketplace Access, sandbox/hubspot/users.py). A problem with the
  request itself (unknown client, redirect_uri not configured, required scope missing) is an
  error page, never a redirect.
- POST /oauth/v1/token (form body): authorization_code and refresh_token grants. Refresh tokens
  are reusable; after an uninstall (or DELETE of the refresh token) they are refused with
  400 {"status":"BAD_REFRESH_TOKEN","message":"missing or unknown refresh token",...}.
- GET /oauth/v1/access-tokens/{t}, GET/DELETE /oauth/v1/refresh-tokens/{t},
  DELETE /appinstalls/v3/external-install.
"""

from __future__ import annotations

import html
import secrets
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Response

from sandbox.hubspot.auth import issue_tokens, token_state
from sandbox.hubspot.http import ApiError, error_body, json_response
from sandbox.hubspot.routing import Route
from sandbox.hubspot.users import may_install

if TYPE_CHECKING:
    from sandbox.hubspot.routing import Ctx

CODE_TTL_S = 600


def _oauth_error(status_code: str, message: str, http_status: int = 400) -> ApiError:
    return ApiError(
        http_status,
        {"status": status_code, "message": message, "correlationId": str(uuid.uuid4())},
    )


def _page(title: str, body: str, status: int = 200, headers: dict | None = None) -> Response:
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>{body}"
        "</body></html>"
    )
    return Response(page, status=status, mimetype="text/html", headers=headers)


def _error_page(code: str, message: str) -> Response:
    return _page(
        "Couldn't complete the connection",
        f"<p class='error' data-error='{html.escape(code)}'>{html.escape(message)}</p>",
        400,
        {"X-HubSpot-Sandbox-Error": code},
    )


def allowed_redirect_uris(app: dict[str, Any]) -> list[str]:
    if app.get("redirect_uri"):
        return [app["redirect_uri"]]
    base = app.get("public_base_url")
    urls = []
    for url in app.get("redirect_urls", []):
        if "${PUBLIC_BASE_URL}" in url:
            if not base:
                continue
            url = url.replace("${PUBLIC_BASE_URL}", base.rstrip("/"))
        urls.append(url)
    return urls


def _scopes(raw: str | None) -> list[str]:
    return [s for s in (raw or "").replace("+", " ").split() if s]


def check_authorize(app: dict[str, Any], args: Any) -> tuple[str, str] | None:
    """(error code, message) for an authorize request HubSpot would refuse, else None."""
    if args.get("client_id") != app["client_id"]:
        return "invalid_client", "The client_id in the install URL is not a known app."
    redirect_uri = args.get("redirect_uri") or ""
    allowed = allowed_redirect_uris(app)
    if not redirect_uri or urlsplit(redirect_uri).scheme not in ("http", "https"):
        return "invalid_redirect_uri", "The install URL has no valid redirect_uri."
    if allowed and redirect_uri not in allowed:
        return (
            "invalid_redirect_uri",
            f"The redirect_uri {redirect_uri} does not match the app's redirect URLs.",
        )
    requested = set(_scopes(args.get("scope")))
    optional = set(_scopes(args.get("optional_scope")))
    required = set(app["required_scopes"]) - {"oauth"}  # oauth is added by default (§1.5)
    configured = set(app["required_scopes"]) | set(app["optional_scopes"]) | {"oauth"}
    missing = sorted(required - requested)
    if missing:
        return (
            "invalid_scope",
            "Authorization failed because there is a mismatch between the scopes in the install "
            "URL and the app's configured scopes. Missing required scopes: " + ", ".join(missing),
        )
    unknown = sorted((requested | optional) - configured)
    if unknown:
        return (
            "invalid_scope",
            "Authorization failed because there is a mismatch between the scopes in the install "
            "URL and the app's configured scopes. Scopes the app does not have: "
            + ", ".join(unknown),
        )
    return None


def grant_code(ctx_sb, hub_id: int, user_id: int | None, args: Any) -> str:
    """Consent: a one-time code for portal `hub_id` (caller holds the lock)."""
    store = ctx_sb.store
    app = store.app
    portal = store.portal(hub_id)
    optional = [s for s in _scopes(args.get("optional_scope")) if s not in portal.withheld_scopes]
    scopes = ["oauth", *_scopes(args.get("scope")), *optional]
    code = str(uuid.uuid4())
    store.codes[code] = {
        "code": code,
        "hub_id": portal.hub_id,
        "user_id": int(portal.user(user_id)["id"]),
        "scopes": list(dict.fromkeys(scopes)),
        "redirect_uri": args.get("redirect_uri"),
        "client_id": app["client_id"],
        "expires_at": ctx_sb.clock.now() + CODE_TTL_S,
        "used": False,
    }
    return code


def _redirect(uri: str, params: dict[str, str]) -> Response:
    sep = "&" if urlsplit(uri).query else "?"
    return Response(status=302, headers={"Location": f"{uri}{sep}{urlencode(params)}"})


def authorize(ctx: Ctx, hub: int | None = None):
    sb = ctx.sb
    args = ctx.request.args
    with sb.store.lock:
        problem = check_authorize(sb.store.app, args)
        if problem:
            return _error_page(*problem)
        state = {"state": args["state"]} if args.get("state") is not None else {}
        if args.get("sandbox_deny"):
            return _redirect(
                args["redirect_uri"],
                {
                    "error": "access_denied",
                    "error_description": "The user declined to connect the app.",
                    **state,
                },
            )
        chosen = args.get("sandbox_portal")
        if chosen is not None:
            if sb.store.portal(chosen) is None:
                return _error_page("invalid_portal", f"There is no HubSpot account {chosen}.")
            user = args.get("sandbox_user")
            consenting = sb.store.portal(chosen).user(int(user) if user else None)
            if not may_install(consenting):
                # HubSpot lets only super admins and users with Marketplace Access install
                # (hubspot-api.md third addendum §1); the exact page is a guess (README).
                return _error_page(
                    "insufficient_permissions",
                    f"{consenting['email']} cannot install apps in this HubSpot account. Only "
                    "super admins and users with Marketplace Access permissions can.",
                )
            code = grant_code(sb, int(chosen), int(user) if user else None, args)
            return _redirect(args["redirect_uri"], {"code": code, **state})
        portals = [sb.store.portal(hub)] if hub is not None else list(sb.store.portals.values())
        portals = [p for p in portals if p is not None]
    query = ctx.request.query_string.decode()
    # One link per portal (as its first user) and one per user: who consents matters.
    rows = "".join(
        f"<li><a class='choose' href='?{html.escape(query)}&amp;sandbox_portal={p.hub_id}'>"
        f"{html.escape(p.name)} ({p.hub_id})</a><ul>"
        + "".join(
            f"<li><a class='choose-user' href='?{html.escape(query)}&amp;sandbox_portal="
            f"{p.hub_id}&amp;sandbox_user={u['id']}'>as {html.escape(u['email'])}</a></li>"
            for u in p.users
        )
        + "</ul></li>"
        for p in portals
    )
    app_name = html.escape(sb.store.app.get("name", "the app"))
    scope_list = "".join(
        f"<li>{html.escape(s)}</li>"
        for s in _scopes(args.get("scope")) + _scopes(args.get("optional_scope"))
    )
    return _page(
        f"Connect {app_name} to HubSpot",
        f"<p>Choose an account:</p><ul>{rows}</ul><p>The app asks for:</p><ul>{scope_list}</ul>"
        f"<p><a class='deny' href='?{html.escape(query)}&amp;sandbox_deny=1'>Cancel</a></p>",
    )


def token(ctx: Ctx):
    sb = ctx.sb
    form = ctx.request.form
    grant = form.get("grant_type") or ""
    with sb.store.lock:
        store = sb.store
        store.token_calls[grant or "none"] = store.token_calls.get(grant or "none", 0) + 1
        try:
            return _token(ctx, form, grant), 200
        except ApiError:
            store.token_refused[grant or "none"] = store.token_refused.get(grant or "none", 0) + 1
            raise


def _token(ctx: Ctx, form: Any, grant: str) -> dict[str, Any]:
    sb = ctx.sb
    store = sb.store
    app = store.app
    if grant not in ("authorization_code", "refresh_token"):
        raise _oauth_error("BAD_GRANT_TYPE", "missing or unknown grant type")
    if form.get("client_id") != app["client_id"]:
        raise _oauth_error("BAD_CLIENT_ID", "missing or unknown client id")
    if form.get("client_secret") != app["client_secret"]:
        raise _oauth_error("BAD_CLIENT_SECRET", "missing or invalid client secret")
    if grant == "authorization_code":
        code = store.codes.get(form.get("code") or "")
        if code is None or code["used"]:
            raise _oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
        if code["expires_at"] < sb.clock.now():
            raise _oauth_error("BAD_AUTH_CODE", "auth code is expired")
        if form.get("redirect_uri") != code["redirect_uri"]:
            raise _oauth_error(
                "BAD_REDIRECT_URI", "redirect_uri does not match initial authorization request"
            )
        code["used"] = True
        portal = store.portal(code["hub_id"])
        return issue_tokens(sb, portal, code["user_id"], code["scopes"])
    refresh = store.refresh_tokens.get(form.get("refresh_token") or "")
    portal = store.portal(refresh["hub_id"]) if refresh else None
    if refresh is None or refresh["revoked"] or portal is None:
        raise _oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
    return issue_tokens(
        sb, portal, refresh["user_id"], refresh["scopes"], refresh_token=refresh["token"]
    )


def access_token_info(ctx: Ctx, value: str):
    sb = ctx.sb
    with sb.store.lock:
        tok = sb.store.access_tokens.get(value)
        if tok is None:
            raise ApiError(404, error_body("Token not found", "OBJECT_NOT_FOUND"))
        usable, why = token_state(sb, tok)
        if not usable:
            if why == "revoked":
                raise ApiError(404, error_body("Token not found", "OBJECT_NOT_FOUND"))
            raise ApiError(
                401,
                error_body(
                    f"The OAuth token used to make this call {why}.", "EXPIRED_AUTHENTICATION"
                ),
            )
        portal = sb.store.portal(tok["hub_id"])
        user = portal.user(tok["user_id"])
        expires_in = int(tok["expires_at"] - sb.clock.now())
        return {
            "token": tok["token"],
            "user": user["email"],
            "hub_domain": portal.domain,
            "scopes": tok["scopes"],
            "signed_access_token": {
                "expiresAt": int(tok["expires_at"] * 1000),
                "scopes": secrets.token_urlsafe(8),
                "hubId": portal.hub_id,
                "userId": tok["user_id"],
                "appId": tok["app_id"],
                "signature": secrets.token_urlsafe(20),
                "hublet": "na1",
                "isUserLevel": False,
                "installingUserId": tok["user_id"],
                "isServiceAccount": False,
                "isPrivateDistribution": False,
            },
            "hub_id": portal.hub_id,
            "app_id": tok["app_id"],
            "expires_in": expires_in,
            "user_id": tok["user_id"],
            "token_type": "access",
            "is_private_distribution": False,
        }


def refresh_token_info(ctx: Ctx, value: str):
    with ctx.sb.store.lock:
        ref = ctx.sb.store.refresh_tokens.get(value)
        if ref is None or ref["revoked"]:
            raise ApiError(404, error_body("refresh token not found", "OBJECT_NOT_FOUND"))
        portal = ctx.sb.store.portal(ref["hub_id"])
        return {
            "token": ref["token"],
            "user": portal.user(ref["user_id"])["email"],
            "hub_domain": portal.domain,
            "scopes": ref["scopes"],
            "hub_id": portal.hub_id,
            "client_id": ref["client_id"],
            "user_id": ref["user_id"],
            "token_type": "refresh",
        }


def refresh_token_delete(ctx: Ctx, value: str):
    """Deletes the refresh token only: access tokens stay valid, the app stays installed."""
    with ctx.sb.store.lock:
        ref = ctx.sb.store.refresh_tokens.get(value)
        if ref is None or ref["revoked"]:
            raise ApiError(404, error_body("refresh token not found", "OBJECT_NOT_FOUND"))
        ref["revoked"] = True
    return json_response(None, 204)


def external_uninstall(ctx: Ctx):
    ctx.require_scopes("oauth")
    with ctx.sb.store.lock:
        ctx.sb.uninstall(ctx.portal)
    return json_response(None, 204)


def routes() -> list[Route]:
    return [
        Route("/oauth/authorize", ["GET"], authorize, "public"),
        Route("/oauth/<int:hub>/authorize", ["GET"], authorize, "public"),
        Route("/oauth/v1/token", ["POST"], token, "public"),
        Route("/oauth/v1/access-tokens/<value>", ["GET"], access_token_info, "public"),
        Route("/oauth/v1/refresh-tokens/<value>", ["GET"], refresh_token_info, "public"),
        Route("/oauth/v1/refresh-tokens/<value>", ["DELETE"], refresh_token_delete, "public"),
        Route("/appinstalls/v3/external-install", ["DELETE"], external_uninstall, "api"),
    ]
