"""The HubSpot sandbox playing HubSpot towards the app: the install (a browser), app-card
`hubspot.fetch` calls and workflow actions (BLOCK + callback, retries)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hubspot.automation.actions import (
    BatchInputCallbackCompletionBatchRequest,
    CallbackCompletionBatchRequest,
    CallbackCompletionRequest,
)
from hubspot.utils.signature import Signature

from integrations.hubspot.signature import decode_uri
from sandbox.hubspot.testing import SECRET, Receiver, admin, sdk, token

HUB = 9000001
DEAL = "10015"


@pytest.fixture(scope="module")
def app_server():
    app = Receiver().start()
    yield app
    app.stop()


@pytest.fixture
def app(app_server, hubspot_url):
    app_server.reset()
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/app",
        json={
            "card_fetch_base": app_server.url,
            "public_base_url": app_server.url,
            "redirect_uri": f"{app_server.url}/hubspot/oauth/callback",
        },
    )
    admin(hubspot_url, "POST", "/_sandbox/webhooks/config", json={"speed": 1_000_000, "jitter": 0})
    return app_server


def v3_valid(request) -> bool:
    return Signature.is_valid(
        request.headers["X-Hubspot-Signature-V3"],
        SECRET,
        request.body,
        decode_uri(request.url),
        request.method,
        "v3",
        request.headers["X-Hubspot-Request-Timestamp"],
    )


# -- app card ---------------------------------------------------------------------------------


def test_card_fetch_is_signed_and_carries_the_context(hubspot_url, app):
    app.answer = lambda r: (200, {"results": [{"objectId": 1, "title": "Fortnox"}]})
    result = admin(
        hubspot_url,
        "POST",
        "/_sandbox/card-fetch",
        json={
            "portal": HUB,
            "object_type": "0-2",
            "object_id": "10001",
            "path": "/hubspot/card?tab=x",
        },
    )
    assert result["status"] == 200 and result["body"]["results"][0]["title"] == "Fortnox"
    [request] = app.received
    assert request.path == "/hubspot/card"
    assert request.query == {
        "tab": "x",
        "userId": "501",
        "userEmail": "admin@sandbox.example",
        "associatedObjectId": "10001",
        "associatedObjectType": "COMPANY",
        "portalId": str(HUB),
        "appId": "1001",
    }
    assert "%40" in request.url  # the e-mail is escaped in the URL, decoded for the v3 signature
    assert v3_valid(request)
    assert request.headers["X-Hubspot-Signature-Version"] == "v2"
    assert Signature.is_valid(
        request.headers["X-Hubspot-Signature"], SECRET, request.body, request.url, "GET", "v2"
    )


def test_card_post_body_and_retry_on_5xx(hubspot_url, app):
    answers = iter([(502, None), (200, {"ok": True})])
    app.answer = lambda r: next(answers)
    result = admin(
        hubspot_url,
        "POST",
        "/_sandbox/card-fetch",
        json={
            "object_type": "contact",
            "object_id": "10005",
            "path": "/hubspot/card/sync",
            "method": "POST",
            "body": {"a": 1},
        },
    )
    assert result["status"] == 200 and result["attempts"] == 2
    assert [r.json() for r in app.received] == [{"a": 1}, {"a": 1}]
    assert all(v3_valid(r) for r in app.received)


def test_card_fetch_timeout(hubspot_url, app):
    app.delay = 0.5
    result = admin(
        hubspot_url,
        "POST",
        "/_sandbox/card-fetch",
        json={"object_type": "deal", "object_id": DEAL, "path": "/hubspot/card", "timeout_ms": 200},
    )
    assert result["error"] == "timeout" and result["elapsed_ms"] >= 190
    [entry] = admin(hubspot_url, "GET", "/_sandbox/deliveries?kind=card")
    assert entry["error"] == "timeout"


# -- workflow actions ---------------------------------------------------------------------------


def test_blocked_workflow_action_completed_by_callback(hubspot_url, app):
    app.answer = lambda r: (200, {"outputFields": {"hs_execution_state": "BLOCK"}})
    execution = admin(
        hubspot_url,
        "POST",
        "/_sandbox/workflows/execute",
        json={
            "portal": HUB,
            "definition_id": "5001",
            "object_type": "DEAL",
            "object_id": DEAL,
            "input_fields": {"x": "1"},
        },
    )
    assert execution["state"] == "BLOCK" and execution["attempts"] == 1
    [request] = app.received
    assert request.path == "/hubspot/workflow-actions/create-invoice"
    payload = request.json()
    assert payload["callbackId"] == execution["callbackId"]
    assert payload["origin"]["portalId"] == HUB and payload["origin"]["actionDefinitionId"] == 5001
    assert payload["object"] == {"objectId": int(DEAL), "objectType": "DEAL"}
    assert payload["inputFields"] == {"x": "1"} and payload["context"]["source"] == "WORKFLOWS"
    assert v3_valid(request) and request.headers["X-Hubspot-Signature-Version"] == "v2"

    client = sdk(hubspot_url, token(hubspot_url))
    client.automation.actions.callbacks_api.complete(
        execution["callbackId"],
        CallbackCompletionRequest(
            output_fields={"hs_execution_state": "SUCCESS", "fortnox_document_number": "1001"}
        ),
    )
    done = admin(hubspot_url, "GET", f"/_sandbox/workflows/executions/{execution['callbackId']}")
    assert done["state"] == "SUCCESS" and done["completed_at"]
    assert done["output_fields"]["fortnox_document_number"] == "1001"


def test_batch_callback_and_another_portals_token(hubspot_url, app):
    app.answer = lambda r: (200, {"outputFields": {"hs_execution_state": "BLOCK"}})
    ids = [
        admin(
            hubspot_url,
            "POST",
            "/_sandbox/workflows/execute",
            json={"definition_id": "fortnox_create_order", "object_id": DEAL},
        )["callbackId"]
        for _ in range(2)
    ]
    other = sdk(hubspot_url, token(hubspot_url, portal=9000002))
    with pytest.raises(Exception) as caught:
        other.automation.actions.callbacks_api.complete(
            ids[0], CallbackCompletionRequest(output_fields={"hs_execution_state": "SUCCESS"})
        )
    assert caught.value.status == 404
    sdk(hubspot_url, token(hubspot_url)).automation.actions.callbacks_api.complete_batch(
        BatchInputCallbackCompletionBatchRequest(
            inputs=[
                CallbackCompletionBatchRequest(
                    callback_id=i, output_fields={"hs_execution_state": "FAIL_CONTINUE"}
                )
                for i in ids
            ]
        )
    )
    states = {
        admin(hubspot_url, "GET", f"/_sandbox/workflows/executions/{i}")["state"] for i in ids
    }
    assert states == {"FAIL_CONTINUE"}


def test_workflow_action_retried_on_5xx_and_failed_on_4xx(hubspot_url, app):
    answers = iter(
        [(503, None), (500, None), (200, {"outputFields": {"fortnox_status": "created"}})]
    )
    app.answer = lambda r: next(answers)
    execution = admin(
        hubspot_url,
        "POST",
        "/_sandbox/workflows/execute",
        json={"definition_id": "5001", "object_id": DEAL},
    )
    deadline = time.monotonic() + 5
    while execution["state"] not in ("SUCCESS", "FAILED") and time.monotonic() < deadline:
        time.sleep(0.02)
        execution = admin(
            hubspot_url, "GET", f"/_sandbox/workflows/executions/{execution['callbackId']}"
        )
    assert execution["state"] == "SUCCESS" and execution["attempts"] == 3
    assert [h["status"] for h in execution["history"]] == [503, 500, 200]

    app.answer = lambda r: (400, {"error": "bad"})
    failed = admin(
        hubspot_url,
        "POST",
        "/_sandbox/workflows/execute",
        json={"definition_id": "5001", "object_id": DEAL},
    )
    assert failed["state"] == "FAILED" and failed["attempts"] == 1


def test_blocked_execution_expires(hubspot_url, app):
    admin(hubspot_url, "POST", "/_sandbox/webhooks/config", json={"speed": 20})
    app.answer = lambda r: (
        200,
        {"outputFields": {"hs_execution_state": "BLOCK", "hs_expiration_duration": "PT2S"}},
    )
    execution = admin(
        hubspot_url,
        "POST",
        "/_sandbox/workflows/execute",
        json={"definition_id": "5001", "object_id": DEAL},
    )
    assert execution["state"] == "BLOCK"
    time.sleep(0.15)
    later = admin(hubspot_url, "GET", f"/_sandbox/workflows/executions/{execution['callbackId']}")
    assert later["state"] == "EXPIRED"


# -- install ------------------------------------------------------------------------------------


def fake_service(hubspot_url, app_base):
    """The service's side of the install: /hubspot/install → HubSpot → callback → settings."""

    def answer(request):
        if request.path == "/hubspot/install":
            query = (
                f"client_id=sandbox-hubspot-client&redirect_uri={app_base}/hubspot/oauth/callback"
                "&scope="
                + "%20".join(admin(hubspot_url, "GET", "/_sandbox/app")["required_scopes"])
                + "&state=s1"
            )
            return (
                302,
                None,
                {
                    "Location": f"{hubspot_url}/oauth/authorize?{query}",
                    "Set-Cookie": "sid=abc; Path=/",
                },
            )
        if request.path == "/hubspot/oauth/callback":
            code = parse_qs(urlsplit(request.url).query)["code"][0]
            tokens = requests.post(
                f"{hubspot_url}/oauth/v1/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": "sandbox-hubspot-client",
                    "client_secret": SECRET,
                    "redirect_uri": f"{app_base}/hubspot/oauth/callback",
                },
                timeout=5,
            ).json()
            info = requests.get(
                f"{hubspot_url}/oauth/v1/access-tokens/{tokens['access_token']}", timeout=5
            ).json()
            return 302, None, {"Location": f"/settings/{info['hub_id']}/"}
        if request.path.startswith("/settings/"):
            cookie = request.headers.get("Cookie", "")
            return 200, f"<h1>Settings</h1><p>cookie {cookie}</p>"
        return 404, None

    return answer


