"""Fair dispatch, end to end: a portal with a backlog of deals does not hold every worker, and
runs whose task or worker was lost are sent again by the sweep (sync/dispatch.py)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from integrations.models import HubSpotInstallation
from sync.dispatch import runs_sweep
from sync.models import Run
from tests.flows import FORTNOX_NO_ORDER_COMPANY, OTHER_HUB, Portal
from tests.sync.test_runs_e2e import note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}


@pytest.fixture
def busy_and_quiet(world, celery_worker_process) -> tuple[Portal, Portal]:
    return portal_ready(world), portal_ready(world, OTHER_HUB, FORTNOX_NO_ORDER_COMPANY)


def _finished(hub: int, deals: list[str], timeout: float = 120) -> list[Run]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list(Run.objects.filter(installation__hub_id=hub, subject_id__in=deals))
        if len(runs) == len(deals) and all(r.status == "succeeded" for r in runs):
            return runs
        time.sleep(0.2)
    states = [(r.subject_id, r.status, r.error_message) for r in runs]
    raise AssertionError(f"runs of portal {hub} did not all succeed: {states}")


def test_a_portal_with_a_backlog_does_not_make_another_portal_wait(busy_and_quiet):
    busy, quiet = busy_and_quiet
    # Realistic API latency, so that each run takes a while and the backlog is a real one.
    for admin in (busy.world.fortnox_admin, busy.world.hubspot_admin):
        admin("POST", "/_sandbox/faults/latency", json={"min_ms": 50, "max_ms": 150})
    backlog = [busy.deal([LINE]) for _ in range(16)]
    single = quiet.deal([LINE])

    for deal in backlog:
        busy.move(deal)
    quiet.move(single)
    [quiet_run] = _finished(quiet.hub, [single])
    busy_runs = _finished(busy.hub, backlog, timeout=180)

    # The worker has 4 threads and the busy portal may hold 3 of them, so the quiet portal's run
    # starts at once. Without the limit (SYNC_RUNS_PER_PORTAL=100), 6 of the 16 backlog runs
    # finished before it on the machine this was written on; with it, none did.
    assert settings.SYNC_RUNS_PER_PORTAL == 3
    before = [r for r in busy_runs if r.finished_at < quiet_run.finished_at]
    assert len(before) <= 3, f"{len(before)} of the backlog finished before the quiet portal's run"
    # Nothing lost or doubled in the backlog: one invoice per deal, each with its note.
    references = {r.external_reference for r in busy_runs}
    invoices = [
        i for i in busy.fortnox_records("invoices") if i["ExternalInvoiceReference1"] in references
    ]
    assert len(invoices) == len(backlog) == len(references)
    assert "created" in note_text(quiet, single)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def _run_left_behind(portal: Portal, **state) -> tuple[str, Run]:
    """A run as a lost task or a dead worker leaves it: recorded, never executed."""
    deal = portal.deal([LINE])
    run = Run.objects.create(
        installation=HubSpotInstallation.objects.get(hub_id=portal.hub),
        subject_id=deal,
        kind="invoice",
        trigger="stage",
        trigger_key="stage:default:closedwon",
        **state,
    )
    return deal, run


@pytest.mark.parametrize(
    "left_behind",
    [
        "task lost before it started",
        "worker died mid-attempt",
        "hand-off lost while the run waited for a slot",
    ],
)
def test_the_sweep_sends_again_a_run_that_was_left_behind(portal, left_behind):
    now = timezone.now()
    state = {
        "task lost before it started": {"dispatched_at": now - timedelta(minutes=11)},
        "worker died mid-attempt": {
            "status": "running",
            "attempts": 1,
            "lease_until": now - timedelta(seconds=1),
        },
        "hand-off lost while the run waited for a slot": {"waiting_since": now},
    }[left_behind]
    deal, run = _run_left_behind(portal, **state)
    invoices_before = len(portal.fortnox_records("invoices"))

    sent = runs_sweep()

    assert sum(sent.values()) == 1, sent
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    assert len(portal.fortnox_records("invoices")) == invoices_before + 1
    assert "created" in note_text(portal, deal)


def test_the_sweep_leaves_alone_runs_under_way_and_due_later(portal):
    now = timezone.now()
    _deal, running = _run_left_behind(
        portal, status="running", attempts=1, lease_until=now + timedelta(minutes=3)
    )
    _other, retrying = _run_left_behind(portal, dispatched_at=now + timedelta(minutes=2))

    assert runs_sweep() == {"lost_tasks": 0, "lost_workers": 0, "waiting": 0}
    running.refresh_from_db()
    retrying.refresh_from_db()
    assert (running.status, running.attempts) == ("running", 1)
    assert (retrying.status, retrying.attempts) == ("queued", 0)
