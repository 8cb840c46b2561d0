"""An attempt stuck on a slow answer ends before its lease does, so the worker the sweep later
gives the run to never finds it still at work: one document, never two.

The attempt runs in this process (as a worker of the threads pool would, where Celery's time
limits do nothing), against the sandboxes over HTTP; only the lease is shortened, by its setting.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import HubSpotInstallation
from sync.execute import run_execute
from sync.models import Run
from tests.flows import Portal
from tests.sync.test_runs_e2e import portal_ready

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_S = 30
LINE = {"name": "Widget", "quantity": "2", "price": "150", "hs_sku": "WIDGET"}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def test_an_attempt_stuck_on_a_slow_answer_ends_before_its_lease_and_the_next_creates_once(
    portal, settings
):
    settings.SYNC_ATTEMPT_LEASE_S = LEASE_S
    portal.fortnox_api(
        "POST", "articles", json={"Article": {"ArticleNumber": "WIDGET", "Description": "Widget"}}
    )
    company = portal.create("companies", {"name": "Långsam AB"})
    deal = portal.deal([LINE], company=company)
    # Recorded but never sent to the worker: this test is the worker.
    run = Run.objects.create(
        installation=HubSpotInstallation.objects.get(hub_id=portal.hub),
        subject_id=deal,
        kind="invoice",
        trigger="stage",
        trigger_key="stage:default:closedwon",
    )
    # Fortnox answers after 40 s: longer than the whole lease.
    portal.world.fortnox_admin(
        "POST", "/_sandbox/faults/latency", json={"min_ms": 40_000, "max_ms": 40_000}
    )
    started = timezone.now()
    with pytest.raises(Exception) as stopped:
        run_execute(run.pk)
    ended = timezone.now()
    portal.world.fortnox_admin("POST", "/_sandbox/faults/latency", json={"min_ms": 0, "max_ms": 0})

    # The attempt gave up on the slow answer in time, said why, and let go of the run.
    assert ended < started + timedelta(seconds=LEASE_S)
    assert getattr(stopped.value, "transient", False), stopped.value
    run.refresh_from_db()
    assert (run.status, run.lease_until, run.attempts) == ("queued", None, 1)
    fortnox_steps = list(run.steps.filter(kind="call", service="fortnox"))
    assert fortnox_steps and all(s.status is None for s in fortnox_steps)  # no answer came
    assert not run.steps.filter(service="fortnox", method="POST").exists()

    # The next attempt (another worker, once the lease is over) creates the invoice once.
    time.sleep(1)
    run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error_message
    mine = [
        i
        for i in portal.fortnox_records("invoices")
        if i["ExternalInvoiceReference1"] == run.external_reference
    ]
    assert len(mine) == 1
    assert mine[0]["DocumentNumber"] == run.fortnox_document_number
