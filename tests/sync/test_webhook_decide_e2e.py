"""The webhook receiver answers once HubSpot's events are stored; a worker decides them. Through
both sandboxes and a real worker: an acknowledged change whose decide task never reached the
broker still becomes exactly one Fortnox invoice, by the sweep."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from celery import current_app
from django.utils import timezone
from kombu.exceptions import OperationalError

from sync.models import Run, WebhookEvent
from sync.webhooks import DECIDE_OVERDUE, DECIDE_TASK, webhook_events_sweep
from tests.flows import webhook_events_decided
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process):
    return portal_ready(world)


def test_a_stage_change_acknowledged_while_its_publish_fails_makes_one_invoice_by_the_sweep(
    portal, monkeypatch
):
    deal = portal.deal([{"name": "A", "quantity": "2", "price": "150", "hs_sku": "1"}])
    invoices_before = len(portal.fortnox_records("invoices"))
    send_task = current_app.send_task

    def broker_down_for_decisions(name, *args, **kwargs):
        # The broker is unreachable just when the receiver publishes (the web process could as
        # well die between its commit and the publish): the delivery is stored, undecided.
        if name == DECIDE_TASK:
            raise OperationalError("Error 111 connecting to the broker. Connection refused.")
        return send_task(name, *args, **kwargs)

    monkeypatch.setattr(current_app, "send_task", broker_down_for_decisions)
    portal.move(deal)
    assert portal.world.hubspot_admin("POST", "/_sandbox/webhooks/drain", json={"timeout": 20})[
        "drained"
    ]
    deliveries = portal.world.hubspot_admin("GET", "/_sandbox/deliveries?kind=webhook")
    # Acknowledged at the first try: HubSpot does not retry it.
    assert deliveries and all(200 <= d["status"] < 300 for d in deliveries)
    stage_change = WebhookEvent.objects.get(object_id=deal, property_value="closedwon")
    assert stage_change.outcome == WebhookEvent.UNDECIDED
    time.sleep(1)  # a worker had time to act, had anything reached it
    assert not Run.objects.filter(subject_id=deal).exists()

    monkeypatch.setattr(current_app, "send_task", send_task)  # the broker is back
    assert webhook_events_sweep(timezone.now() + DECIDE_OVERDUE + timedelta(seconds=1)) == {
        "portals": 1
    }
    webhook_events_decided()
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    stage_change.refresh_from_db()
    assert stage_change.outcome == f"triggered run {run.pk}"
    assert len(portal.fortnox_records("invoices")) == invoices_before + 1
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert Decimal(str(invoice["Net"])) == Decimal("300.00")
    assert invoice["ExternalInvoiceReference1"] == run.external_reference
    # The sweep again, and a late copy of the task: nothing is decided twice.
    assert webhook_events_sweep(timezone.now() + DECIDE_OVERDUE + timedelta(seconds=1)) == {
        "portals": 0
    }
    assert Run.objects.filter(subject_id=deal).count() == 1
