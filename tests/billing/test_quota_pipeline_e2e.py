"""The quota through the whole pipeline (issue 17): deals moved in HubSpot's sandbox, webhooks
and workflow actions delivered over HTTP to the live service, real workers creating documents
in Fortnox's sandbox; the tests read back what users see: Fortnox's invoices, the notes on the
deals, the count."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.db import connections, transaction

from billing.models import Plan, PortalPlan, QuotaNotice, QuotaReservation, UsageRecord
from billing.services import usage_summary
from cloudify.celery import app
from integrations.models import HubSpotInstallation
from sandbox.hubspot.signing import signed_headers
from sync.models import Delivery, Run, WebhookEvent
from tests.conftest import worker_start, worker_stop
from tests.flows import Portal
from tests.sync.test_runs_e2e import FINISHED, note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINES = [{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}]
DEALS = 40
QUOTA = 25
# The racing worker has a thread per deal: all forty runs in flight at once.
WORKER_THREADS = DEALS
WORKFLOW_INVOICE = "5001"  # the sandbox's "Create Fortnox invoice" action definition


def plan_of(portal: Portal, quota: int) -> HubSpotInstallation:
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    plan = Plan.objects.create(code=f"q{quota}", name=f"Quota {quota}", monthly_quota=quota)
    PortalPlan.objects.update_or_create(installation=installation, defaults={"plan": plan})
    return installation


def counted(installation: HubSpotInstallation) -> int:
    return usage_summary(installation).used


def new_invoices(portal: Portal, before: set[str]) -> list[dict]:
    return [i for i in portal.fortnox_records("invoices") if i["DocumentNumber"] not in before]


def invoice_numbers(portal: Portal) -> set[str]:
    return {i["DocumentNumber"] for i in portal.fortnox_records("invoices")}


# -- 1. forty deals at once against a quota of 25 ----------------------------------------------


@pytest.fixture
def racing_worker(
    service_database_url, live_server, fortnox_server, hubspot_server
) -> Iterator[None]:
    """A worker with a thread per deal and the per-portal limit (SYNC_RUNS_PER_PORTAL, read by
    the worker from its environment) raised to match, so that the forty runs are in flight at
    once and their quota reservations race. If the suite's own worker (celery_worker_process,
    4 threads, limit 3) is up too, it takes some of the tasks; a run it finds over its limit
    waits and is handed to a free slot when an attempt ends (sync/dispatch.py), so nothing is
    lost, the race is only a little smaller."""
    name = f"racing-{os.getpid()}"
    node = f"{name}@{socket.gethostname()}"
    proc, log = worker_start(
        name,
        list(settings.CELERY_QUEUES_ALL),
        concurrency=WORKER_THREADS,
        DATABASE_URL=service_database_url,
        PUBLIC_BASE_URL=live_server.url,
        HUBSPOT_API_BASE=hubspot_server.url,
        HUBSPOT_APP_BASE=hubspot_server.url,
        FORTNOX_API_BASE=fortnox_server.url,
        FORTNOX_AUTH_BASE=fortnox_server.url,
        SYNC_RUNS_PER_PORTAL=str(DEALS),
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[node], timeout=1):  # ready: it consumes
            assert proc.poll() is None, f"the racing worker exited; see {name}.log"
            assert time.monotonic() < deadline, "the racing worker was not ready within 60 s"
        yield
    finally:
        worker_stop(proc, log)


def wait_for_deals(deals: list[str], timeout: float) -> list[Run]:
    """Every deal's run finished and what it tells HubSpot delivered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list(Run.objects.filter(subject_id__in=deals).order_by("pk"))
        if (
            len(runs) >= len(deals)
            and all(r.status in FINISHED for r in runs)
            and not Delivery.objects.filter(run__in=runs, status="pending").exists()
        ):
            return runs
        time.sleep(0.5)
    states: dict[str, int] = {}
    for run in Run.objects.filter(subject_id__in=deals):
        states[run.status] = states.get(run.status, 0) + 1
    raise AssertionError(f"the runs of {len(deals)} deals did not finish: {states}")


