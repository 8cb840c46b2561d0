"""Verifying that a request really comes from HubSpot (X-HubSpot-Signature-v3).

The signed string is METHOD + full public URL + raw body + timestamp (hubspot-api.md §2, v3),
with a fixed set of percent-escapes decoded in the URL. The URL is rebuilt from PUBLIC_BASE_URL,
the origin HubSpot was configured with, never from the Host header a proxy passes on. The
HMAC and the constant-time comparison are the SDK's (hubspot.utils.signature.Signature).
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.http import HttpRequest
from hubspot.exceptions import InvalidSignatureTimestampError
from hubspot.utils.signature import Signature

MAX_AGE_MS = 5 * 60 * 1000  # HubSpot: reject anything older than five minutes
# The escapes HubSpot decodes before signing (request-validation docs, v3 step 2).
_DECODED = {
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
_ESCAPE = re.compile("|".join(_DECODED), re.IGNORECASE)


class SignatureInvalid(Exception):
    """Why a request is refused (logged; the caller answers 401 without details)."""


def decode_uri(uri: str) -> str:
    return _ESCAPE.sub(lambda match: _DECODED[match.group(0).upper()], uri)


def signed_uri(request: HttpRequest) -> str:
    return decode_uri(f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}")


def hubspot_request_verify(request: HttpRequest, *, now_ms: int | None = None) -> None:
    signature = request.headers.get("X-HubSpot-Signature-v3", "")
    timestamp = request.headers.get("X-HubSpot-Request-Timestamp", "")
    if not signature or not timestamp:
        raise SignatureInvalid("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp")
    if not timestamp.isdigit():
        raise SignatureInvalid("timestamp is not epoch milliseconds")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - int(timestamp)) > MAX_AGE_MS:  # the SDK only checks the past
        raise SignatureInvalid("timestamp outside the five-minute window")
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureInvalid("body is not UTF-8") from None
    try:
        valid = Signature.is_valid(
            signature,
            settings.HUBSPOT_CLIENT_SECRET,
            body,
            signed_uri(request),
            request.method,
            "v3",
            timestamp,
        )
    except InvalidSignatureTimestampError:
        raise SignatureInvalid("timestamp outside the five-minute window") from None
    if not valid:
        raise SignatureInvalid("signature does not match")
