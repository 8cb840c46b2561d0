"""Pacing: the sliding-window log hands out slots so that no window holds more calls than the
service allows, runs at 92 % of the limit or more, slows a tenant down after a 429 and recovers;
and each log is the one the service counts in (Fortnox: client and company; HubSpot: app and
portal)."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from integrations import ratelimit
from integrations.fortnox.client import FortnoxClient
from integrations.hubspot import crm
from integrations.hubspot.client import HubSpotClient
from sandbox.core.ratelimit import SlidingWindowLimiter
from tests.flows import FORTNOX_COMPANY, FORTNOX_NO_ORDER_COMPANY, HUB, OTHER_HUB

# The services' own limits (fortnox-api.md §2, hubspot-api.md §7), which the defaults serve.
FORTNOX_LIMIT, FORTNOX_WINDOW = 25, 5.0
HUBSPOT_LIMIT, HUBSPOT_WINDOW = 110, 10.0
ALLOWANCE = 4  # the clients' allowance in the tests of which log they pace in


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _most_in_any_window(slots: list[float], window: float) -> int:
    """The most slots in any closed window [t, t + window] (the fullest starts at a slot)."""
    slots = sorted(slots)
    most, end = 0, 0
    for start, first in enumerate(slots):
        while end < len(slots) and slots[end] <= first + window:
            end += 1
        most = max(most, end - start)
    return most


def _key() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_the_defaults_are_at_least_92_percent_of_each_limit_with_time_to_spare():
    fortnox, hubspot = ratelimit.FORTNOX_RATE, ratelimit.HUBSPOT_RATE
    assert fortnox.per_second >= 0.92 * FORTNOX_LIMIT / FORTNOX_WINDOW
    assert hubspot.per_second >= 0.92 * HUBSPOT_LIMIT / HUBSPOT_WINDOW
    assert fortnox.limit < FORTNOX_LIMIT and fortnox.window_s > FORTNOX_WINDOW
    assert hubspot.limit < HUBSPOT_LIMIT and hubspot.window_s > HUBSPOT_WINDOW


# -- the local log, on a fake clock ----------------------------------------------------------------
@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    limit=st.integers(1, 30),
    window=st.sampled_from([0.5, 1.0, 5.2, 10.2]),
    gaps=st.lists(st.floats(0, 3), min_size=1, max_size=200),
    limited_at=st.sets(st.integers(0, 199), max_size=5),
)
def test_no_window_ever_holds_more_than_the_limit_and_slots_keep_arrival_order(
    limit, window, gaps, limited_at
):
    clock = FakeClock()
    logs = ratelimit._LocalLogs(clock)
    rate = ratelimit.Rate(limit, window)
    slots = []
    for index, gap in enumerate(gaps):
        clock.now += gap  # callers arrive at any pace, bursts and lulls
        if index in limited_at:
            logs.rate_limited("k", rate, recovery=7.0)
        wait, slot = logs.reserve_slot("k", rate, recovery=7.0)
        assert wait >= 0 and slot == pytest.approx(clock.now + wait)
        assert not slots or slot >= slots[-1]  # arrival order
        slots.append(slot)
    assert _most_in_any_window(slots, window) <= limit


def _saturated(rate: ratelimit.Rate, seconds: float, delay=lambda: 0.0) -> list[float]:
    """A caller always ready: reserves, sleeps (on a fake clock) until its slot, calls. Each
    call reaches the service `delay()` seconds after its slot. Returns the arrival times."""
    clock = FakeClock()
    logs = ratelimit._LocalLogs(clock)
    start, arrivals = clock.now, []
    while clock.now < start + seconds:
        wait, slot = logs.reserve_slot("k", rate, recovery=30.0)
        clock.now = slot
        if slot < start + seconds:
            arrivals.append(slot - start + delay())
    return arrivals


@pytest.mark.parametrize(
    ("rate", "limit", "window"),
    [
        (ratelimit.FORTNOX_RATE, FORTNOX_LIMIT, FORTNOX_WINDOW),
        (ratelimit.HUBSPOT_RATE, HUBSPOT_LIMIT, HUBSPOT_WINDOW),
    ],
)
def test_a_saturated_tenant_gets_at_least_92_percent_of_the_limit_and_is_never_refused(
    rate, limit, window
):
    arrivals = _saturated(rate, 20.0)
    assert len(arrivals) >= 0.92 * limit / window * 20
    # However long it goes on, not only thanks to the first window's burst.
    long_run = _saturated(rate, 200.0)
    for seconds in (20.0, 50.0, 104.0, 199.0):
        assert sum(1 for t in long_run if t < seconds) >= 0.92 * limit / window * seconds
    # The service, counting as the sandbox does, refuses none of them, even when each call
    # reaches it up to 0.2 s after its slot (a busy machine, the network).
    jitter = random.Random(18)
    for late in (_saturated(rate, 60.0), _saturated(rate, 60.0, lambda: jitter.uniform(0, 0.2))):
        service_clock = FakeClock()
        service = SlidingWindowLimiter(limit, window, clock=service_clock)
        for arrival in sorted(late):
            service_clock.now = arrival
            assert service.hit("tenant")[0], f"refused at {arrival:.3f} s"


def test_a_429_halves_the_allowance_once_per_window_and_quiet_periods_restore_it():
    clock = FakeClock()
    logs = ratelimit._LocalLogs(clock)
    rate, recovery = ratelimit.FORTNOX_RATE, 30.0

    def calls_in_window_from(moment: float) -> int:
        """A saturated caller's calls in the window starting at `moment` (after a lull)."""
        clock.now, count = moment, 0
        while logs.reserve_slot("k", rate, recovery)[1] < moment + rate.window_s:
            count += 1
        return count

    def limited_at(moment: float) -> int:
        clock.now = moment
        return logs.rate_limited("k", rate, recovery)

    assert calls_in_window_from(1000) == 24
    assert limited_at(1010) == 1
    # Calls in flight when it came meet the same 429: they do not halve it again.
    assert limited_at(1011) == 1
    assert calls_in_window_from(1020) == 12
    # A 429 a window later does: the halved pace was still too much.
    assert limited_at(1030) == 2
    assert calls_in_window_from(1040) == 6
    # Never below an eighth.
    assert [limited_at(1040 + 10 * n) for n in range(1, 6)] == [3, 3, 3, 3, 3]
    assert calls_in_window_from(1100) == 3
    # Each quiet 30 s after the last 429 (at 1090) doubles it back.
    assert calls_in_window_from(1090 + recovery + 1) == 6
    assert calls_in_window_from(1090 + 2 * recovery + 1) == 12
    assert calls_in_window_from(1090 + 3 * recovery + 1) == 24
    # Another tenant was never slowed.
    assert [logs.reserve_slot("other", rate, recovery)[0] for _ in range(24)] == [0.0] * 24


