"""POST /hubspot/webhooks: signature first, one record per change, one run per trigger.

The receiver stores a delivery's events undecided and answers; the decide task (a worker, after
the commit) decides them. These tests are about the rules, so they call the decision as the task
does (`decide`); tests/sync/test_webhook_decide_e2e.py runs it in a worker."""

from __future__ import annotations

import json
import random
import time

import pytest

from integrations.hubspot.signature import decode_uri
from integrations.models import HubSpotInstallation
from sync.models import InboundRejection, PipelineSetting, Run, SyncSettings, WebhookEvent
from sync.webhooks import webhook_events_decide
from tests.integrations.test_signature import sign

SECRET = "webhook-test-secret"
BASE = "https://cloudify.example"


@pytest.fixture
def portal(db, settings):
    settings.HUBSPOT_CLIENT_SECRET = SECRET
    settings.PUBLIC_BASE_URL = BASE
    installation = HubSpotInstallation.objects.create(hub_id=555)
    # English, as the assertions on what a skipped trigger records were written.
    sync_settings = SyncSettings.objects.create(
        installation=installation, language=SyncSettings.Language.ENGLISH
    )
    PipelineSetting.objects.create(
        settings=sync_settings,
        pipeline_id="default",
        trigger_stage_ids=["closedwon"],
        document_type="invoice",
    )
    return installation


def event(
    deal: int,
    stage: str = "closedwon",
    occurred: int = 1_764_000_000_000,
    event_id: int = 1,
    generic: bool = True,
) -> dict:
    base = {
        "eventId": event_id,
        "subscriptionId": 9,
        "portalId": 555,
        "appId": 1001,
        "occurredAt": occurred,
        "attemptNumber": 0,
        "objectId": deal,
        "propertyName": "dealstage",
        "propertyValue": stage,
        "changeSource": "CRM_UI",
    }
    if generic:
        return {**base, "subscriptionType": "object.propertyChange", "objectTypeId": "0-3"}
    return {**base, "subscriptionType": "deal.propertyChange"}


