"""Pacing against the Fortnox sandbox's real limit (25 requests per sliding 5 s per client and
company): many runs of one tenant, with more work of the same tenant on another "machine", press
against the limit and no call is refused; and a 429 that does come (a client outside the
service's pacing eats part of the budget) slows the tenant down rather than setting off a storm
of repeats. Call counts and statuses come from the sandbox's request log, not from timings."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import redis
import requests
from django.conf import settings
from django.db import connection as db_connection

from billing.models import Plan, PortalPlan
from integrations import ratelimit
from integrations.errors import IntegrationError
from integrations.fortnox.client import FortnoxClient, fortnox_rate_key
from integrations.models import FortnoxConnection, HubSpotInstallation
from tests.flows import Portal
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

FORTNOX_LIMIT, FORTNOX_WINDOW = 25, 5.0  # the sandbox's, as Fortnox's (fortnox-api.md §2)


@pytest.fixture
def tenant(world, celery_worker_process) -> Portal:
    """Installed, Fortnox company 1 connected, the default pipeline added: Closed won → invoice;
    on a plan whose quota these tests' documents do not reach (the Free plan's is 10)."""
    portal = portal_ready(world)
    plan = Plan.objects.create(code="pacing", name="Pacing", monthly_quota=1000)
    PortalPlan.objects.update_or_create(
        installation=HubSpotInstallation.objects.get(hub_id=portal.hub), defaults={"plan": plan}
    )
    return portal


def _pace_fresh(key: str) -> None:
    """Forget earlier tests' calls and 429s of this tenant (a test with a 429 slows it for a
    while): this test measures the pace from its start."""
    if settings.REDIS_URL:
        redis.Redis.from_url(settings.REDIS_URL).delete(*ratelimit._redis_keys(key))


def _fortnox_log(portal: Portal) -> list[dict]:
    return portal.world.fortnox_admin(
        "GET", "/_sandbox/requests", params={"company": portal.company, "path_prefix": "/3/"}
    )


def _most_in_any_window(entries: list[dict], window: float) -> int:
    times = sorted(dt.datetime.fromisoformat(e["timestamp"]).timestamp() for e in entries)
    return max(
        (sum(1 for t in times[i:] if t <= start + window) for i, start in enumerate(times)),
        default=0,
    )


def _another_machine(
    fortnox: FortnoxConnection, stop: threading.Event, calls: list[tuple[float, int | None]]
) -> list[threading.Thread]:
    """Other work of the same tenant in another process (this test's), paced through the same
    Redis log as the worker's runs: three workers reading the company information until told to
    stop, keeping when each call was sent and its status (0: the call gave up)."""

    def work() -> None:
        client = FortnoxClient(
            fortnox, observer=lambda record: calls.append((time.monotonic(), record.status))
        )
        try:
            while not stop.is_set():
                try:
                    client.company_information()
                except IntegrationError:
                    calls.append((time.monotonic(), 0))
        finally:
            db_connection.close()

    return [threading.Thread(target=work) for _ in range(3)]


def _deals(portal: Portal, count: int) -> list[str]:
    return [
        portal.deal(
            [{"name": "A", "quantity": "1", "price": str(100 + n), "hs_sku": "1"}], name=f"D{n}"
        )
        for n in range(count)
    ]


@pytest.mark.skipif(not settings.REDIS_URL, reason="the worker and this test share Redis's log")
def test_runs_of_one_tenant_and_another_machine_press_on_the_limit_and_none_is_refused(tenant):
    portal = tenant
    fortnox = FortnoxConnection.objects.get(installation__hub_id=portal.hub)
    _pace_fresh(fortnox_rate_key(fortnox))
    deals = _deals(portal, 12)
    invoices_before = len(portal.fortnox_records("invoices"))
    portal.world.fortnox_admin("DELETE", "/_sandbox/requests")

    stop, extra_calls = threading.Event(), []
    machine = _another_machine(fortnox, stop, extra_calls)
    for thread in machine:
        thread.start()
    try:
        for deal in deals:
            portal.move(deal)
        runs = [run for deal in deals for run in wait_for_runs(deal, timeout=240)]
    finally:
        stop.set()
        for thread in machine:
            thread.join()

    assert [r.status for r in runs] == ["succeeded"] * len(deals), [r.error_message for r in runs]
    assert len(portal.fortnox_records("invoices")) == invoices_before + len(deals)
    log = _fortnox_log(portal)
    # Far more calls than one window holds, so the tenant's pace was the bound...
    assert len(log) > 3 * FORTNOX_LIMIT and extra_calls
    # ...yet Fortnox refused none, and no run met a 429.
    assert [e for e in log if e["status"] == 429] == []
    assert 0 not in [status for _, status in extra_calls]
    assert not any(s.status == 429 for run in runs for s in run.steps.filter(service="fortnox"))
    assert all(r.attempts == 1 for r in runs)
    # Pressed close to the limit: at least 92 % of it in the busiest window (24 of 25).
    assert _most_in_any_window(log, FORTNOX_WINDOW) >= 0.92 * FORTNOX_LIMIT


@pytest.mark.skipif(not settings.REDIS_URL, reason="the worker and this test share Redis's log")
def test_a_client_outside_the_pacing_draws_429s_that_slow_the_tenant_without_a_storm(tenant):
    portal = tenant
    fortnox = FortnoxConnection.objects.get(installation__hub_id=portal.hub)
    key = fortnox_rate_key(fortnox)
    _pace_fresh(key)
    # Another client of the same client id and company, not paced by the service: a token of
    # the sandbox's own (it shares the budget of the client id, sandbox/fortnox/README.md).
    token = portal.world.fortnox_admin("POST", "/_sandbox/tokens", json={"company": portal.company})
    deals = _deals(portal, 8)
    invoices_before = len(portal.fortnox_records("invoices"))
    portal.world.fortnox_admin("DELETE", "/_sandbox/requests")

    stop = threading.Event()

    def intruder() -> None:
        """Ten calls every 5 s: with them the tenant's full pace (24) no longer fits."""
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token['access_token']}"
            while not stop.wait(0.5):
                session.get(f"{portal.world.fortnox}/3/companyinformation", timeout=10)

    machine_calls: list[tuple[float, int | None]] = []
    threads = [threading.Thread(target=intruder), *_another_machine(fortnox, stop, machine_calls)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        for deal in deals:
            portal.move(deal)
        runs = [run for deal in deals for run in wait_for_runs(deal, timeout=240)]
        # At least 25 s: long enough for a pace that does not adapt to be refused window after
        # window.
        stop.wait(max(0.0, started + 25 - time.monotonic()))
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    # Every run made its document, once, in its first attempt: the 429s were ridden out.
    assert [r.status for r in runs] == ["succeeded"] * len(deals), [r.error_message for r in runs]
    assert len(portal.fortnox_records("invoices")) == invoices_before + len(deals)
    assert all(r.attempts == 1 for r in runs)
    # No call of the other machine gave up either.
    assert 0 not in [status for _, status in machine_calls]
    # The tenant was slowed after each 429: its allowance halved (12 per 5.2 s) fits beside the
    # intruder's 10 per 5 s, so the refusals end within the window of calls already reserved
    # at the full pace (and their repeats' backoff). They come back only when the pace tries
    # the full rate again after a quiet RATE_LIMIT_RECOVERY_S (30 s), not window after window.
    refused = sorted(at for at, status in machine_calls if status == 429)
    assert refused, "the intruder should have drawn at least one 429"
    episodes: list[list[float]] = []
    for at in refused:
        if episodes and at - episodes[-1][-1] <= ratelimit.FORTNOX_RATE.window_s:
            episodes[-1].append(at)
        else:
            episodes.append([at])
    shown = [[round(at - started, 1) for at in episode] for episode in episodes]
    assert all(episode[-1] - episode[0] <= 10 for episode in episodes), shown
    assert all(b[0] - a[-1] >= 20 for a, b in zip(episodes, episodes[1:], strict=False)), shown
    run_refusals = [
        s.status for run in runs for s in run.steps.filter(service="fortnox") if s.status == 429
    ]
    # At most a window's worth of refusals each time: no storm of repeats.
    assert len(refused) + len(run_refusals) <= ratelimit.FORTNOX_RATE.limit * len(episodes)
