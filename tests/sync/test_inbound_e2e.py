"""HubSpot's sandbox sends a real signed delivery holding bad events to the live service:
the delivery is answered 2xx at the first try (no retries for a day), each bad event is kept as
rejected with its reason, and the good event of the same delivery is recorded as usual."""

from __future__ import annotations

import pytest

from sync.models import InboundRejection, WebhookEvent
from tests.flows import HUB, webhook_events_decided

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_signed_delivery_with_a_bad_event_is_accepted_once_and_the_good_event_kept(
    world, celery_worker_process
):
    world.hubspot_admin("POST", "/_sandbox/tokens", json={"portal": HUB})  # HubSpot side only
    world.hubspot_admin("POST", "/_sandbox/webhooks/config", json={"batch_window_ms": 20})
    stage_change = {
        "subscriptionType": "object.propertyChange",
        "objectTypeId": "0-3",
        "propertyName": "dealstage",
        "propertyValue": "closedwon",
    }
    world.hubspot_admin(
        "POST",
        "/_sandbox/webhooks/events",
        json={
            "portal": HUB,
            "events": [
                {**stage_change, "objectId": 10015},
                {**stage_change, "objectId": None},  # used to be recorded as deal "None"
                {**stage_change, "objectId": 10017, "propertyName": "p" * 101},  # a 500 on PG
            ],
        },
    )
    assert world.hubspot_admin("POST", "/_sandbox/webhooks/drain", json={"timeout": 20})["drained"]
    webhook_events_decided()  # by the worker, after the answer

    [delivery] = world.hubspot_admin("GET", "/_sandbox/deliveries?kind=webhook")
    assert delivery["status"] == 200
    good = WebhookEvent.objects.get()
    assert (good.hub_id, good.object_id, good.property_value) == (HUB, "10015", "closedwon")
    assert good.outcome == "ignored: the app is not installed in this portal"
    rejections = InboundRejection.objects.order_by("event_index")
    assert [(r.kind, r.hub_id, r.event_index, r.reason) for r in rejections] == [
        ("webhook_event", HUB, 1, "objectId: must be a whole number, not null."),
        ("webhook_event", HUB, 2, "propertyName: must be at most 100 characters."),
    ]
    assert '"objectId": 10017' in rejections[1].raw
