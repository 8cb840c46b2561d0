"""Webhooks from the HubSpot sandbox to an app: events, signatures, batching, retries on the
(compressed) schedule, duplicates and the in-flight limit. The app is a recording receiver."""

from __future__ import annotations

import time

import pytest
import requests
from hubspot.crm.objects import SimplePublicObjectInput
from hubspot.utils.signature import Signature

from integrations.hubspot.signature import decode_uri
from sandbox.hubspot.testing import SECRET, Receiver, admin, sdk, token
from sandbox.hubspot.webhooks import RETRY_DELAYS_S

HUB = 9000001
DEAL = "10015"


@pytest.fixture(scope="module")
def receiver_server():
    app = Receiver().start()
    yield app
    app.stop()


@pytest.fixture
def receiver(receiver_server):
    receiver_server.reset()
    return receiver_server


@pytest.fixture
def installed(hubspot_url, receiver):
    """The app installed in HUB, webhooks pointing at the receiver, fast batching."""
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/app",
        json={"webhook_url": f"{receiver.url}/hubspot/webhooks"},
    )
    admin(
        hubspot_url, "POST", "/_sandbox/webhooks/config", json={"batch_window_ms": 20, "jitter": 0}
    )
    return token(hubspot_url)


def drain(base, timeout=10):
    result = admin(base, "POST", "/_sandbox/webhooks/drain", json={"timeout": timeout})
    assert result["drained"], result
    return result


def events_of(receiver):
    return [event for request in receiver.received for event in request.json()]


def test_deal_stage_change_is_a_signed_generic_event(hubspot_url, receiver, installed):
    admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/deals/{DEAL}/stage",
        json={"stage": "closedwon"},
    )
    drain(hubspot_url)
    [request] = receiver.received
    [event] = request.json()
    assert event["subscriptionType"] == "object.propertyChange"
    assert event["objectTypeId"] == "0-3" and event["objectId"] == int(DEAL)
    assert event["propertyName"] == "dealstage" and event["propertyValue"] == "closedwon"
    assert event["portalId"] == HUB and event["appId"] == 1001 and event["attemptNumber"] == 0
    assert event["changeSource"] == "CRM_UI" and event["sourceId"] == "userId:501"
    assert isinstance(event["eventId"], int) and isinstance(event["subscriptionId"], int)
    # v3, verified by the SDK with HubSpot's URL decoding applied; and v1.
    headers = request.headers
    assert Signature.is_valid(
        headers["X-Hubspot-Signature-V3"],
        SECRET,
        request.body,
        decode_uri(request.url),
        "POST",
        "v3",
        headers["X-Hubspot-Request-Timestamp"],
    )
    assert headers["X-Hubspot-Signature-Version"] == "v1"
    assert Signature.is_valid(
        headers["X-Hubspot-Signature"], SECRET, request.body, signature_version="v1"
    )


def test_api_changes_by_the_app_are_integration_changes(hubspot_url, receiver, installed):
    client = sdk(hubspot_url, installed)
    client.crm.deals.basic_api.update(
        DEAL, SimplePublicObjectInput(properties={"dealstage": "closedlost"})
    )
    client.crm.deals.basic_api.update(
        DEAL, SimplePublicObjectInput(properties={"dealname": "renamed"})
    )
    drain(hubspot_url)
    [event] = events_of(receiver)  # dealname has no subscription
    assert event["changeSource"] == "INTEGRATION" and event["sourceId"] == "1001"


def test_legacy_and_creation_subscriptions(hubspot_url, receiver, installed):
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/app",
        json={
            "subscriptions": [
                {"subscriptionType": "deal.propertyChange", "propertyName": "dealstage"},
                {"subscriptionType": "object.creation", "objectType": "contact"},
                {"subscriptionType": "contact.deletion"},
            ]
        },
    )
    contact = admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/objects/contacts",
        json={"properties": {"email": "new@x.se"}},
    )
    admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/deals/{DEAL}/stage",
        json={"stage": "closedwon"},
    )
    requests.delete(
        f"{hubspot_url}/_sandbox/portals/{HUB}/objects/contacts/{contact['id']}", timeout=5
    )
    drain(hubspot_url)
    by_type = {e["subscriptionType"]: e for e in events_of(receiver)}
    assert set(by_type) == {"deal.propertyChange", "object.creation", "contact.deletion"}
    assert "objectTypeId" not in by_type["deal.propertyChange"]
    assert by_type["object.creation"]["objectTypeId"] == "0-1"
    assert by_type["object.creation"]["changeFlag"] == "CREATED"
    assert by_type["contact.deletion"]["objectId"] == int(contact["id"])


def test_nothing_is_sent_to_a_portal_without_the_app(hubspot_url, receiver, installed):
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/portals/9000002/deals/10004/stage",
        json={"stage": "closedwon"},
    )
    drain(hubspot_url)
    assert receiver.received == []