def most_at_once(runs: list[Run]) -> int:
    """The most runs that were between their start and their end at the same moment."""
    edges = sorted(
        [(r.started_at, 1) for r in runs if r.started_at]
        + [(r.finished_at, -1) for r in runs if r.finished_at]
    )
    level = peak = 0
    for _moment, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def test_forty_deals_at_once_against_a_quota_of_25_make_exactly_25_invoices(world, racing_worker):
    portal = portal_ready(world)
    installation = plan_of(portal, QUOTA)
    before = invoice_numbers(portal)
    deals = [portal.deal(LINES, name=f"Deal {n}") for n in range(DEALS)]

    # Forty salespeople drag their deal to Closed won at the same moment; HubSpot batches the
    # events into its webhook deliveries.
    with ThreadPoolExecutor(DEALS) as pool:
        list(pool.map(portal.move, deals))
    # At Fortnox's pace (4 calls/s per company) the forty runs need about a minute.
    runs = wait_for_deals(deals, timeout=180)

    assert len(runs) == DEALS  # one run per deal
    succeeded = [r for r in runs if r.status == "succeeded"]
    failed = [r for r in runs if r.status == "failed"]
    assert (len(succeeded), len(failed)) == (QUOTA, DEALS - QUOTA), [
        (r.subject_id, r.status, r.error_message) for r in runs if r.status != "succeeded"
    ]
    assert {r.error_code for r in failed} == {"quota_exceeded"}
    # The runs really were in flight together (the per-portal limit is 3 by default).
    assert most_at_once(runs) > settings.SYNC_RUNS_PER_PORTAL

    # Fortnox holds exactly the 25 invoices of the runs that succeeded, and nothing else.
    invoices = new_invoices(portal, before)
    assert len(invoices) == QUOTA
    assert {i["DocumentNumber"] for i in invoices} == {r.fortnox_document_number for r in succeeded}
    assert {i["ExternalInvoiceReference1"] for i in invoices} == {
        r.external_reference for r in succeeded
    }
    # 25 counted, one per invoice; no unit held any more.
    records = UsageRecord.objects.filter(installation=installation)
    assert sorted(records.values_list("document_number", flat=True)) == sorted(
        i["DocumentNumber"] for i in invoices
    )
    assert counted(installation) == QUOTA
    assert QuotaReservation.objects.count() == 0

    # Each deal over the quota says so on its note in HubSpot, with the day the quota resets.
    resets = usage_summary(installation).resets_at
    for run in failed:
        note = note_text(portal, run.subject_id)
        assert f"quota of {QUOTA} documents a month (plan Quota {QUOTA}) is used up" in note
        assert f"resets on {resets.day} {resets:%B %Y}" in note
        assert "Upgrade the plan on the Usage tab" in note
    # The 80 % and the 100 % notices come once each, on the deal that crossed the line.
    notes = {run.subject_id: note_text(portal, run.subject_id) for run in succeeded}
    at_80 = [d for d, n in notes.items() if re.search(rf"has used \d+ of the {QUOTA} doc", n)]
    at_100 = [d for d, n in notes.items() if f"used the last of the portal's quota of {QUOTA}" in n]
    assert len(at_80) == 1 and len(at_100) == 1, (at_80, at_100)
    assert sorted(QuotaNotice.objects.values_list("percent", "deal_id")) == [
        (80, at_80[0]),
        (100, at_100[0]),
    ]


# -- 2. a stage change delivered twice, and told in two events --------------------------------


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def test_a_stage_change_delivered_twice_and_told_in_two_events_counts_once(portal):
    installation = plan_of(portal, 5)
    world = portal.world
    before = invoice_numbers(portal)
    deal = portal.deal(LINES)

    portal.move(deal)
    world.hubspot_admin("POST", "/_sandbox/webhooks/drain", json={"timeout": 20})
    [delivered] = [
        event
        for entry in world.hubspot_admin("GET", "/_sandbox/deliveries?kind=webhook")
        for event in json.loads(entry["request_body"])
        if str(event["objectId"]) == deal and event.get("propertyValue") == "closedwon"
    ]
    # HubSpot delivers the same event again (same eventId); the change also comes in the legacy
    # subscription's shape under another eventId, and once more a moment later.
    again = {k: v for k, v in delivered.items() if k != "attemptNumber"}
    legacy = {
        **again,
        "eventId": again["eventId"] + 1000,
        "subscriptionType": "deal.propertyChange",
    }
    legacy.pop("objectTypeId", None)
    later = {**again, "eventId": again["eventId"] + 2000, "occurredAt": again["occurredAt"] + 1}
    world.hubspot_admin(
        "POST", "/_sandbox/webhooks/events", json={"portal": portal.hub, "events": [again, legacy]}
    )
    world.hubspot_admin(
        "POST", "/_sandbox/webhooks/events", json={"portal": portal.hub, "events": [later]}
    )
    world.hubspot_admin("POST", "/_sandbox/webhooks/drain", json={"timeout": 20})

    runs = wait_for_runs(deal)
    assert [r.status for r in runs if r.status != "skipped"] == ["succeeded"], [
        (r.status, r.error_message) for r in runs
    ]
    # Recorded once each: the first and `later` (the same change again is no new event).
    assert WebhookEvent.objects.filter(object_id=deal, property_value="closedwon").count() == 2
    [invoice] = new_invoices(portal, before)
    [record] = UsageRecord.objects.filter(deal_id=deal)
    assert record.document_number == invoice["DocumentNumber"]
    assert counted(installation) == 1
    assert QuotaReservation.objects.count() == 0


# -- 3. a workflow action delivered twice, and again after HubSpot timed out -------------------