def signed_post(
    client,
    path: str,
    body: str | bytes,
    *,
    timestamp: int | None = None,
    secret: str = SECRET,
    **headers: str,
):
    """POST `body` to `path` signed as HubSpot signs (v3); `headers` override or add."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    timestamp = int(time.time() * 1000) if timestamp is None else timestamp
    signature = sign("POST", decode_uri(f"{BASE}{path}"), text, str(timestamp), secret)
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers={
            "X-HubSpot-Signature-v3": signature,
            "X-HubSpot-Request-Timestamp": str(timestamp),
            **headers,
        },
    )


def deliver(client, events, *, timestamp: int | None = None, secret: str = SECRET):
    return signed_post(
        client, "/hubspot/webhooks", json.dumps(events), timestamp=timestamp, secret=secret
    )


def decide(hub_id: int = 555) -> int:
    """What the decide task the receiver sent does in a worker (sync/tasks.py)."""
    return webhook_events_decide(hub_id)


def deliver_decided(client, events, **kwargs):
    """A delivery, then its decision, as HubSpot and the worker see it in production."""
    response = deliver(client, events, **kwargs)
    decide()
    return response


def test_a_trigger_stage_starts_one_run_after_commit(
    client, portal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = deliver(client, [event(101)])
    assert response.status_code == 204
    # Answered once stored: one publish (the decide task), nothing decided or started yet.
    assert len(callbacks) == 1
    assert WebhookEvent.objects.get().outcome == WebhookEvent.UNDECIDED
    assert Run.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert decide() == 1
    run = Run.objects.get()
    assert (run.subject_id, run.kind, run.trigger, run.status) == (
        "101",
        "invoice",
        "stage",
        "queued",
    )
    assert run.trigger_key == "stage:default:closedwon"
    assert len(callbacks) == 1  # the task is enqueued only once the transaction committed
    assert WebhookEvent.objects.get().outcome == f"triggered run {run.pk}"


def test_the_same_change_delivered_five_times_shuffled_gives_one_run(
    client, portal, django_capture_on_commit_callbacks
):
    deliveries = [[event(7, event_id=1), event(8, event_id=1)] for _ in range(5)]
    deliveries += [[event(8, event_id=2, generic=False)]]  # the legacy shape of the same change
    random.Random(4).shuffle(deliveries)
    with django_capture_on_commit_callbacks(execute=False):
        for batch in deliveries:
            random.Random(len(batch)).shuffle(batch)
            assert deliver_decided(client, batch).status_code == 204
    assert sorted(Run.objects.values_list("subject_id", flat=True)) == ["7", "8"]
    assert WebhookEvent.objects.count() == 2


def test_a_later_move_into_the_same_stage_creates_no_second_run(
    client, portal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        deliver_decided(client, [event(9, occurred=1_000)])
        deliver_decided(client, [event(9, occurred=2_000)])
    assert Run.objects.count() == 1
    assert (
        WebhookEvent.objects.order_by("occurred_at_ms").last().outcome.startswith("duplicate: run")
    )


@pytest.mark.parametrize(
    "stage, outcome",
    [
        ("appointmentscheduled", "ignored: stage is not a trigger stage of an added pipeline"),
    ],
)
def test_events_that_start_nothing_are_answered_and_recorded(client, portal, stage, outcome):
    assert deliver_decided(client, [event(10, stage=stage)]).status_code == 204
    assert Run.objects.count() == 0
    assert WebhookEvent.objects.get().outcome == outcome


def test_automatic_creation_off_records_the_trigger_as_skipped(client, portal):
    SyncSettings.objects.update(auto_create=False)
    assert deliver_decided(client, [event(11)]).status_code == 204
    assert WebhookEvent.objects.get().outcome.startswith("skipped: automatic creation is off")
    run = Run.objects.get()
    assert (run.subject_id, run.status, run.error_code) == ("11", "skipped", "auto_create_off")
    assert "automatic creation is off" in run.error_message


def test_a_portal_without_pipelines_is_not_set_up_rather_than_off(client, portal):
    PipelineSetting.objects.all().delete()
    assert deliver_decided(client, [event(13)]).status_code == 204
    assert WebhookEvent.objects.get().outcome == (
        "not set up: no pipeline is added in the app's settings yet"
    )
    assert Run.objects.count() == 0


@pytest.mark.parametrize("case", ["bad signature", "stale timestamp"])
def test_unsigned_or_stale_deliveries_are_refused_and_nothing_is_recorded(client, portal, case):
    if case == "bad signature":
        response = deliver_decided(client, [event(12)], secret="someone-else")
    else:
        response = deliver_decided(client, [event(12)], timestamp=int(time.time() * 1000) - 301_000)
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0
    assert Run.objects.count() == 0


def test_a_signed_event_lacking_its_ids_is_answered_2xx_and_recorded_as_rejected(client, portal):
    response = deliver_decided(client, [{"subscriptionType": "object.propertyChange"}])
    assert response.status_code == 200  # HubSpot would retry a 4xx for a day, to no avail
    assert response.json() == {
        "rejected": [
            "event 0: portalId: is required.; objectId: is required.; occurredAt: is required."
        ]
    }
    assert WebhookEvent.objects.count() == 0
    rejection = InboundRejection.objects.get()
    assert (rejection.kind, rejection.event_index) == ("webhook_event", 0)
    assert rejection.reason.startswith("portalId: is required.")


def test_every_event_of_an_acknowledged_delivery_is_stored_once_in_one_insert(
    client, portal, django_capture_on_commit_callbacks
):
    """The receiver stores a delivery's events in one INSERT (bench scenario `ack`) and
    decides nothing before it answers: every event of an acknowledged delivery is stored, a
    change repeated inside the delivery or sent again later is stored and decided once, and no
    savepoint is spent per event."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    batch = [
        event(301),  # a trigger: a run
        event(302, stage="appointmentscheduled"),  # no trigger: recorded, ignored
        event(303, occurred=5_000),
        event(303, occurred=5_000),  # the same change twice in one delivery
        event(304, stage="contractsent", generic=False),
    ]
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        assert deliver(client, batch).status_code == 204
    inserts = [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "sync_webhookevent"')]
    assert len(inserts) == 1
    assert not any("SAVEPOINT" in q["sql"] and "webhookevent" in q["sql"] for q in queries)
    assert len(callbacks) == 1  # one decide task for the portal, after the commit
    assert WebhookEvent.objects.filter(outcome=WebhookEvent.UNDECIDED).count() == 4
    assert Run.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert decide() == 4
    stored = dict(WebhookEvent.objects.values_list("object_id", "outcome"))
    runs = {run.subject_id: run.pk for run in Run.objects.all()}
    assert stored == {
        "301": f"triggered run {runs['301']}",
        "302": "ignored: stage is not a trigger stage of an added pipeline",
        "303": f"triggered run {runs['303']}",
        "304": "ignored: stage is not a trigger stage of an added pipeline",
    }
    assert sorted(runs) == ["301", "303"]
    assert len(callbacks) == 2  # one publish per new run, after the decision's commit
    # HubSpot sends the delivery again: every row is already there, nothing new is decided.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert deliver(client, list(reversed(batch))).status_code == 204
        assert decide() == 0
    assert WebhookEvent.objects.count() == 4
    assert dict(WebhookEvent.objects.values_list("object_id", "outcome")) == stored
    assert Run.objects.count() == 2
    assert callbacks == []


def test_the_answer_reads_nothing_and_writes_one_insert(client, portal):
    """Acknowledging a delivery costs its parsing, one INSERT and the commit (bench scenario
    `ack`, issue 18: p99 at most 2x /healthz's): no read of the portal, its settings or its
    runs, which the decide task does after the answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    batch = [event(401), event(402, stage="contractsent"), event(403, generic=False)]
    with CaptureQueriesContext(connection) as queries:
        assert deliver(client, batch).status_code == 204
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1
    assert statements[0].startswith('INSERT INTO "sync_webhookevent"')
    assert decide() == 3
    assert set(WebhookEvent.objects.values_list("outcome", flat=True)) == {
        f"triggered run {Run.objects.get(subject_id='401').pk}",
        f"triggered run {Run.objects.get(subject_id='403').pk}",
        "ignored: stage is not a trigger stage of an added pipeline",
    }


def test_a_portals_events_are_decided_in_the_order_they_happened(client, portal):
    """Events of one deal, delivered out of order (HubSpot does not promise order), are decided
    by occurredAt: the earliest move into the trigger stage starts the run, the later one is the
    duplicate, whatever order they arrived in."""
    deliver(client, [event(501, occurred=3_000, event_id=3)])
    deliver(client, [event(501, stage="appointmentscheduled", occurred=1_000, event_id=1)])
    deliver(client, [event(501, occurred=2_000, event_id=2)])
    assert decide() == 3
    run = Run.objects.get()
    outcomes = list(WebhookEvent.objects.order_by("occurred_at_ms").values_list("outcome"))
    assert outcomes == [
        ("ignored: stage is not a trigger stage of an added pipeline",),
        (f"triggered run {run.pk}",),
        (f"duplicate: run {run.pk} covers this trigger",),
    ]
    assert run.events.get().occurred_at_ms == 2_000