def test_batches_hold_at_most_100_events(hubspot_url, receiver, installed):
    admin(hubspot_url, "POST", "/_sandbox/webhooks/config", json={"batch_window_ms": 400})
    headers = {"Authorization": f"Bearer {installed}"}
    for count in (100, 50):
        response = requests.post(
            f"{hubspot_url}/crm/v3/objects/contacts/batch/create",
            json={
                "inputs": [{"properties": {"email": f"p{count}-{i}@x.se"}} for i in range(count)]
            },
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 201
    drain(hubspot_url)
    sizes = sorted(len(r.json()) for r in receiver.received)
    # 150 creations + 150 email property changes = 300 events.
    assert sum(sizes) == 300 and max(sizes) == 100 and len(sizes) == 3


def test_failed_deliveries_are_retried_on_the_compressed_schedule(hubspot_url, receiver, installed):
    speed = 50_000
    admin(hubspot_url, "POST", "/_sandbox/webhooks/config", json={"speed": speed})
    receiver.answer = lambda r: (500, {"error": "down"})
    admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/deals/{DEAL}/stage",
        json={"stage": "closedwon"},
    )
    drain(hubspot_url, timeout=15)
    attempts = [r.json()[0]["attemptNumber"] for r in receiver.received]
    assert attempts == list(range(11))  # the first try and 10 retries
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    for gap, delay in zip(gaps, RETRY_DELAYS_S, strict=True):
        assert gap >= delay / speed * 0.9
    assert gaps[-1] < RETRY_DELAYS_S[-1] / speed + 0.5
    log = admin(hubspot_url, "GET", "/_sandbox/deliveries?kind=webhook")
    assert [e["attempt"] for e in log] == list(range(11)) and {e["status"] for e in log} == {500}
    stats = admin(hubspot_url, "GET", "/_sandbox/webhooks/config")["stats"]
    assert stats["given_up_batches"] == 1


def test_a_slow_answer_is_a_failure_and_retried(hubspot_url, receiver, installed):
    admin(
        hubspot_url, "POST", "/_sandbox/webhooks/config", json={"timeout_ms": 200, "speed": 100_000}
    )
    calls = []

    def answer(request):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.4)
        return 204, None

    receiver.answer = answer
    admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/deals/{DEAL}/stage",
        json={"stage": "closedwon"},
    )
    drain(hubspot_url)
    log = admin(hubspot_url, "GET", "/_sandbox/deliveries?kind=webhook")
    assert log[0]["error"] == "timeout" and log[1]["status"] == 204 and log[1]["attempt"] == 1


def test_duplicates_repeat_the_same_events(hubspot_url, receiver, installed):
    admin(hubspot_url, "POST", "/_sandbox/webhooks/config", json={"duplicate_rate": 1.0})
    admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/deals/{DEAL}/stage",
        json={"stage": "closedwon"},
    )
    drain(hubspot_url)
    first, second = (r.json() for r in receiver.received)
    assert first == second
    assert [
        e["duplicate"] for e in admin(hubspot_url, "GET", "/_sandbox/deliveries?kind=webhook")
    ] == [False, True]


def test_at_most_ten_requests_in_flight_per_portal(hubspot_url, receiver, installed):
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/webhooks/config",
        json={"max_batch_size": 1, "batch_window_ms": 0},
    )
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/app",
        json={"subscriptions": [{"subscriptionType": "object.creation", "objectType": "contact"}]},
    )
    receiver.delay = 0.4  # long enough that ten are in flight even on a loaded machine
    for i in range(25):
        admin(
            hubspot_url,
            "POST",
            f"/_sandbox/portals/{HUB}/objects/contacts",
            json={"properties": {"email": f"c{i}@x.se"}},
        )
    drain(hubspot_url)
    assert len(receiver.received) == 25
    assert receiver.max_in_flight == 10


def test_hand_written_events_and_the_sandbox_clock_in_timestamps(hubspot_url, receiver, installed):
    admin(hubspot_url, "POST", "/_sandbox/clock", json={"advance_seconds": 600})
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/webhooks/events",
        json={
            "portal": HUB,
            "events": [
                {
                    "subscriptionType": "deal.propertyChange",
                    "objectId": 1,
                    "propertyName": "dealstage",
                    "propertyValue": "x",
                }
            ],
        },
    )
    drain(hubspot_url)
    [request] = receiver.received
    stamp = int(request.headers["X-Hubspot-Request-Timestamp"])
    assert stamp > (time.time() + 590) * 1000  # stale for a verifier on real time
    with pytest.raises(Exception):  # noqa: B017 (the SDK raises InvalidSignatureTimestampError)
        Signature.is_valid(
            request.headers["X-Hubspot-Signature-V3"],
            SECRET,
            request.body,
            request.url,
            "POST",
            "v3",
            str(int(time.time() * 1000) - 400_000),
        )
