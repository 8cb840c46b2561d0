"""The HubSpot sandbox's admin API, rate limits, injected faults, signatures and the state file."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.hubspot import signing
from sandbox.hubspot.app import create_app
from sandbox.hubspot.testing import admin, sdk, token

HUB = 9000001
DEAL = "10015"
DOC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"


def test_documented_signature_vectors():
    """hubspot-api.md §2: the official v1 example, the v2 examples and the SDK's v3 vector."""
    v1_body = (
        '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        '"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        '"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    assert signing.sign_v1(DOC_SECRET, v1_body) == (
        "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    )
    uri = "https://www.example.com/webhook_uri"
    assert signing.sign_v2(DOC_SECRET, "GET", uri, "") == (
        "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    )
    assert signing.sign_v2(DOC_SECRET, "POST", uri, '{"example_field":"example_value"}') == (
        "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
    )
    sdk_body = "{'example_field':'example_value'}"
    assert signing.sign_v3(DOC_SECRET, "POST", uri, sdk_body, "1693657560000") == (
        "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    )
    assert signing.sign_v1(DOC_SECRET, sdk_body) == (
        "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
    )
    assert signing.sign_v2(DOC_SECRET, "POST", uri, sdk_body) == (
        "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
    )
    # v3 signs the URI with HubSpot's escapes decoded (and only those).
    assert signing.v3_uri("https://a.se/p?e=a%40b.se&x=%3A%2f%2C&y=%20") == (
        "https://a.se/p?e=a@b.se&x=:/,&y=%20"
    )


def test_rate_limit_110_per_10_seconds(hubspot_url):
    headers = {"Authorization": f"Bearer {token(hubspot_url)}"}
    with requests.Session() as session:
        answers = [
            session.get(f"{hubspot_url}/crm/v3/objects/deals/{DEAL}", headers=headers, timeout=5)
            for _ in range(111)
        ]
    assert [a.status_code for a in answers[:110]] == [200] * 110
    first, last_ok, refused = answers[0], answers[109], answers[110]
    assert first.headers["X-HubSpot-RateLimit-Max"] == "110"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "109"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert last_ok.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert refused.status_code == 429
    body = refused.json()
    assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["correlationId"]
    assert body["groupName"] == f"publicapi:oauth:1001:{HUB}"
    assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    # The other portal has its own budget.
    other = {"Authorization": f"Bearer {token(hubspot_url, portal=9000002)}"}
    assert (
        requests.get(f"{hubspot_url}/crm/v3/objects/deals", headers=other, timeout=5).status_code
        == 200
    )


def test_latency_fail_next_storm_and_clearing(hubspot_url):
    client_headers = {"Authorization": f"Bearer {token(hubspot_url)}"}
    url = f"{hubspot_url}/crm/v3/objects/deals/{DEAL}"
    admin(hubspot_url, "POST", "/_sandbox/faults/latency", json={"min_ms": 150, "max_ms": 160})
    started = time.monotonic()
    assert requests.get(url, headers=client_headers, timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.15
    admin(hubspot_url, "DELETE", "/_sandbox/faults")

    admin(
        hubspot_url,
        "POST",
        "/_sandbox/faults/fail-next",
        json={"count": 2, "status": 503, "method": "GET", "path_prefix": "/crm/v3/objects/deals"},
    )
    assert (
        requests.get(
            f"{hubspot_url}/crm/v3/pipelines/deals", headers=client_headers, timeout=5
        ).status_code
        == 200
    )
    statuses = [requests.get(url, headers=client_headers, timeout=5).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]

    admin(hubspot_url, "POST", "/_sandbox/faults/rate-limit-storm", json={"seconds": 0.3})
    storm = requests.get(url, headers=client_headers, timeout=5)
    assert storm.status_code == 429 and storm.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    time.sleep(0.35)
    assert requests.get(url, headers=client_headers, timeout=5).status_code == 200
    assert admin(hubspot_url, "GET", "/_sandbox/faults")["fail_next"] == []


def test_sdk_retry_rides_out_injected_failures(hubspot_url):
    from urllib3.util.retry import Retry

    admin(hubspot_url, "POST", "/_sandbox/faults/fail-next", json={"count": 2, "status": 502})
    client = sdk(
        hubspot_url,
        token(hubspot_url),
        retry=Retry(total=3, backoff_factor=0, status_forcelist=(502,)),
    )
    assert client.crm.deals.basic_api.get_by_id(DEAL).id == DEAL


def test_expire_tokens_and_the_clock(hubspot_url):
    access = token(hubspot_url)
    admin(hubspot_url, "POST", "/_sandbox/faults/expire-tokens")
    response = requests.get(
        f"{hubspot_url}/crm/v3/objects/deals",
        headers={"Authorization": f"Bearer {access}"},
        timeout=5,
    )
    assert response.status_code == 401 and response.json()["category"] == "EXPIRED_AUTHENTICATION"
    before = admin(hubspot_url, "GET", "/_sandbox/clock")["now_ms"]
    after = admin(hubspot_url, "POST", "/_sandbox/clock", json={"advance_seconds": 3600})
    assert after["now_ms"] - before >= 3_600_000 and after["offset_seconds"] == 3600


def test_request_log(hubspot_url):
    client = sdk(hubspot_url, token(hubspot_url))
    client.crm.deals.basic_api.get_by_id(DEAL, properties=["dealname"])
    sdk(hubspot_url, token(hubspot_url, portal=9000002)).crm.deals.basic_api.get_page()
    [entry] = admin(
        hubspot_url, "GET", f"/_sandbox/requests?portal={HUB}&path_prefix=/crm/v3/objects/deals"
    )
    assert entry["method"] == "GET" and entry["path"] == f"/crm/v3/objects/deals/{DEAL}"
    assert entry["query"] == {"properties": "dealname"} and entry["status"] == 200
    assert entry["response"]["properties"]["dealname"] and entry["portal"] == HUB
    admin(hubspot_url, "DELETE", "/_sandbox/requests")
    assert admin(hubspot_url, "GET", "/_sandbox/requests") == []


def test_admin_records_portals_and_app(hubspot_url):
    company = admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/objects/companies",
        json={"properties": {"name": "Kund AB", "my_custom": "x"}},
    )
    deal = admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/objects/deals",
        json={
            "properties": {
                "dealname": "D",
                "pipeline": "default",
                "dealstage": "appointmentscheduled",
            },
            "associations": [
                {"to_type": "companies", "to_id": company["id"]},
                {"to_type": "contacts", "to_id": "10005"},
            ],
        },
    )
    assert deal["associations"] == {"companies": [company["id"]], "contacts": ["10005"]}
    assert deal["association_types"]["companies"][company["id"]] == [5, 341]
    moved = admin(
        hubspot_url,
        "POST",
        f"/_sandbox/portals/{HUB}/deals/{deal['id']}/stage",
        json={"stage": "closedwon"},
    )
    assert moved["properties"]["dealstage"] == "closedwon"
    bad_stage = requests.post(
        f"{hubspot_url}/_sandbox/portals/{HUB}/deals/{deal['id']}/stage",
        json={"stage": "nope"},
        timeout=5,
    )
    assert bad_stage.status_code == 400
    # The custom property the "user" typed became a portal property.
    client = sdk(hubspot_url, token(hubspot_url))
    assert client.crm.properties.core_api.get_by_name("companies", "my_custom").type == "string"

    created = requests.post(
        f"{hubspot_url}/_sandbox/portals", json={"name": "Third AB", "seed": True}, timeout=5
    )
    assert created.status_code == 201 and created.json()["hub_id"] == 9000003
    summary = admin(hubspot_url, "GET", "/_sandbox/portals/9000003")
    assert summary["name"] == "Third AB" and summary["counts"]["deals"] == 7
    empty = admin(hubspot_url, "POST", "/_sandbox/portals", json={"hub_id": 1234, "seed": False})
    assert empty["counts"]["deals"] == 0

    config = admin(hubspot_url, "GET", "/_sandbox/app")
    assert config["client_id"] == "sandbox-hubspot-client" and config["app_id"] == 1001
    assert "files" in config["required_scopes"] and "automation" in config["optional_scopes"]
    assert {
        s["propertyName"] for s in config["subscriptions"] if s.get("objectType") == "deal"
    } == {"dealstage"}
    assert (
        requests.post(f"{hubspot_url}/_sandbox/app", json={"nope": 1}, timeout=5).status_code == 400
    )


def test_state_file_keeps_data_across_restarts(tmp_path):
    from werkzeug.test import Client

    path = tmp_path / "hubspot.json"
    app = create_app(state_file=str(path))
    try:
        client = Client(app)
        created = client.post(
            f"/_sandbox/portals/{HUB}/objects/contacts", json={"properties": {"email": "keep@x.se"}}
        )
        pair = client.post("/_sandbox/tokens", json={"portal": HUB}).json
    finally:
        app.close()
    again = create_app(state_file=str(path))
    try:
        client = Client(again)
        record = client.get(f"/_sandbox/portals/{HUB}/objects/contacts/{created.json['id']}")
        assert record.json["properties"]["email"] == "keep@x.se"
        api = client.get(
            "/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {pair['access_token']}"}
        )
        assert api.status_code == 200
    finally:
        again.close()


@pytest.mark.parametrize(
    "path",
    [
        "/crm/v3/objects/deals",
        "/files/v3/files/1",
        "/crm/v4/objects/deals/1/associations/companies",
    ],
)
def test_api_routes_need_a_token(hubspot_url, path):
    assert requests.get(f"{hubspot_url}{path}", timeout=5).status_code == 401
