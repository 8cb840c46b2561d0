"""Verifying that a request really comes from HubSpot (X-HubSpot-Signature-v3).

The signed string is METHOD + full public URL + raw body + timestamp (hubspot-api.md §2, v3),
with a fixed set of percent-escapes decoded in the URL. For the app cards' `hubspot.fetch`, a
signature over the URL with every query value percent-decoded is accepted too (what backends
verifying real card traffic do: hubspot-api.md Addendum §1, third addendum §6); the verifier
answers which reading matched, for the caller to log. The URL is rebuilt from PUBLIC_BASE_URL,
the origin HubSpot was configured with, never from the Host header a proxy passes on. The HMAC
is the SDK's (hubspot.utils.signature.Signature.get_signature); the five-minute window is ours,
both ways and against an injectable "now" (the SDK's `is_valid` only checks the past, against
the wall clock), and the comparison is `hmac.compare_digest`.

Headers are checked for shape before any arithmetic: `str.isdigit()` accepts "²", which `int()`
then refuses, `int()` refuses more than 4300 digits, and `compare_digest` raises on non-ASCII
text; each used to turn an unauthenticated request into a 500.
"""

from __future__ import annotations

import hmac
import re
import time
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest
from hubspot.utils.signature import Signature

MAX_AGE_MS = 5 * 60 * 1000  # HubSpot: reject anything older than five minutes
# Epoch milliseconds have 13 digits until the year 2286; ASCII digits only ([0-9], not \d).
_TIMESTAMP = re.compile(r"[0-9]{1,16}")
# base64 of a 32-byte HMAC is 44 characters; a little room, and nothing but base64's alphabet.
_SIGNATURE_V3 = re.compile(r"[A-Za-z0-9+/]{1,120}={0,2}")
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


class BodyTooLarge(Exception):
    """The request announces or carries more than the endpoint accepts (the caller answers 413)."""


def request_body_read(request: HttpRequest, *, max_bytes: int) -> bytes:
    """The raw body, refusing more than `max_bytes` before holding it in memory.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) also guards `request.body`, but as
    one site-wide number answered with a bare 400; reading the stream here gives each endpoint
    its own limit (a named constant beside it) and a clear answer. Content-Length is checked
    first, then at most one byte past the limit is read, for bodies that understate it.
    """
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0  # Django then reads nothing (LimitedStream of 0); the signature fails
    if announced > max_bytes:
        raise BodyTooLarge(f"the body is {announced} bytes; at most {max_bytes} are accepted")
    body = request.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise BodyTooLarge(f"the body is over {max_bytes} bytes")
    return body


def decode_uri(uri: str) -> str:
    return _ESCAPE.sub(lambda match: _DECODED[match.group(0).upper()], uri)


def signed_uri(request: HttpRequest) -> str:
    return decode_uri(f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}")


def fully_decoded_uri(request: HttpRequest) -> str:
    """The URL with every query name and value percent-decoded (what third-party backends
    verifying real `hubspot.fetch` traffic sign over: hubspot-api.md Addendum §1, third
    addendum §6). `+` stays as it is: only percent-escapes are decoded."""
    path, _, query = request.get_full_path().partition("?")
    if not query:
        return decode_uri(f"{settings.PUBLIC_BASE_URL}{path}")
    pairs = []
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        pairs.append(f"{unquote(name)}{eq}{unquote(value)}")
    return decode_uri(f"{settings.PUBLIC_BASE_URL}{path}") + "?" + "&".join(pairs)


# Which reading of the URL the signature matched (hubspot_request_verify's answer).
DOCUMENTED = "documented"  # the documented escapes decoded (hubspot-api.md §2, v3 step 2)
FULLY_DECODED = "fully_decoded"  # every query value percent-decoded


def hubspot_request_verify(
    request: HttpRequest,
    *,
    body: bytes | None = None,
    now_ms: int | None = None,
    fully_decoded: bool = False,
) -> str:
    """Raises SignatureInvalid unless HubSpot signed this request (v3) in the last five minutes;
    returns which reading of the URL matched (DOCUMENTED or FULLY_DECODED).

    `body` is the raw body when the caller has already read it (a view that bounds the size it
    reads); else `request.body`. With `fully_decoded` (the app card's `hubspot.fetch`), a
    signature over the URL with every query value percent-decoded is accepted too.
    """
    signature = request.headers.get("X-HubSpot-Signature-v3", "")
    timestamp = request.headers.get("X-HubSpot-Request-Timestamp", "")
    if not signature or not timestamp:
        raise SignatureInvalid("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureInvalid("timestamp is not epoch milliseconds")
    if not _SIGNATURE_V3.fullmatch(signature):
        raise SignatureInvalid("signature is not base64")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - int(timestamp)) > MAX_AGE_MS:
        raise SignatureInvalid("timestamp outside the five-minute window")
    try:
        text = (request.body if body is None else body).decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureInvalid("body is not UTF-8") from None
    readings = [(DOCUMENTED, signed_uri(request))]
    if fully_decoded:
        readings.append((FULLY_DECODED, fully_decoded_uri(request)))
    for name, uri in readings:
        expected = Signature.get_signature(
            settings.HUBSPOT_CLIENT_SECRET,
            text,
            "v3",
            uri,
            request.method,
            timestamp,  # the header string exactly as received (hubspot-api.md §2, v3 step 3)
        )
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return name
    raise SignatureInvalid("signature does not match")
