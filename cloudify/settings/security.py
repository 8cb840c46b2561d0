"""HTTPS, cookies, proxies, response headers, and the keys that encrypt tokens at rest."""

from __future__ import annotations

from csp.constants import NONCE, NONE, SELF

from cloudify.env import env

# Behind a TLS-terminating proxy (the docker compose deploy, any PaaS) the request reaches us
# over plain HTTP; trust X-Forwarded-Proto only when told the proxy sets it.
if env.bool("TRUST_PROXY_HEADERS", env.is_production):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SESSION_COOKIE_SECURE = env.is_production
CSRF_COOKIE_SECURE = env.is_production
SESSION_COOKIE_HTTPONLY = True
# HubSpot's OAuth redirect is a top-level cross-site navigation: Lax keeps the session cookie,
# so the install state can be checked against it.
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# HSTS: browsers reach the service over https only, for this long after a visit (sent on https
# responses only, so plain-http development never sees it). One year is the common production
# value; 0 turns it off. Subdomains are left out: the service does not own its domain's others.
HSTS_SECONDS_DEFAULT = 365 * 24 * 3600
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", HSTS_SECONDS_DEFAULT, dev_default=0)

# Content-Security-Policy (django-csp) on every response. Nothing of ours is framed: HubSpot's
# app card and settings component call the service with hubspot.fetch, not in iframes, so
# `frame-ancestors 'none'`. The pages load nothing from elsewhere; the inline <style>
# (templates/base.html) and the few inline scripts (the Products tab's article search, the Bulk
# sync tab's progress) carry the per-response nonce, so no other inline script runs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Fernet keys (urlsafe base64, 32 bytes), newest first. The first encrypts; all of them decrypt,
# so a key can be rotated in without losing the tokens stored under the old one.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    # A fixed development key: tokens stored by `make run` survive restarts. Never in production.
    dev_default=["ZGV2LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24tdXNlISE="],
)
