"""An attempt stuck on a slow answer ends before its lease does, so the worker the sweep later
gives the run to never finds it still at work: one document, never two.

The worker runs Celery's threads pool, where Celery's time limits do nothing (celery#9203): the
attempt's deadline (integrations/deadline.py) is what ends it. The first test runs the attempt in
this process; the second runs it in a real worker process of that pool, started with a short
lease, on a queue of its own; both against the sandboxes over HTTP.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.models import HubSpotInstallation
from sync.dispatch import attempt_end, attempt_start
from sync.execute import run_execute
from sync.models import Run
from tests.conftest import worker_start, worker_stop
from tests.flows import Portal
from tests.sync.test_runs_e2e import portal_ready

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_S = 30
LINE = {"name": "Widget", "quantity": "2", "price": "150", "hs_sku": "WIDGET"}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def widget_run(portal, company_name: str) -> Run:
    """A deal of one WIDGET line for a new company, and its invoice run, recorded but not sent
    to any worker."""
    portal.fortnox_api(
        "POST", "articles", json={"Article": {"ArticleNumber": "WIDGET", "Description": "Widget"}}
    )
    company = portal.create("companies", {"name": company_name})
    deal = portal.deal([LINE], company=company)
    return Run.objects.create(
        installation=HubSpotInstallation.objects.get(hub_id=portal.hub),
        subject_id=deal,
        kind="invoice",
        trigger="stage",
        trigger_key="stage:default:closedwon",
    )


def test_an_attempt_stuck_on_a_slow_answer_ends_before_its_lease_and_the_next_creates_once(
    portal, settings
):
    settings.SYNC_ATTEMPT_LEASE_S = LEASE_S
    # Recorded but never sent to the worker: this test is the worker.
    run = widget_run(portal, "Långsam AB")
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


# The short-lease worker's own queue: the suite's worker (every usual queue) never takes its runs,
# and a run's retry goes back to the queue its task came from.
SHORT_LEASE_QUEUE = "short-lease"
HELD_S = 40  # the Fortnox sandbox answers the create this long after committing it


@pytest.fixture
def short_lease_worker(portal, service_database_url):
    """A second worker process, of the threads pool like production's, whose attempts hold a run
    LEASE_S seconds (their calls end 15 s before) and retry after about a second."""
    from cloudify.tasks import worker_ping

    world = portal.world
    proc, log = worker_start(
        "worker-short-lease",
        [SHORT_LEASE_QUEUE],
        concurrency=2,
        DATABASE_URL=service_database_url,
        PUBLIC_BASE_URL=world.app,
        HUBSPOT_API_BASE=world.hubspot,
        HUBSPOT_APP_BASE=world.hubspot,
        FORTNOX_API_BASE=world.fortnox,
        FORTNOX_AUTH_BASE=world.fortnox,
        SYNC_ATTEMPT_LEASE_S=str(LEASE_S),
        SYNC_RETRY_BASE_S="1",
    )
    try:
        worker_ping.apply_async(queue=SHORT_LEASE_QUEUE).get(timeout=60)
        yield proc
    finally:
        worker_stop(proc, log)


def test_a_worker_attempt_stuck_in_the_create_ends_before_the_next_starts_and_one_invoice_results(
    portal, short_lease_worker
):
    from celery import current_app

    from sync.dispatch import RUN_TASK

    run = widget_run(portal, "Hållen AB")
    # Fortnox creates the invoice at once but answers HELD_S later: longer than the whole lease.
    portal.world.fortnox_admin(
        "POST",
        "/_sandbox/faults/commit-then-hold",
        json={"count": 1, "path_prefix": "/3/invoices", "seconds": HELD_S},
    )
    current_app.send_task(RUN_TASK, args=[run.pk], queue=SHORT_LEASE_QUEUE)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert run.status == "succeeded", (run.status, run.error_message)
    assert run.attempts == 2

    # The first attempt sent the create, got no answer, and had ended (its last step recorded)
    # before the second attempt made its first call, well before the held answer came.
    # (The calls of the attempts themselves: the run's deliveries, sent by the other worker
    # meanwhile, are recorded under the attempt that made them, with what they were for.)
    calls = run.steps.filter(kind="call").exclude(message__startswith="delivery")
    first = list(calls.filter(attempt=1))
    second = list(calls.filter(attempt=2))
    [create] = [s for s in first if s.method == "POST" and s.path.startswith("/3/invoices")]
    assert create.status is None
    assert create.duration_ms < LEASE_S * 1000
    assert max(s.at for s in first) < min(s.at for s in second)
    sent = create.at - timedelta(milliseconds=create.duration_ms)
    assert min(s.at for s in second) < sent + timedelta(seconds=HELD_S)
    # The second found the invoice the first had created, said so, and created none.
    assert not [s for s in second if s.method == "POST" and s.path.startswith("/3/invoices")]
    assert run.steps.filter(attempt=2, kind="info", message__startswith="Adopted invoice").exists()

    # Fortnox has exactly one invoice for the run, created by one request, equal to the deal.
    posts = [
        r
        for r in portal.world.fortnox_admin(
            "GET", f"/_sandbox/requests?company={portal.company}&path_prefix=/3/invoices"
        )
        if r["method"] == "POST" and r["path"].rstrip("/") == "/3/invoices"
    ]
    assert len(posts) == 1
    mine = [
        i
        for i in portal.fortnox_records("invoices")
        if i["ExternalInvoiceReference1"] == run.external_reference
    ]
    assert len(mine) == 1
    [invoice] = mine
    assert invoice["DocumentNumber"] == run.fortnox_document_number
    [row] = invoice["InvoiceRows"]
    assert (row["ArticleNumber"], Decimal(str(row["DeliveredQuantity"]))) == ("WIDGET", 2)
    assert Decimal(str(invoice["Total"])) == Decimal("375")  # 2 × 150, 25 % VAT


def test_an_attempt_that_outlived_its_lease_leaves_the_run_to_the_attempt_that_holds_it(portal):
    # In the threads pool nothing ends a thread stuck outside a HubSpot or Fortnox call (a
    # database lock, say): its attempt may end after its lease, when another holds the run.
    deal = portal.deal([LINE])
    run = Run.objects.create(
        installation=HubSpotInstallation.objects.get(hub_id=portal.hub),
        subject_id=deal,
        kind="invoice",
        trigger="stage",
        trigger_key="stage:default:closedwon",
    )  # recorded, never sent: this test plays both workers
    stuck = attempt_start(run.pk)
    Run.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    holder = attempt_start(run.pk)  # the lease is over: another worker's attempt takes the run
    assert (holder.attempts, holder.status) == (2, "running")

    attempt_end(stuck)  # the stuck attempt ends at last

    run.refresh_from_db()
    assert (run.status, run.attempts, run.lease_until) == ("running", 2, holder.lease_until)
    assert attempt_start(run.pk) is None  # no third attempt beside the second
    attempt_end(holder)
    run.refresh_from_db()
    assert (run.status, run.lease_until) == ("queued", None)