def test_install_acts_like_a_browser(hubspot_url, app):
    app.answer = fake_service(hubspot_url, app.url)
    result = admin(
        hubspot_url,
        "POST",
        "/_sandbox/install",
        json={"portal": HUB, "start_url": f"{app.url}/hubspot/install"},
    )
    assert result["status"] == 200
    assert result["final_url"] == f"{app.url}/settings/{HUB}/"
    assert "cookie sid=abc" in result["body"] and result["cookies"] == {"sid": "abc"}
    assert [urlsplit(u).path for u in result["history"]] == [
        "/hubspot/install",
        "/oauth/authorize",
        "/hubspot/oauth/callback",
        f"/settings/{HUB}/",
    ]
    assert admin(hubspot_url, "GET", f"/_sandbox/portals/{HUB}")["installed"] is True
    [entry] = admin(hubspot_url, "GET", "/_sandbox/deliveries?kind=install")
    assert entry["status"] == 200


def test_install_without_start_url_calls_the_redirect_uri(hubspot_url, app):
    app.answer = lambda r: (200, "<p>callback</p>")
    result = admin(hubspot_url, "POST", "/_sandbox/install", json={"portal": 9000002})
    assert result["status"] == 200
    [callback] = app.received
    assert (
        callback.path == "/hubspot/oauth/callback"
        and "code" in callback.query
        and "state" not in callback.query
    )
