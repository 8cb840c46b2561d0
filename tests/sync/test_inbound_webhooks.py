"""POST /hubspot/webhooks with hostile or broken input: the security review's cases.

HubSpot retries any non-2xx delivery for up to a day, so: no valid signature → 401 and nothing
recorded; signed but unusable as a whole → 2xx and one rejection; signed with some bad events
→ 2xx, each bad event a rejection naming the field, the good ones processed as usual. Never a
500 (the test client raises on one). Run on PostgreSQL, which refuses text longer than its
column where SQLite keeps it.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest

from sync import webhooks
from sync.models import InboundRejection, Run, WebhookEvent
from sync.views import WEBHOOK_BODY_MAX_BYTES
from sync.webhooks import ParsedEvent, parse_event
from tests.sync.test_webhook_receiver import (  # noqa: F401 (portal: the fixture used below)
    decide,
    deliver,
    event,
    portal,
    signed_post,
)

pytestmark = pytest.mark.usefixtures("portal")  # portal 555: closed won → invoice

GOOD_DEAL = 101


def deliver_text(client, body: str | bytes, **kwargs):
    return signed_post(client, "/hubspot/webhooks", body, **kwargs)


def good_event() -> dict:
    return event(GOOD_DEAL)


def assert_good_event_processed() -> None:
    decide()  # what the decide task does in a worker once the delivery is answered
    run = Run.objects.get(subject_id=str(GOOD_DEAL))
    recorded = WebhookEvent.objects.get(object_id=str(GOOD_DEAL))
    assert recorded.outcome == f"triggered run {run.pk}"


# -- no valid signature: 401, nothing recorded ------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"X-HubSpot-Request-Timestamp": "²²²²²²²²²²²²²"},
        {"X-HubSpot-Request-Timestamp": "١٧٦٤٠٠٠٠٠٠٠٠٠"},  # Arabic-Indic digits
        {"X-HubSpot-Request-Timestamp": "9" * 5000},
        {"X-HubSpot-Request-Timestamp": "-1764000000000"},
        {"X-HubSpot-Request-Timestamp": ""},
        {"X-HubSpot-Signature-v3": ""},
        {"X-HubSpot-Signature-v3": "ÿÿÿÿ"},
        {"X-HubSpot-Signature-v3": "bm90IHRoZSBzaWduYXR1cmU="},
    ],
    ids=[
        "superscript digits",
        "arabic-indic digits",
        "5000 digits",
        "negative",
        "no timestamp",
        "no signature",
        "non-ascii signature",
        "wrong signature",
    ],
)
def test_a_delivery_without_a_valid_signature_is_refused_and_not_recorded(client, headers):
    response = deliver_text(client, json.dumps([good_event()]), **headers)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid signature"}
    assert WebhookEvent.objects.count() == InboundRejection.objects.count() == 0
    assert Run.objects.count() == 0


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    body = json.dumps([good_event()]).ljust(WEBHOOK_BODY_MAX_BYTES + 1)
    response = deliver_text(client, body)
    assert response.status_code == 413
    assert f"at most {WEBHOOK_BODY_MAX_BYTES}" in response.json()["error"]
    assert WebhookEvent.objects.count() == InboundRejection.objects.count() == 0


def test_a_full_batch_of_long_text_values_is_accepted_past_djangos_default_limit(client, settings):
    """100 events with 30,000-character values (3 MB): over Django's 2.5 MB
    DATA_UPLOAD_MAX_MEMORY_SIZE, within what HubSpot may send; every event is recorded."""
    events = [good_event()] + [
        {
            **event(1000 + i, stage="x" * 30_000),
            "propertyName": "description",
            "subscriptionType": "object.propertyChange",
            "objectTypeId": "0-7",
        }
        for i in range(99)
    ]
    body = json.dumps(events)
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert deliver_text(client, body).status_code == 204
    assert WebhookEvent.objects.count() == 100
    assert len(WebhookEvent.objects.get(object_id="1000").property_value) == 255
    assert_good_event_processed()


# -- signed but unusable as a whole: 2xx, one rejection with the reason ----------------------
@pytest.mark.parametrize(
    "body, reason",
    [
        ("not json", "the body is not JSON: Expecting value"),
        ('[{"portalId": NaN}]', "the body is not JSON: NaN is not a JSON number"),
        ("[Infinity]", "the body is not JSON: Infinity is not a JSON number"),
        ("[-Infinity]", "the body is not JSON: -Infinity is not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, "the body is not JSON: nested too deeply"),
        ('{"events": []}', "the body is not a JSON array of events"),
        ('"[]"', "the body is not a JSON array of events"),
        (
            '[{"portalId": ' + "9" * 5000 + "}]",
            "the body is not JSON: a number has over 4300 digits",
        ),
        ("", "the body is not JSON: Expecting value"),
    ],
    ids=[
        "not json",
        "NaN",
        "Infinity",
        "-Infinity",
        "deeply nested",
        "an object",
        "a string",
        "5000-digit number",
        "empty",
    ],
)
def test_a_signed_unusable_delivery_is_answered_2xx_and_recorded_as_rejected(client, body, reason):
    response = deliver_text(client, body)
    assert response.status_code == 200
    [answered] = response.json()["rejected"]
    assert answered.startswith(reason)
    rejection = InboundRejection.objects.get()
    assert (rejection.kind, rejection.hub_id, rejection.event_index) == (
        "webhook_delivery",
        None,
        None,
    )
    assert rejection.reason == answered
    assert rejection.raw == body[: InboundRejection.RAW_KEPT_CHARS]
    assert WebhookEvent.objects.count() == Run.objects.count() == 0


def test_a_delivery_of_more_than_100_events_is_rejected_whole(client):
    response = deliver(client, [event(2000 + i) for i in range(101)])
    assert response.status_code == 200
    assert response.json() == {"rejected": ["the body holds 101 events; HubSpot sends at most 100"]}
    assert InboundRejection.objects.get().kind == "webhook_delivery"
    assert WebhookEvent.objects.count() == Run.objects.count() == 0


def test_a_rejected_body_with_a_nul_byte_is_kept_readable(client):
    response = deliver_text(client, b"[\x00]")
    assert response.status_code == 200
    assert InboundRejection.objects.get().raw == "[\\u0000]"


# -- signed, some events bad: 2xx, each bad one rejected by name, the good ones processed ----
BAD_EVENTS = [
    # (what is wrong, the change to a good event, the reason recorded)
    ("null id", {"objectId": None}, "objectId: must be a whole number, not null."),
    (
        "true as a portal id",
        {"portalId": True},
        "portalId: must be a whole number or a string of digits, not true.",
    ),
    (
        "a decimal portal id",
        {"portalId": 9000001.9},
        "portalId: must be a whole number or a string of digits, not a decimal number.",
    ),
    (
        "a whole decimal portal id",
        {"portalId": 555.0},
        "portalId: must be a whole number or a string of digits, not a decimal number.",
    ),
    (
        "1e400",
        {"objectId": "1e400"},
        "objectId: must be a whole number or a string of digits, not text that is not digits.",
    ),
    (
        "Arabic-Indic digits",
        {"objectId": "١٢٣"},
        "objectId: must be a whole number or a string of digits, not text that is not digits.",
    ),
    ("a list as an id", {"objectId": [1]}, "objectId: must be a whole number"),
    ("zero id", {"objectId": 0}, "objectId: must be between 1 and 9223372036854775807."),
    ("negative id", {"eventId": -1}, "eventId: must be between 1 and 9223372036854775807."),
    (
        "past bigint",
        {"portalId": 2**63},
        "portalId: must be between 1 and 9223372036854775807.",
    ),
    (
        "past bigint",
        {"occurredAt": 2**63},
        "occurredAt: must be between 0 and 9223372036854775807.",
    ),
    (
        "a 20-digit string id",
        {"objectId": "1" * 20},
        "objectId: must be a whole number or a string of digits, not text that is not digits.",
    ),
    ("past integer", {"attemptNumber": 2**31}, "attemptNumber: must be between 0 and 2147483647."),
    (
        "a property name longer than its column",
        {"propertyName": "p" * 101},
        "propertyName: must be at most 100 characters.",
    ),
    (
        "a property value longer than HubSpot allows",
        {"propertyValue": "v" * 65_537},
        "propertyValue: must be at most 65536 characters.",
    ),
    (
        "a subscription type longer than its column",
        {"subscriptionType": "deal." + "x" * 70},
        "subscriptionType: must look like deal.propertyChange.",
    ),
    (
        "an object type longer than its column",
        {"subscriptionType": "a" * 50 + ".creation", "objectTypeId": "9-9"},
        "subscriptionType: must look like deal.propertyChange.",
    ),
    ("no subscription type", {"subscriptionType": None}, "subscriptionType: must be text"),
    ("a number as text", {"propertyValue": 12}, "propertyValue: must be text, not a whole number."),
    ("NUL in text", {"propertyValue": "closed\x00won"}, "propertyValue: Null characters"),
    ("a lone surrogate", {"propertyName": "deal\ud800stage"}, "propertyName: Surrogate"),
    ("a made-up objectTypeId", {"objectTypeId": "deal"}, 'objectTypeId: must look like "0-3".'),
]


@pytest.mark.parametrize(
    "change, reason", [case[1:] for case in BAD_EVENTS], ids=[case[0] for case in BAD_EVENTS]
)
def test_a_bad_event_is_rejected_by_name_and_the_good_ones_are_processed(client, change, reason):
    bad = {**event(202), **change}
    response = deliver(client, [good_event(), bad])
    assert response.status_code == 200
    [answered] = response.json()["rejected"]
    assert answered.startswith(f"event 1: {reason}")
    rejection = InboundRejection.objects.get()
    assert (rejection.kind, rejection.event_index) == ("webhook_event", 1)
    assert rejection.reason.startswith(reason)
    assert rejection.hub_id == (555 if "portalId" not in change else None)
    assert_good_event_processed()
    assert WebhookEvent.objects.count() == 1
    assert not Run.objects.filter(subject_id="202").exists()


def test_events_that_are_not_objects_are_rejected_each_and_the_rest_processed(client):
    response = deliver(client, [5, good_event(), None, [good_event()]])
    assert response.status_code == 200
    assert response.json()["rejected"] == [
        "event 0: must be a JSON object, not a whole number.",
        "event 2: must be a JSON object, not null.",
        "event 3: must be a JSON object, not a list.",
    ]
    assert list(InboundRejection.objects.order_by("event_index").values_list("event_index")) == [
        (0,),
        (2,),
        (3,),
    ]
    assert_good_event_processed()


def test_a_deeply_nested_value_inside_an_event_is_kept_out_of_the_way(client):
    """Nesting the decoder survives but an unused field holds: the event is still usable."""
    nested = "[" * 500 + "]" * 500
    body = json.dumps([good_event()])[:-2] + f', "extra": {nested}}}]'
    assert deliver_text(client, body).status_code == 204
    assert_good_event_processed()


@pytest.mark.parametrize("number", ["1e400", "-1e400", "9000001.9", "1E+2"])
def test_a_json_decimal_as_an_id_rejects_only_its_event(client, number):
    bad = json.dumps(event(202)).replace('"portalId": 555', f'"portalId": {number}')
    response = deliver_text(client, f"[{json.dumps(good_event())}, {bad}]")
    assert response.status_code == 200
    assert response.json()["rejected"] == [
        "event 1: portalId: must be a whole number or a string of digits, not a decimal number."
    ]
    assert_good_event_processed()


@pytest.mark.parametrize(
    "change",
    [
        {"portalId": "555", "objectId": "101"},  # ids as digit strings
        {"eventType": "deal.propertyChange", "subscriptionType": None},  # the docs' field name
        {"propertyValue": "closedwon", "unused": "1e400"},  # a huge number nothing reads
    ],
    ids=["digit strings", "eventType", "1e400 elsewhere"],
)
def test_forms_hubspot_documents_are_accepted(client, change):
    raw = {**good_event(), **change}
    raw = {key: value for key, value in raw.items() if value is not None}
    body = json.dumps([raw]).replace('"1e400"', "1e400")
    assert deliver_text(client, body).status_code == 204
    assert_good_event_processed()
    assert InboundRejection.objects.count() == 0


def test_staff_see_rejections_in_the_admin_and_cannot_edit_them(client, admin_client):
    deliver(client, [good_event(), {**event(202), "objectId": None}])
    rejection = InboundRejection.objects.get()
    listing = admin_client.get("/admin/sync/inboundrejection/")
    assert listing.status_code == 200
    assert "objectId: must be a whole number, not null." in listing.content.decode()
    detail = admin_client.get(f"/admin/sync/inboundrejection/{rejection.pk}/change/")
    assert detail.status_code == 200
    assert "&quot;objectId&quot;: null" in detail.content.decode()  # the event as received
    assert admin_client.get("/admin/sync/inboundrejection/add/").status_code == 403
    assert (
        admin_client.post(
            f"/admin/sync/inboundrejection/{rejection.pk}/change/", {"reason": "edited"}
        ).status_code
        == 403
    )
    assert InboundRejection.objects.get().reason.startswith("objectId")


# -- the receiver's quick check agrees with the serializer ------------------------------------
def _by_serializer(raw: dict) -> ParsedEvent:
    """parse_event's answer without the quick check: the serializer alone decides."""
    with mock.patch.object(webhooks, "_well_formed", return_value=None):
        return parse_event(raw)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"portalId": "555", "objectId": "0101", "eventId": "7"},  # digit strings
        {"eventType": "deal.propertyChange", "subscriptionType": None},  # the docs' name
        {"subscriptionType": "deal.propertyChange", "objectTypeId": None},  # legacy
        {"propertyValue": None},  # a cleared property
        {"propertyValue": "å" * 300, "propertyName": ""},  # kept in part
        {"eventId": None, "attemptNumber": None},
        {"objectTypeId": "2-143967026", "subscriptionType": "object.creation"},
        {"occurredAt": 0, "attemptNumber": 2**31 - 1, "portalId": 2**63 - 1},
    ],
)
def test_the_quick_check_gives_what_the_serializer_gives(change):
    raw = {key: value for key, value in {**good_event(), **change}.items() if value is not None}
    quick = webhooks._well_formed(raw)
    assert quick is not None
    assert quick == _by_serializer(raw)


@pytest.mark.parametrize(
    "change", [case[1] for case in BAD_EVENTS], ids=[case[0] for case in BAD_EVENTS]
)
def test_the_quick_check_leaves_every_bad_event_to_the_serializer(change):
    """Whatever the serializer refuses, the quick check does not accept: the rejection and its
    message come from the serializer."""
    raw = {**event(202), **change}
    assert webhooks._well_formed(raw) is None
    with pytest.raises(webhooks.MalformedEvent):
        parse_event(raw)
