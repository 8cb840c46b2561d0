"""HubSpot's v3 request signatures: the documented vector, URL decoding, the time window."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from django.test import RequestFactory

from integrations.hubspot.signature import (
    DOCUMENTED,
    FULLY_DECODED,
    SignatureInvalid,
    decode_uri,
    hubspot_request_verify,
)

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"


def sign(method: str, uri: str, body: str, timestamp: str, secret: str = SECRET) -> str:
    source = f"{method}{uri}{body}{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


DOCUMENTED_V3 = {  # HubSpot SDK test vector (hubspot-api.md §2, v3)
    "uri": "https://www.example.com/webhook_uri",
    "body": "{'example_field':'example_value'}",
    "timestamp": "1693657560000",
    "signature": "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
}


def _documented_request(settings, **header_changes):
    settings.HUBSPOT_CLIENT_SECRET = SECRET
    settings.PUBLIC_BASE_URL = "https://www.example.com"
    headers = {
        "X-HubSpot-Signature-v3": DOCUMENTED_V3["signature"],
        "X-HubSpot-Request-Timestamp": DOCUMENTED_V3["timestamp"],
        **header_changes,
    }
    return RequestFactory().post(
        "/webhook_uri",
        data=DOCUMENTED_V3["body"],
        content_type="application/json",
        headers={name: value for name, value in headers.items() if value is not None},
    )


def test_the_documented_v3_vector_passes_the_verifier(settings):
    """The verifier itself, with "now" at the vector's timestamp, accepts HubSpot's example."""
    hubspot_request_verify(_documented_request(settings), now_ms=int(DOCUMENTED_V3["timestamp"]))


def test_the_documented_v3_vector_is_refused_once_anything_differs(settings):
    now = int(DOCUMENTED_V3["timestamp"])
    other_signature = "L" + DOCUMENTED_V3["signature"][1:]
    with pytest.raises(SignatureInvalid, match="does not match"):
        hubspot_request_verify(
            _documented_request(settings, **{"X-HubSpot-Signature-v3": other_signature}),
            now_ms=now,
        )
    request = _documented_request(settings)
    settings.HUBSPOT_CLIENT_SECRET = "another-secret"
    with pytest.raises(SignatureInvalid, match="does not match"):
        hubspot_request_verify(request, now_ms=now)
    with pytest.raises(SignatureInvalid, match="five-minute window"):
        hubspot_request_verify(_documented_request(settings), now_ms=now + 5 * 60 * 1000 + 1)


@pytest.mark.parametrize(
    "header, value, reason",
    [
        ("X-HubSpot-Request-Timestamp", None, "missing"),
        ("X-HubSpot-Request-Timestamp", "", "missing"),
        ("X-HubSpot-Request-Timestamp", "²" * 13, "not epoch milliseconds"),
        ("X-HubSpot-Request-Timestamp", "١٦٩٣٦٥٧٥٦٠٠٠٠", "not epoch milliseconds"),  # Arabic-Indic
        ("X-HubSpot-Request-Timestamp", "1" * 5000, "not epoch milliseconds"),
        ("X-HubSpot-Request-Timestamp", "-1693657560000", "not epoch milliseconds"),
        ("X-HubSpot-Request-Timestamp", "1693657560000.0", "not epoch milliseconds"),
        ("X-HubSpot-Request-Timestamp", " 1693657560000", "not epoch milliseconds"),
        ("X-HubSpot-Signature-v3", None, "missing"),
        ("X-HubSpot-Signature-v3", "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Yé", "not base64"),
        ("X-HubSpot-Signature-v3", "K" * 5000, "not base64"),
    ],
    ids=[
        "no timestamp",
        "empty timestamp",
        "superscript digits",
        "arabic-indic digits",
        "5000 digits",
        "negative",
        "decimal",
        "leading space",
        "no signature",
        "non-ascii signature",
        "5000-character signature",
    ],
)
def test_malformed_headers_are_refused_before_any_arithmetic(settings, header, value, reason):
    request = _documented_request(settings, **{header: value})
    with pytest.raises(SignatureInvalid, match=reason):
        hubspot_request_verify(request, now_ms=int(DOCUMENTED_V3["timestamp"]))


def test_the_documented_escapes_are_decoded_and_others_kept():
    assert (
        decode_uri("https://a.se/p?email=a%40b.se&x=%3A%2f%2C&y=%20")
        == "https://a.se/p?email=a@b.se&x=:/,&y=%20"
    )


def _request(
    settings,
    body: str,
    *,
    path="/hubspot/webhooks?portalId=1&userEmail=a%40b.se",
    timestamp: int | None = None,
    secret: str = SECRET,
):
    settings.HUBSPOT_CLIENT_SECRET = SECRET
    settings.PUBLIC_BASE_URL = "https://cloudify.example"
    timestamp = int(time.time() * 1000) if timestamp is None else timestamp
    uri = decode_uri(f"https://cloudify.example{path}")
    return RequestFactory().post(
        path,
        data=body,
        content_type="application/json",
        headers={
            "X-HubSpot-Signature-v3": sign("POST", uri, body, str(timestamp), secret),
            "X-HubSpot-Request-Timestamp": str(timestamp),
        },
    )


def test_a_correctly_signed_request_passes(settings):
    hubspot_request_verify(_request(settings, '[{"eventId":1}]'))


@pytest.mark.parametrize(
    "case, reason",
    [
        ("wrong secret", "does not match"),
        ("stale", "five-minute window"),
        ("future", "five-minute window"),
        ("tampered body", "does not match"),
    ],
)
def test_bad_requests_are_refused(settings, case, reason):
    now = int(time.time() * 1000)
    if case == "wrong secret":
        request = _request(settings, "[]", secret="not-the-secret")
    elif case == "stale":
        request = _request(settings, "[]", timestamp=now - 5 * 60 * 1000 - 1000)
    elif case == "future":
        request = _request(settings, "[]", timestamp=now + 6 * 60 * 1000)
    else:
        request = _request(settings, '[{"objectId":1}]')
        request._body = b'[{"objectId":2}]'
    with pytest.raises(SignatureInvalid, match=reason):
        hubspot_request_verify(request)


def test_missing_headers_are_refused(settings):
    request = RequestFactory().post("/hubspot/webhooks", data="[]", content_type="application/json")
    with pytest.raises(SignatureInvalid, match="missing"):
        hubspot_request_verify(request)


# The app card's hubspot.fetch: third-party backends verifying real card traffic sign over the
# URL with every query value percent-decoded (hubspot-api.md Addendum §1, third addendum §6).
CARD_PATH = "/hubspot/cards/record?portalId=9000001&userEmail=anna%2Bkort%40lind.se&q=%C3%A5r"
# The same URL as it reads with every query value decoded, written out by hand.
CARD_URI_FULLY_DECODED = (
    "https://cloudify.example/hubspot/cards/record?portalId=9000001&userEmail=anna+kort@lind.se"
    "&q=år"
)


def _card_request(settings, uri: str, secret: str = SECRET):
    settings.HUBSPOT_CLIENT_SECRET = SECRET
    settings.PUBLIC_BASE_URL = "https://cloudify.example"
    timestamp = str(int(time.time() * 1000))
    return RequestFactory().get(
        CARD_PATH,
        headers={
            "X-HubSpot-Signature-v3": sign("GET", uri, "", timestamp, secret),
            "X-HubSpot-Request-Timestamp": timestamp,
        },
    )


def test_a_card_request_signed_over_fully_decoded_values_passes_and_says_so(settings):
    request = _card_request(settings, CARD_URI_FULLY_DECODED)

    assert hubspot_request_verify(request, fully_decoded=True) == FULLY_DECODED
    # Webhooks and workflow actions keep to the documented decoding only.
    with pytest.raises(SignatureInvalid, match="does not match"):
        hubspot_request_verify(request)


def test_a_card_request_signed_the_documented_way_passes_and_says_so(settings):
    documented = (
        "https://cloudify.example/hubspot/cards/record?portalId=9000001"
        "&userEmail=anna%2Bkort@lind.se&q=%C3%A5r"
    )
    request = _card_request(settings, documented)

    assert hubspot_request_verify(request, fully_decoded=True) == DOCUMENTED
    assert hubspot_request_verify(request) == DOCUMENTED


@pytest.mark.parametrize(
    "uri, secret",
    [
        (CARD_URI_FULLY_DECODED.replace("9000001", "9000002"), SECRET),  # another portal
        ("https://cloudify.example" + CARD_PATH, SECRET),  # nothing decoded at all
        (CARD_URI_FULLY_DECODED, "another-apps-secret"),
    ],
    ids=["another portal", "nothing decoded", "another secret"],
)
def test_a_card_request_matching_neither_reading_is_refused(settings, uri, secret):
    request = _card_request(settings, uri, secret)

    with pytest.raises(SignatureInvalid, match="does not match"):
        hubspot_request_verify(request, fully_decoded=True)