# -- the Redis log, shared by every worker ---------------------------------------------------------
needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="no Redis in this run (make test uses Redis when it answers)"
)


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_back_to_back_calls_never_exceed_fortnox_window(backend, monkeypatch):
    if backend == "redis" and not settings.REDIS_URL:
        pytest.skip("no Redis in this run (make test uses Redis when it answers)")
    if backend == "local":
        monkeypatch.setattr(settings, "REDIS_URL", "")
    key, rate = _key(), ratelimit.FORTNOX_RATE
    reserved = [ratelimit.reserve_slot(key, rate) for _ in range(96)]
    waits, slots = [wait for wait, _ in reserved], [slot for _, slot in reserved]
    assert waits[: rate.limit] == [0] * rate.limit
    # Even with calls reaching Fortnox 0.2 s after their slots, its 5 s never sees more than 24.
    assert _most_in_any_window(slots, FORTNOX_WINDOW + 0.2) <= 24
    # And the pacing is not wastefully slow: 96 calls, four windows of 24, in 3 × 5.2 s.
    assert 15.6 <= max(slots) - min(slots) <= 15.7


@needs_redis
def test_many_threads_on_the_redis_log_never_exceed_a_window_and_keep_the_pace():
    key, rate = _key(), ratelimit.FORTNOX_RATE
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = [ratelimit.reserve_slot(key, rate)[1] for _ in range(30)]
        assert mine == sorted(mine)  # each worker's calls in the order it made them
        with lock:
            slots.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(slots) == 240
    assert _most_in_any_window(slots, rate.window_s) <= rate.limit
    assert _most_in_any_window(slots, FORTNOX_WINDOW + 0.2) <= 24
    # Ten windows of 24: the last slot about 9 × 5.2 s after the first (reserving takes time).
    span = max(slots) - min(slots)
    assert 9 * rate.window_s <= span <= 9 * rate.window_s + 3


