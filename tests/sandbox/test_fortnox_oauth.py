"""The Fortnox sandbox's OAuth host, checked against the recorded real answers
(fortnox-recordings/authentication/*.yml)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml

CLIENT = ("sandbox-fortnox-client", "sandbox-fortnox-secret")
REDIRECT = "https://service.example/fortnox/callback"

# Recorded bodies (authentication/*.yml).
RECORDED_INVALID_REFRESH = {"error": "invalid_grant", "error_description": "Invalid refresh token"}
RECORDED_INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "The client credentials are invalid",
}
RECORDED_UNAUTHORIZED = '{"message":"unauthorized"}'


def basic(client=CLIENT) -> dict[str, str]:
    raw = base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def authorize(url: str, company: str = "1", scope: str = "invoice customer", **extra) -> dict:
    params = {
        "client_id": CLIENT[0],
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st4te",
        "access_type": "offline",
        "response_type": "code",
        "sandbox_company": company,
        **extra,
    }
    r = requests.get(f"{url}/oauth-v1/auth", params=params, allow_redirects=False, timeout=5)
    assert r.status_code == 302, r.text
    location = r.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(url: str, code: str, client=CLIENT, redirect_uri: str = REDIRECT):
    return requests.post(
        f"{url}/oauth-v1/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        headers=basic(client),
        timeout=5,
    )


def refresh(url: str, token: str, client=CLIENT):
    return requests.post(
        f"{url}/oauth-v1/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        headers=basic(client),
        timeout=5,
    )


def api_get(url: str, token: str, path: str = "/3/customers"):
    return requests.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=5)


def advance(url: str, seconds: float) -> None:
    requests.post(f"{url}/_sandbox/clock", json={"advance_seconds": seconds}, timeout=5)


def test_consent_page_lists_companies(fortnox_url):
    r = requests.get(
        f"{fortnox_url}/oauth-v1/auth",
        params={
            "client_id": CLIENT[0],
            "redirect_uri": REDIRECT,
            "scope": "invoice",
            "state": "s",
            "access_type": "offline",
            "response_type": "code",
        },
        timeout=5,
    )
    assert r.status_code == 200
    assert "text/html" in r.headers["Content-Type"]
    assert "Sandbox Demo AB" in r.text and "Andra Bolaget AB" in r.text
    assert r.text.count("<form") == 3  # one per company and a refusal
    # submitting the form for company 2 consents and redirects with a code
    r = requests.post(
        f"{fortnox_url}/oauth-v1/auth/consent",
        data={
            "client_id": CLIENT[0],
            "redirect_uri": REDIRECT,
            "scope": "invoice",
            "state": "s",
            "response_type": "code",
            "company": "2",
            "decision": "allow",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert r.status_code == 302
    params = parse_qs(urlsplit(r.headers["Location"]).query)
    assert params["state"] == ["s"] and params["code"]


def test_unknown_client_gets_an_error_page(fortnox_url):
    r = requests.get(
        f"{fortnox_url}/oauth-v1/auth",
        params={"client_id": "nobody", "scope": "invoice", "response_type": "code"},
        allow_redirects=False,
        timeout=5,
    )
    assert r.status_code == 400
    assert "ClientID supplied is invalid" in r.text


def test_refusal_redirects_with_access_denied(fortnox_url):
    r = requests.get(
        f"{fortnox_url}/oauth-v1/auth",
        params={
            "client_id": CLIENT[0],
            "redirect_uri": REDIRECT,
            "scope": "invoice",
            "state": "xyz",
            "response_type": "code",
            "sandbox_consent": "deny",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert r.status_code == 302
    params = parse_qs(urlsplit(r.headers["Location"]).query)
    assert params["error"] == ["access_denied"]
    assert params["error_description"]
    assert params["state"] == ["xyz"]


def test_code_exchange_gives_documented_token_shape(fortnox_url):
    code = authorize(fortnox_url, scope="invoice customer")["code"]
    r = exchange(fortnox_url, code)
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["access_token", "expires_in", "token_type", "scope", "refresh_token"]
    assert body["expires_in"] == 3600 and body["token_type"] == "bearer"
    assert body["scope"] == "invoice customer"
    # a JWT-like token that carries the tenant
    payload = body["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["tenantId"] == 1000001 and claims["companyId"] == "1"
    assert api_get(fortnox_url, body["access_token"]).status_code == 200


def test_code_is_single_use(fortnox_url):
    code = authorize(fortnox_url)["code"]
    assert exchange(fortnox_url, code).status_code == 200
    again = exchange(fortnox_url, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_code_expires_after_ten_minutes(fortnox_url):
    code = authorize(fortnox_url)["code"]
    advance(fortnox_url, 601)
    r = exchange(fortnox_url, code)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_code_needs_the_same_redirect_uri(fortnox_url):
    code = authorize(fortnox_url)["code"]
    r = exchange(fortnox_url, code, redirect_uri="https://elsewhere.example/cb")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_refresh_token_is_single_use_with_recorded_answer(fortnox_url):
    tokens = exchange(fortnox_url, authorize(fortnox_url)["code"]).json()
    first = refresh(fortnox_url, tokens["refresh_token"])
    assert first.status_code == 200
    new = first.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["scope"] == tokens["scope"]
    reused = refresh(fortnox_url, tokens["refresh_token"])
    # recorded: authentication/invalid_refresh_token.yml
    assert reused.status_code == 400
    assert reused.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert json.loads(reused.text) == RECORDED_INVALID_REFRESH
    unknown = refresh(fortnox_url, "not-a-refresh-token")
    assert unknown.status_code == 400 and json.loads(unknown.text) == RECORDED_INVALID_REFRESH
    # the new one works
    assert refresh(fortnox_url, new["refresh_token"]).status_code == 200
    stats = requests.get(f"{fortnox_url}/_sandbox/tokens/stats", timeout=5).json()
    assert stats["token_calls"] == {"authorization_code": 1, "refresh_token": 4}
    assert stats["refused"] == 2


def test_refresh_token_expires_after_45_days(fortnox_url):
    tokens = exchange(fortnox_url, authorize(fortnox_url)["code"]).json()
    advance(fortnox_url, 45 * 24 * 3600 + 1)
    r = refresh(fortnox_url, tokens["refresh_token"])
    assert r.status_code == 400 and json.loads(r.text) == RECORDED_INVALID_REFRESH


def test_bad_client_credentials_get_recorded_answer(fortnox_url):
    tokens = exchange(fortnox_url, authorize(fortnox_url)["code"]).json()
    r = refresh(fortnox_url, tokens["refresh_token"], client=(CLIENT[0], "wrong"))
    # recorded: authentication/invalid_authorization.yml
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert json.loads(r.text) == RECORDED_INVALID_CLIENT
    # credentials in the body instead of Basic are not client authentication at Fortnox
    r = requests.post(
        f"{fortnox_url}/oauth-v1/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT[0],
            "client_secret": CLIENT[1],
        },
        timeout=5,
    )
    assert r.status_code == 401 and json.loads(r.text) == RECORDED_INVALID_CLIENT
    # the refresh token was not spent by the refused calls
    assert refresh(fortnox_url, tokens["refresh_token"]).status_code == 200


def test_access_token_expires_after_an_hour(fortnox_url):
    tokens = exchange(fortnox_url, authorize(fortnox_url)["code"]).json()
    assert api_get(fortnox_url, tokens["access_token"]).status_code == 200
    advance(fortnox_url, 3601)
    r = api_get(fortnox_url, tokens["access_token"])
    # recorded: authentication/expired_token.yml
    assert r.status_code == 401 and r.text == RECORDED_UNAUTHORIZED
    assert r.headers["Content-Type"] == "application/json"
    fresh = refresh(fortnox_url, tokens["refresh_token"]).json()
    assert api_get(fortnox_url, fresh["access_token"]).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_missing_or_unknown_bearer_is_unauthorized(fortnox_url, header):
    headers = {"Authorization": header} if header else {}
    r = requests.get(f"{fortnox_url}/3/invoices", headers=headers, timeout=5)
    assert r.status_code == 401 and r.text == RECORDED_UNAUTHORIZED


def test_revoke_kills_refresh_and_access_tokens(fortnox_url):
    tokens = exchange(fortnox_url, authorize(fortnox_url)["code"]).json()
    r = requests.post(
        f"{fortnox_url}/oauth-v1/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers=basic(),
        timeout=5,
    )
    assert r.status_code == 200 and r.json() == {"revoked": True}
    assert api_get(fortnox_url, tokens["access_token"]).status_code == 401
    r = refresh(fortnox_url, tokens["refresh_token"])
    assert r.status_code == 400 and json.loads(r.text) == RECORDED_INVALID_REFRESH
    stats = requests.get(f"{fortnox_url}/_sandbox/tokens/stats", timeout=5).json()
    assert stats["revoked"] == 1
    bad = requests.post(
        f"{fortnox_url}/oauth-v1/revoke",
        data={"token": "x"},
        headers=basic((CLIENT[0], "wrong")),
        timeout=5,
    )
    assert bad.status_code == 401


def test_scopes_are_per_token(fortnox_url):
    tokens = exchange(fortnox_url, authorize(fortnox_url, scope="customer")["code"]).json()
    assert tokens["scope"] == "customer"
    assert api_get(fortnox_url, tokens["access_token"], "/3/customers").status_code == 200
    r = api_get(fortnox_url, tokens["access_token"], "/3/invoices")
    assert r.status_code == 400
    assert r.json() == {
        "ErrorInformation": {
            "error": 1,
            "message": "Har inte behörighet för scope",
            "code": 2000663,
        }
    }


def test_registered_client_and_redirect_uris(fortnox_url):
    r = requests.post(
        f"{fortnox_url}/_sandbox/clients",
        json={"client_id": "other", "client_secret": "s3", "redirect_uris": [REDIRECT]},
        timeout=5,
    )
    assert r.status_code == 201
    bad = requests.get(
        f"{fortnox_url}/oauth-v1/auth",
        params={
            "client_id": "other",
            "redirect_uri": "https://evil.example/cb",
            "scope": "invoice",
            "response_type": "code",
            "sandbox_company": "1",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert bad.status_code == 400
    params = {
        "client_id": "other",
        "redirect_uri": REDIRECT,
        "scope": "invoice",
        "response_type": "code",
        "sandbox_company": "1",
    }
    r = requests.get(
        f"{fortnox_url}/oauth-v1/auth", params=params, allow_redirects=False, timeout=5
    )
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    # another client cannot use the code
    assert exchange(fortnox_url, code).status_code == 400
    r = exchange(fortnox_url, code, client=("other", "s3"))
    assert r.status_code == 200


def test_oauth_calls_are_logged(fortnox_url):
    exchange(fortnox_url, authorize(fortnox_url)["code"])
    log = requests.get(
        f"{fortnox_url}/_sandbox/requests", params={"path_prefix": "/oauth-v1/token"}, timeout=5
    ).json()
    assert len(log) == 1
    assert log[0]["status"] == 200 and log[0]["company"] == "1"
    assert log[0]["client_id"] == CLIENT[0]


RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "fortnox-recordings"


def recorded(name: str) -> dict:
    path = RECORDINGS / "authentication" / name
    if not path.exists():
        pytest.skip(f"recording {path} not available")
    response = yaml.safe_load(path.read_text())["http_interactions"][0]["response"]
    return {
        "status": response["status"]["code"],
        "content_type": response["headers"]["Content-Type"][0],
        "body": response["body"]["string"],
    }


def test_answers_match_the_authentication_recordings(fortnox_url):
    tokens = exchange(fortnox_url, authorize(fortnox_url, scope="article invoice customer")["code"])
    tokens = tokens.json()

    rec = recorded("valid_request.yml")
    r = refresh(fortnox_url, tokens["refresh_token"])
    assert r.status_code == rec["status"]
    assert r.headers["Content-Type"] == rec["content_type"]
    assert list(r.json()) == list(json.loads(rec["body"]))
    assert r.json()["expires_in"] == 3600 and r.json()["token_type"] == "bearer"

    rec = recorded("invalid_refresh_token.yml")
    r = refresh(fortnox_url, tokens["refresh_token"])  # already used
    assert (r.status_code, r.headers["Content-Type"]) == (rec["status"], rec["content_type"])
    assert json.loads(r.text) == json.loads(rec["body"])

    rec = recorded("invalid_authorization.yml")
    r = refresh(fortnox_url, tokens["refresh_token"], client=("sandbox-fortnox-client", "no"))
    assert (r.status_code, r.headers["Content-Type"]) == (rec["status"], rec["content_type"])
    assert json.loads(r.text) == json.loads(rec["body"])

    rec = recorded("expired_token.yml")
    advance(fortnox_url, 3601)
    r = api_get(fortnox_url, tokens["access_token"])
    assert (r.status_code, r.headers["Content-Type"]) == (rec["status"], rec["content_type"])
    assert r.text == rec["body"]