def execution_state(portal: Portal, callback_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = portal.world.hubspot_admin(
            "GET", f"/_sandbox/workflows/executions/{callback_id}"
        )
        if execution["state"] in ("SUCCESS", "FAIL_CONTINUE", "FAILED", "EXPIRED"):
            return execution
        time.sleep(0.2)
    raise AssertionError(f"workflow execution {callback_id} still {execution['state']}")


def deliver_again(execution: dict) -> requests.Response:
    """HubSpot's request for `execution` once more, signed as HubSpot signs it."""
    body = json.dumps(execution["request"], separators=(",", ":"))
    headers = signed_headers(
        "workflow",
        settings.HUBSPOT_CLIENT_SECRET,
        "POST",
        execution["action_url"],
        body,
        int(time.time() * 1000),
    )
    return requests.post(
        execution["action_url"],
        data=body.encode(),
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )


def test_a_workflow_action_delivered_twice_at_once_counts_once(portal):
    installation = plan_of(portal, 5)
    before = invoice_numbers(portal)
    deal = portal.deal(LINES)

    started = portal.world.hubspot_admin(
        "POST",
        "/_sandbox/workflows/execute",
        json={"portal": portal.hub, "definition_id": WORKFLOW_INVOICE, "object_id": deal},
    )
    # The same execution request (same callbackId) twice more at the same moment.
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(deliver_again, [started, started]))
    assert [a.json()["outputFields"]["hs_execution_state"] for a in answers] == ["BLOCK"] * 2
    execution = execution_state(portal, started["callbackId"])

    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    assert execution["state"] == "SUCCESS"
    [invoice] = new_invoices(portal, before)
    assert execution["output_fields"]["fortnox_document_number"] == invoice["DocumentNumber"]
    assert UsageRecord.objects.filter(deal_id=deal).count() == 1
    assert counted(installation) == 1

    # After the run answered HubSpot, the request comes once more: still one document.
    assert deliver_again(started).json()["outputFields"]["hs_execution_state"] == "BLOCK"
    time.sleep(1)
    assert len(new_invoices(portal, before)) == 1
    assert [r.status for r in Run.objects.filter(subject_id=deal)] == ["succeeded"]
    assert counted(installation) == 1


def test_a_workflow_action_retried_by_hubspot_after_a_timeout_counts_once(portal):
    installation = plan_of(portal, 5)
    world = portal.world
    before = invoice_numbers(portal)
    deal = portal.deal(LINES)
    # HubSpot gives the app 1 s to answer, and retries a timed-out request after 60 s (here
    # divided by `speed`: 6 s), by when the run has created the invoice and completed the
    # callback. The app's first answer is late: the portal's row is locked for 2 s (a separate
    # connection), so the run's insert waits.
    world.hubspot_admin(
        "POST", "/_sandbox/webhooks/config", json={"workflow_timeout_ms": 1000, "speed": 10}
    )
    locked = threading.Event()

    def hold_the_portal() -> None:
        try:
            with transaction.atomic():
                HubSpotInstallation.objects.select_for_update().get(pk=installation.pk)
                locked.set()
                time.sleep(2)
        finally:
            connections["default"].close()

    holder = threading.Thread(target=hold_the_portal)
    holder.start()
    assert locked.wait(10)
    started = world.hubspot_admin(
        "POST",
        "/_sandbox/workflows/execute",
        json={"portal": portal.hub, "definition_id": WORKFLOW_INVOICE, "object_id": deal},
    )
    holder.join()
    execution = execution_state(portal, started["callbackId"], timeout=60)

    assert [h.get("error") for h in execution["history"]] == ["timeout", None]
    assert execution["state"] == "SUCCESS"
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    [invoice] = new_invoices(portal, before)
    assert execution["output_fields"]["fortnox_document_number"] == invoice["DocumentNumber"]
    [record] = UsageRecord.objects.filter(deal_id=deal)
    assert record.document_number == invoice["DocumentNumber"]
    assert counted(installation) == 1


# -- 4. a failed run gives its unit back ---------------------------------------------------------


def test_a_run_refused_by_fortnox_gives_its_unit_back_to_the_next_deal(portal):
    installation = plan_of(portal, 1)
    before = invoice_numbers(portal)
    refused, accepted = portal.deal(LINES), portal.deal(LINES)
    portal.world.fortnox_admin(
        "POST",
        "/_sandbox/faults/fail-next",
        json={"count": 1, "status": 400, "method": "POST", "path_prefix": "/3/invoices"},
    )

    portal.move(refused)
    [failed] = wait_for_runs(refused)
    assert failed.status == "failed" and failed.error_code != "quota_exceeded"
    assert "quota" not in note_text(portal, refused)
    assert QuotaReservation.objects.count() == 0
    assert counted(installation) == 0

    # The quota of 1 is free again: the next deal's invoice is created.
    portal.move(accepted)
    [run] = wait_for_runs(accepted)
    assert run.status == "succeeded", run.error_message
    assert [i["DocumentNumber"] for i in new_invoices(portal, before)] == [
        run.fortnox_document_number
    ]
    assert counted(installation) == 1