@needs_redis
def test_a_429_slows_every_worker_of_the_tenant_through_redis_and_it_recovers(settings):
    settings.RATE_LIMIT_RECOVERY_S = 1
    key, rate = _key(), ratelimit.Rate(limit=8, window_s=0.5)

    assert ratelimit.rate_limited(key, rate) == 1
    assert ratelimit.rate_limited(key, rate) == 1  # the same window: once
    slots = [ratelimit.reserve_slot(key, rate)[1] for _ in range(8)]
    assert _most_in_any_window(slots, rate.window_s) == 4
    assert ratelimit.reserve_slot(_key(), rate)[0] == 0  # another tenant: full pace

    time.sleep(1.6)  # a quiet second: back to the full allowance
    waits = [ratelimit.reserve(key, rate) for _ in range(9)]
    assert waits[:8] == [0] * 8 and waits[8] > 0


# -- the logs the clients pace in ------------------------------------------------------------------
@pytest.fixture
def fresh_buckets(settings, monkeypatch):
    """Empty in-process logs with a small allowance (4 calls a second), so earlier tests' calls
    cannot make these wait and a few calls show whether two clients share a log."""
    settings.REDIS_URL = ""
    monkeypatch.setattr(ratelimit, "_local", ratelimit._LocalLogs())
    for client in (FortnoxClient, HubSpotClient):
        small = ratelimit.Rate(limit=ALLOWANCE, window_s=1.0)
        monkeypatch.setattr(client, "policy", dataclasses.replace(client.policy, rate=small))


def test_bucket_keys_name_what_the_service_counts_in():
    assert ratelimit.fortnox_key("client", "1000001") != ratelimit.fortnox_key("client", "1000002")
    assert ratelimit.fortnox_key("client", "1000001") != ratelimit.fortnox_key("other", "1000001")
    assert ratelimit.hubspot_key(1001, HUB) != ratelimit.hubspot_key(1001, OTHER_HUB)
    assert ratelimit.hubspot_key(1001, HUB) != ratelimit.hubspot_key(1002, HUB)


def _interleaved_waits(calls_each: int, *calls) -> list[int]:
    """Make `calls_each` calls through each caller in turn; every call's rate-limit wait (ms)."""
    waits: list[int] = []
    for _ in range(calls_each):
        for call in calls:
            waits.extend(call())
    return waits


def _fortnox_caller(connection):
    records = []
    client = FortnoxClient(connection, observer=records.append)

    def call() -> list[int]:
        records.clear()
        client.company_information()
        return [r.waited_ms for r in records]

    return call


def _hubspot_caller(installation):
    records = []
    client = HubSpotClient(installation, observer=records.append)

    def call() -> list[int]:
        records.clear()
        crm.deal_pipelines(client)
        return [r.waited_ms for r in records]

    return call


@pytest.mark.django_db
def test_two_fortnox_companies_get_separate_buckets(connection_make, fresh_buckets):
    first = connection_make(HUB, FORTNOX_COMPANY)
    second = connection_make(OTHER_HUB, FORTNOX_NO_ORDER_COMPANY)
    assert first.database_number != second.database_number

    # A full allowance each, interleaved: in one shared log half of them would wait.
    waits = _interleaved_waits(ALLOWANCE, _fortnox_caller(first), _fortnox_caller(second))

    assert waits == [0] * 2 * ALLOWANCE


@pytest.mark.django_db
def test_one_fortnox_company_connected_to_two_portals_shares_its_bucket(
    connection_make, fresh_buckets
):
    # Fortnox counts per client id and company, whichever portal the token was issued for.
    first = connection_make(HUB, FORTNOX_COMPANY)
    second = connection_make(OTHER_HUB, FORTNOX_COMPANY)
    assert first.access_token != second.access_token

    waits = _interleaved_waits(ALLOWANCE, _fortnox_caller(first), _fortnox_caller(second))

    assert waits[:ALLOWANCE] == [0] * ALLOWANCE
    assert any(wait > 0 for wait in waits[ALLOWANCE:])


@pytest.mark.django_db
def test_hubspot_portals_get_separate_buckets(installation_make, fresh_buckets):
    first, second = installation_make(HUB), installation_make(OTHER_HUB)

    waits = _interleaved_waits(ALLOWANCE, _hubspot_caller(first), _hubspot_caller(second))

    assert waits == [0] * 2 * ALLOWANCE
    # The same number of calls from one portal does wait: the check above could fail.
    again = _interleaved_waits(ALLOWANCE, _hubspot_caller(first), _hubspot_caller(first))
    assert any(wait > 0 for wait in again)
