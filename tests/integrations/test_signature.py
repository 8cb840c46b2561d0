"""HubSpot's v3 request signatures: the documented vector, URL decoding, the time window."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from django.test import RequestFactory

from integrations.hubspot.signature import SignatureInvalid, decode_uri, hubspot_request_verify

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"


def sign(method: str, uri: str, body: str, timestamp: str, secret: str = SECRET) -> str:
    source = f"{method}{uri}{body}{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def test_documented_v3_vector():
    """HubSpot SDK test vector (hubspot-api.md §2)."""
    assert (
        sign(
            "POST",
            "https://www.example.com/webhook_uri",
            "{'example_field':'example_value'}",
            "1693657560000",
        )
        == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    )


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
