"""HubSpot's request signatures (hubspot-api.md §2), as HubSpot computes them when it calls an app.

v1: sha256_hex(secret + body); v2: sha256_hex(secret + method + uri + body);
v3: base64(HMAC-SHA256(secret, method + uri + body + timestamp)), where the URI has a fixed set of
percent-escapes decoded first. Which versions each kind of call carries is decided in
`signed_headers` (webhooks: v1 + v3; app-card fetches and workflow actions: v2 + v3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

# The escapes decoded before v3 signing (request-validation docs, v3 step 2).
V3_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ESCAPE = re.compile("|".join(V3_DECODED), re.IGNORECASE)

# Which legacy signature version accompanies v3, per kind of request (hubspot-api.md §2
# "Which version you get"): webhooks v1; CRM cards / hubspot.fetch and workflow actions v2.
LEGACY_VERSION = {"webhook": "v1", "card": "v2", "workflow": "v2"}


def v3_uri(uri: str) -> str:
    return _ESCAPE.sub(lambda match: V3_DECODED[match.group(0).upper()], uri)


def sign_v1(secret: str, body: str) -> str:
    return hashlib.sha256(f"{secret}{body}".encode()).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: str) -> str:
    return hashlib.sha256(f"{secret}{method}{uri}{body}".encode()).hexdigest()


def sign_v3(secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    source = f"{method}{v3_uri(uri)}{body}{timestamp}".encode()
    digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_headers(
    kind: str, secret: str, method: str, url: str, body: str, timestamp_ms: int
) -> dict[str, str]:
    timestamp = str(timestamp_ms)
    headers = {
        "X-HubSpot-Signature-v3": sign_v3(secret, method, url, body, timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
    legacy = LEGACY_VERSION.get(kind)
    if legacy == "v1":
        headers["X-HubSpot-Signature"] = sign_v1(secret, body)
        headers["X-HubSpot-Signature-Version"] = "v1"
    elif legacy == "v2":
        headers["X-HubSpot-Signature"] = sign_v2(secret, method, url, body)
        headers["X-HubSpot-Signature-Version"] = "v2"
    return headers
