"""Fortnox's OAuth host (apps.fortnox.se/oauth-v1): consent page, token and revoke endpoints.

Recorded answers (fortnox-recordings/authentication): a used or unknown refresh token gets 400
text/html {"error":"invalid_grant","error_description":"Invalid refresh token"}; bad client
credentials get 401 text/plain {"error":"invalid_client",...}.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import secrets
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from sandbox.fortnox.schema import ALL_SCOPES

ACCESS_TTL = 3600
REFRESH_TTL = 45 * 24 * 3600
CODE_TTL = 600

INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "The client credentials are invalid",
}
INVALID_REFRESH = {"error": "invalid_grant", "error_description": "Invalid refresh token"}
INVALID_CODE = {"error": "invalid_grant", "error_description": "Invalid authorization code"}

TEXT_PLAIN = "text/plain;charset=UTF-8"
TEXT_HTML = "text/html; charset=UTF-8"
JSON = "application/json"

_SECRET = secrets.token_bytes(32)


class Reply:
    """An HTTP answer: status, content type, body (bytes/str/JSON-able), extra headers."""

    def __init__(
        self,
        status: int,
        body: Any,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
        company: str | None = None,
        client_id: str | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}
        self.company = company
        self.client_id = client_id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped opaque token (Fortnox's are JWTs); the sandbox looks tokens up, it never
    trusts the claims, but they carry the tenant for anyone who decodes them."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(_SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(sig)}"


class OAuth:
    def __init__(self, store, clock, stats) -> None:
        self.store = store
        self.clock = clock
        self.stats = stats  # dict, reset with the sandbox

    # -- tokens ------------------------------------------------------------------------------
    def issue(self, company_id: str, client_id: str, scopes: list[str], grant: str | None = None):
        """A new token pair; grant ties the chain of refreshes of one consent together."""
        store = self.store
        now = self.clock.time()
        company = store.company(company_id)
        grant = grant or uuid.uuid4().hex
        access = make_jwt(
            {
                "iss": "https://apps.fortnox.se/oauth-v1",
                "sub": f"sandbox-user-{company_id}",
                "clientId": client_id,
                "tenantId": company["database_number"],
                "companyId": company_id,
                "scope": " ".join(scopes),
                "iat": int(now),
                "exp": int(now + ACCESS_TTL),
                "jti": uuid.uuid4().hex,
            }
        )
        refresh = str(uuid.uuid4())
        with store.lock:
            store.state["access_tokens"][access] = {
                "company": company_id,
                "client_id": client_id,
                "scopes": scopes,
                "expires_at": now + ACCESS_TTL,
                "grant": grant,
                "revoked": False,
            }
            store.state["refresh_tokens"][refresh] = {
                "company": company_id,
                "client_id": client_id,
                "scopes": scopes,
                "expires_at": now + REFRESH_TTL,
                "grant": grant,
                "used": False,
                "revoked": False,
            }
        return {
            "access_token": access,
            "expires_in": ACCESS_TTL,
            "token_type": "bearer",
            "scope": " ".join(scopes),
            "refresh_token": refresh,
        }

    def check_access(self, token: str) -> dict | None:
        info = self.store.state["access_tokens"].get(token)
        if info is None or info["revoked"] or info["expires_at"] <= self.clock.time():
            return None
        return info

    def revoke_grant(self, grant: str) -> int:
        n = 0
        with self.store.lock:
            for table in ("access_tokens", "refresh_tokens"):
                for info in self.store.state[table].values():
                    if info["grant"] == grant and not info["revoked"]:
                        info["revoked"] = True
                        n += 1
        return n

    def revoke_company(self, company_id: str) -> int:
        n = 0
        with self.store.lock:
            for table in ("access_tokens", "refresh_tokens"):
                for info in self.store.state[table].values():
                    if info["company"] == company_id and not info["revoked"]:
                        info["revoked"] = True
                        n += 1
        return n

    def expire_access_tokens(self) -> int:
        now = self.clock.time()
        with self.store.lock:
            for info in self.store.state["access_tokens"].values():
                info["expires_at"] = min(info["expires_at"], now)
            return len(self.store.state["access_tokens"])

    def granted_scopes(self, company: dict, requested: list[str]) -> list[str]:
        allowed = set(company.get("scopes_allowed") or ALL_SCOPES)
        out: list[str] = []
        for scope in requested:
            if scope in allowed and scope not in out:
                out.append(scope)
        return out

    # -- client authentication ---------------------------------------------------------------
    def basic_client(self, authorization: str | None) -> dict | None:
        """Fortnox documents HTTP Basic only; credentials in the body are not accepted."""
        if not authorization or not authorization.lower().startswith("basic "):
            return None
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        client_id, _, secret = raw.partition(":")
        client = self.store.client(client_id)
        if client is None or not hmac.compare_digest(client["client_secret"], secret):
            return None
        return client

    # -- /oauth-v1/auth ----------------------------------------------------------------------
    def authorize(self, args: dict[str, str], base: str) -> Reply:
        client = self.store.client(args.get("client_id", ""))
        if client is None:
            return error_page("Error: Auth code or ClientID supplied is invalid")
        redirect = args.get("redirect_uri") or ""
        registered = client["redirect_uris"]
        if redirect and registered and redirect not in registered:
            return error_page("Error: redirect_uri does not match the registered Redirect URI")
        if not redirect:
            if not registered:
                return error_page("Error: redirect_uri is missing")
            redirect = registered[0]
        if args.get("response_type") != "code":
            return error_page("Error: response_type must be code")
        requested = (args.get("scope") or "").split()
        if not requested:
            return error_page("Error: scope is missing")
        unknown = [s for s in requested if s not in ALL_SCOPES]
        if unknown:
            return error_page(f"Error: invalid scope {html.escape(' '.join(unknown))}")
        if args.get("account_type") and args["account_type"].lower() == "service":
            return error_page("Error: Client does not allow service account")
        decision = args.get("sandbox_consent") or args.get("decision")
        company_id = args.get("sandbox_company") or args.get("company")
        if decision == "deny":
            return self._deny(args, redirect, client["client_id"])
        if company_id:
            company = self.store.company(company_id)
            if company is None:
                return error_page(f"Error: no such sandbox company {html.escape(company_id)}")
            return self._consent(args, redirect, client["client_id"], company)
        return self._consent_page(args, client, base)

    def _redirect(self, redirect: str, params: dict[str, str], **kw) -> Reply:
        parts = urlsplit(redirect)
        query = parts.query + ("&" if parts.query else "") + urlencode(params)
        location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        return Reply(302, "", TEXT_HTML, {"Location": location}, **kw)

    def _deny(self, args: dict[str, str], redirect: str, client_id: str) -> Reply:
        params = {
            "error": "access_denied",
            "error_description": "The user denied the authorization request",
        }
        if args.get("state") is not None:
            params["state"] = args["state"]
        return self._redirect(redirect, params, client_id=client_id)

    def _consent(self, args: dict[str, str], redirect: str, client_id: str, company: dict) -> Reply:
        scopes = self.granted_scopes(company, (args.get("scope") or "").split())
        code = secrets.token_urlsafe(24)
        with self.store.lock:
            self.store.state["codes"][code] = {
                "client_id": client_id,
                "redirect_uri": args.get("redirect_uri") or None,
                "company": company["id"],
                "scopes": scopes,
                "expires_at": self.clock.time() + CODE_TTL,
                "used": False,
            }
        params = {"code": code}
        if args.get("state") is not None:
            params["state"] = args["state"]
        return self._redirect(redirect, params, company=company["id"], client_id=client_id)

    def _consent_page(self, args: dict[str, str], client: dict, base: str) -> Reply:
        keep = {
            k: v for k, v in args.items() if k not in ("company", "decision", "sandbox_company")
        }
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in keep.items()
        )
        forms = []
        for company in self.store.companies.values():
            forms.append(
                f'<form method="post" action="{base}/oauth-v1/auth/consent" class="company">'
                f"{hidden}"
                f'<input type="hidden" name="company" value="{html.escape(company["id"])}">'
                f"<h2>{html.escape(company['name'])}</h2>"
                f"<p>Org.nr {html.escape(company['organisation_number'])} · "
                f"databas {company['database_number']} · licenser "
                f"{html.escape(', '.join(company['licences']))}</p>"
                f'<button type="submit" name="decision" value="allow" '
                f'id="allow-{html.escape(company["id"])}">Godkänn för '
                f"{html.escape(company['name'])}</button></form>"
            )
        deny = (
            f'<form method="post" action="{base}/oauth-v1/auth/consent">{hidden}'
            '<button type="submit" name="decision" value="deny" id="deny">Neka</button></form>'
        )
        scopes = html.escape(args.get("scope", ""))
        page = (
            "<!doctype html><html lang=sv><head><meta charset=utf-8>"
            "<title>Fortnox (sandbox) – Godkänn integration</title></head><body>"
            f"<h1>Integrationen {html.escape(client['client_id'])} vill få åtkomst</h1>"
            f"<p>Behörigheter: <code>{scopes}</code></p>"
            f"<p>Välj företag:</p>{''.join(forms)}{deny}</body></html>"
        )
        return Reply(200, page, TEXT_HTML, client_id=client["client_id"])

    # -- /oauth-v1/token ---------------------------------------------------------------------
    def token(self, authorization: str | None, form: dict[str, str]) -> Reply:
        grant_type = form.get("grant_type", "")
        reply = self._token(authorization, form, grant_type)
        with self.store.lock:
            calls = self.stats["token_calls"]
            if grant_type in calls:
                calls[grant_type] += 1
            if reply.status != 200:
                self.stats["refused"] += 1
        return reply

    def _token(self, authorization: str | None, form: dict[str, str], grant_type: str) -> Reply:
        client = self.basic_client(authorization)
        if client is None:
            return Reply(401, INVALID_CLIENT, TEXT_PLAIN)
        client_id = client["client_id"]
        now = self.clock.time()
        with self.store.lock:
            if grant_type == "authorization_code":
                code = self.store.state["codes"].get(form.get("code", ""))
                if (
                    code is None
                    or code["used"]
                    or code["expires_at"] <= now
                    or code["client_id"] != client_id
                ):
                    return Reply(400, INVALID_CODE, TEXT_HTML, client_id=client_id)
                if code["redirect_uri"] and form.get("redirect_uri") != code["redirect_uri"]:
                    return Reply(
                        400,
                        {"error": "invalid_grant", "error_description": "Invalid redirect uri"},
                        TEXT_HTML,
                        client_id=client_id,
                    )
                code["used"] = True
                body = self.issue(code["company"], client_id, code["scopes"])
                return Reply(200, body, company=code["company"], client_id=client_id)
            if grant_type == "refresh_token":
                info = self.store.state["refresh_tokens"].get(form.get("refresh_token", ""))
                if (
                    info is None
                    or info["used"]
                    or info["revoked"]
                    or info["expires_at"] <= now
                    or info["client_id"] != client_id
                ):
                    company = info["company"] if info else None
                    return Reply(
                        400, INVALID_REFRESH, TEXT_HTML, company=company, client_id=client_id
                    )
                info["used"] = True
                body = self.issue(info["company"], client_id, info["scopes"], info["grant"])
                return Reply(200, body, company=info["company"], client_id=client_id)
        return Reply(
            400,
            {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"},
            TEXT_HTML,
            client_id=client_id,
        )

    # -- /oauth-v1/revoke --------------------------------------------------------------------
    def revoke(self, authorization: str | None, form: dict[str, str]) -> Reply:
        client = self.basic_client(authorization)
        if client is None:
            return Reply(401, INVALID_CLIENT, TEXT_PLAIN)
        token = form.get("token", "")
        hint = form.get("token_type_hint") or "refresh_token"
        state = self.store.state
        company = None
        with self.store.lock:
            tables = ["refresh_tokens", "access_tokens"]
            if hint == "access_token":
                tables.reverse()
            for table in tables:
                info = state[table].get(token)
                if info is not None and info["client_id"] == client["client_id"]:
                    company = info["company"]
                    if self.revoke_grant(info["grant"]):
                        self.stats["revoked"] += 1
                    break
        return Reply(200, {"revoked": True}, company=company, client_id=client["client_id"])


def error_page(message: str, status: int = 400) -> Reply:
    page = (
        "<!doctype html><html><head><meta charset=utf-8><title>Fortnox (sandbox)</title></head>"
        f"<body><h1>Fortnox</h1><p class=error>{message}</p></body></html>"
    )
    return Reply(status, page, TEXT_HTML)
