"""HTTPS, cookies, proxies, and the keys that encrypt tokens at rest."""

from __future__ import annotations

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

# Fernet keys (urlsafe base64, 32 bytes), newest first. The first encrypts; all of them decrypt,
# so a key can be rotated in without losing the tokens stored under the old one.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    # A fixed development key: tokens stored by `make run` survive restarts. Never in production.
    dev_default=["ZGV2LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24tdXNlISE="],
)
